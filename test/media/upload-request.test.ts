// The fields of the upload form: what is required, and where each chunk goes.
import { describe, expect, it } from 'vitest';
import { MediaFailure } from '../../server/media/media-errors.ts';
import { mediaLimits } from '../../server/media/media-limits.ts';
import { checkFileName, chunkClaim, parseUploadRequest } from '../../server/media/upload-request.ts';
import { patternBytes, webUploadParts, type WebUpload } from './multipart-body.ts';

const limits = mediaLimits({ chunkBytes: 100, maxFileBytes: 10_000 });

function fieldsOf(u: WebUpload): Map<string, string> {
  return new Map(webUploadParts(u).filter((p) => p.filename === undefined).map((p) => [p.name, String(p.value)]));
}

function parse(u: Partial<WebUpload>, filename: string | undefined = 'photo.jpg') {
  return parseUploadRequest(fieldsOf({ file: patternBytes(250), ...u }), filename, limits);
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof MediaFailure) return e.code;
    throw e;
  }
  throw new Error('accepted');
}

describe('parseUploadRequest', () => {
  it('reads the web client fields', () => {
    const r = parse({ request: { FileMd5: 'ABCDEF0123456789ABCDEF0123456789' }, mediatype: 'doc' });
    expect(r).toMatchObject({ clientMediaId: '1700000000000', totalLen: 250, fileMd5: 'abcdef0123456789abcdef0123456789', mediaType: 'doc', name: 'photo.jpg' });
    expect(r.chunk).toBeUndefined();
  });

  it('places a whole file at StartPos for DataLen bytes', () => {
    expect(chunkClaim(parse({}), limits)).toEqual({ offset: 0, length: 250 });
    expect(chunkClaim(parse({ request: { StartPos: 100, DataLen: 50 } }), limits)).toEqual({ offset: 100, length: 50 });
  });

  it('places chunk i at i * chunkBytes, ignoring StartPos and DataLen, the last one shorter', () => {
    const chunk = (index: number) => chunkClaim(parse({ chunk: { index, count: 3, bytes: new Uint8Array() } }), limits);
    expect(chunk(0)).toEqual({ offset: 0, length: 100 });
    expect(chunk(1)).toEqual({ offset: 100, length: 100 });
    expect(chunk(2)).toEqual({ offset: 200, length: 50 });
    // Past the end: a claim the assembler refuses as beyond the end.
    const past = chunk(3);
    expect(past.offset + past.length).toBeGreaterThan(250);
  });

  it('refuses a chunk count that does not fit TotalLen, and chunk without chunks', () => {
    expect(codeOf(() => parse({ chunk: { index: 0, count: 2, bytes: new Uint8Array() } }))).toBe('MEDIA_BAD_REQUEST');
    expect(codeOf(() => parseUploadRequest(new Map([...fieldsOf({ file: patternBytes(250) }), ['chunk', '0']]), 'a.jpg', limits))).toBe('MEDIA_BAD_REQUEST');
  });

  it.each<[string, Partial<WebUpload>]>([
    ['UploadType', { request: { UploadType: 1 } }],
    ['MediaType', { request: { MediaType: 3 } }],
    ['BaseRequest', { request: { BaseRequest: 'x' } }],
    ['TotalLen', { request: { TotalLen: 0 } }],
    ['TotalLen as a string', { request: { TotalLen: '250' } }],
    ['StartPos', { request: { StartPos: -1 } }],
    ['FileMd5', { request: { FileMd5: 'abc' } }],
    ['ClientMediaId', { request: { ClientMediaId: 'a b' } }],
    ['FromUserName', { request: { FromUserName: undefined } }],
    ['mediatype', { mediatype: 'audio' }],
    ['size', { omit: [], request: { TotalLen: 251 } }],
  ])('refuses a bad %s', (_what, u) => {
    expect(codeOf(() => parse(u))).toBe('MEDIA_BAD_REQUEST');
  });

  it('takes the file part name when there is no name field, and needs one of them', () => {
    expect(parse({ omit: ['name'] }, 'from-part.png').name).toBe('from-part.png');
    const noName = fieldsOf({ file: patternBytes(250), omit: ['name'] });
    expect(codeOf(() => parseUploadRequest(noName, undefined, limits))).toBe('MEDIA_BAD_NAME');
  });
});

describe('checkFileName', () => {
  it.each(['a.jpg', '照片.jpg', 'résumé (1).pdf', '😀.png', '.hidden'])('accepts %j', (n) => {
    expect(checkFileName(n, 255)).toBeUndefined();
  });
  it.each(['', '/', 'a/b', 'a\\b', 'a\u0000b', 'a\nb', 'a\u007fb', '.', '..', 'bad\ud800half', 'é'.repeat(128)])('refuses %j', (n) => {
    expect(checkFileName(n, 255)?.code).toBe('MEDIA_BAD_NAME');
  });
});
