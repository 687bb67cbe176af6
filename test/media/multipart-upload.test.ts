// Real multipart bodies through busboy: the form is read, the file part is
// streamed to the caller, and every broken body is a clear MediaFailure.
import { PassThrough, type Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MediaFailure } from '../../server/media/media-errors.ts';
import { mediaLimits } from '../../server/media/media-limits.ts';
import { readUploadForm } from '../../server/media/multipart-upload.ts';
import { bodyStream, multipartBody, patternBytes, webUploadParts, type Part, type WebUpload } from './multipart-body.ts';

const limits = mediaLimits({ chunkBytes: 4096, maxFileBytes: 64 * 1024, maxFields: 14, maxFieldBytes: 1024 });

async function drain(file: Readable): Promise<{ bytes: Buffer; pieces: number }> {
  const out: Buffer[] = [];
  for await (const c of file) out.push(c as Buffer);
  return { bytes: Buffer.concat(out), pieces: out.length };
}

function read(parts: readonly Part[], opts: { cut?: number; pieceBytes?: number; headers?: Record<string, string> } = {}) {
  const { headers, body } = multipartBody(parts);
  const sent = opts.cut === undefined ? body : body.subarray(0, body.length - opts.cut);
  return readUploadForm(opts.headers ?? headers, bodyStream(sent, opts.pieceBytes ?? 512), limits, (_form, file) => drain(file));
}

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof MediaFailure) return e.code;
    throw e;
  }
  throw new Error('the form was accepted');
}

const upload = (u: Partial<WebUpload> = {}) => webUploadParts({ file: patternBytes(3000), ...u });

describe('readUploadForm', () => {
  it('reads the web client form and streams the file in pieces', async () => {
    const file = patternBytes(3000);
    const { form, result } = await read(webUploadParts({ file, name: 'cat picture.jpg', clientMediaId: 42 }));
    expect(result.bytes).toEqual(Buffer.from(file));
    expect(form.request).toMatchObject({ clientMediaId: '42', totalLen: 3000, name: 'cat picture.jpg', mediaType: 'pic', fromUserName: '@alice', toUserName: '@bob', dataTicket: 'ticket', passTicket: 'pass' });
    expect(form.fields.get('id')).toBe('WU_FILE_0');
  });

  it('decodes a UTF-8 file name', async () => {
    const { form } = await read(upload({ name: '照片 1.jpg' }));
    expect(form.request.name).toBe('照片 1.jpg');
  });

  it('hands the file over before the body has all arrived', async () => {
    const { headers, body } = multipartBody(upload({ file: patternBytes(4000) }));
    const socket = new PassThrough();
    let firstPiece!: () => void;
    const gotPiece = new Promise<void>((r) => (firstPiece = r));
    const reading = readUploadForm(headers, socket, limits, async (_f, file) => {
      let n = 0;
      for await (const c of file) {
        n += (c as Buffer).length;
        firstPiece();
      }
      return n;
    });
    socket.write(body.subarray(0, body.length - 2000));
    await gotPiece; // never resolves if the parser held the file back until the end
    socket.end(body.subarray(body.length - 2000));
    expect((await reading).result).toBe(4000);
  });

  it('accepts a file part of exactly chunkBytes and refuses one byte more', async () => {
    const exact = patternBytes(4096);
    expect((await read(webUploadParts({ file: exact }))).result.bytes.length).toBe(4096);
    expect(await failure(read(webUploadParts({ file: patternBytes(4097) })))).toBe('MEDIA_CHUNK_TOO_LARGE');
  });

  it.each([
    ['in the file part', 1000],
    ['before the closing boundary', 10],
    ['in the closing boundary', 4],
  ])('refuses a body cut short %s', async (_where, cut) => {
    expect(await failure(read(upload(), { cut }))).toBe('MEDIA_BODY_CUT_SHORT');
  });

  it.each([
    ['with an error', new Error('ECONNRESET')],
    ['quietly', undefined],
  ])('refuses a body whose connection closes mid-way %s', async (_how, error) => {
    const { headers, body } = multipartBody(upload());
    const socket = new PassThrough();
    const reading = readUploadForm(headers, socket, limits, (_f, file) => drain(file));
    socket.write(body.subarray(0, body.length - 1500));
    socket.destroy(error);
    expect(await failure(reading)).toBe('MEDIA_BODY_CUT_SHORT');
  });

  it.each(['../etc/passwd', 'a/b.jpg', 'a\\b.jpg', 'nul\u0000.jpg', '..', 'tab\there.jpg', 'x'.repeat(256)])('refuses the file name %j in the name field', async (name) => {
    expect(await failure(read(upload({ name, filename: 'ok.jpg' })))).toBe('MEDIA_BAD_NAME');
  });

  it('refuses a NUL or a separator in the file part filename, however it is encoded', async () => {
    // Raw in the header, busboy itself refuses it as a malformed header.
    const raw = upload({ name: 'ok.jpg', filename: 'nul\u0000.jpg' });
    expect(['MEDIA_BAD_NAME', 'MEDIA_MALFORMED']).toContain(await failure(read(raw)));
    for (const encoded of ["filename*=UTF-8''nul%00.jpg", "filename*=UTF-8''..%2Fup.jpg"]) {
      const parts = upload({ name: 'ok.jpg' });
      const file = parts.pop()!;
      const { filename: _dropped, ...rest } = file;
      expect(await failure(read([...parts, { ...rest, dispositionExtra: encoded }]))).toBe('MEDIA_BAD_NAME');
    }
  });

  it('refuses a path in the file part filename even when the name field is clean', async () => {
    expect(await failure(read(upload({ name: 'ok.jpg', filename: 'C:\\Users\\me\\ok.jpg' })))).toBe('MEDIA_BAD_NAME');
  });

  it('refuses a form without uploadmediarequest, or with one that is not JSON', async () => {
    expect(await failure(read(upload({ omit: ['uploadmediarequest'] })))).toBe('MEDIA_NO_REQUEST');
    expect(await failure(read(upload({ rawRequest: '{"UploadType":2,' })))).toBe('MEDIA_BAD_JSON');
    expect(await failure(read(upload({ rawRequest: '[1,2]' })))).toBe('MEDIA_BAD_JSON');
  });

  it('refuses uploadmediarequest after the file: the request must be known before its bytes', async () => {
    const parts = upload();
    const file = parts.pop()!;
    const req = parts.findIndex((p) => p.name === 'uploadmediarequest');
    const [moved] = parts.splice(req, 1);
    expect(await failure(read([...parts, file, moved!]))).toBe('MEDIA_NO_REQUEST');
  });

  it('refuses a form without a file, with two files, or with a file under another name', async () => {
    expect(await failure(read(upload({ omit: ['filename'] })))).toBe('MEDIA_NO_FILE');
    const parts = upload();
    expect(await failure(read([...parts, { ...parts[parts.length - 1]!, name: 'filename' }]))).toBe('MEDIA_TOO_MANY_PARTS');
    const renamed = upload();
    renamed[renamed.length - 1] = { ...renamed[renamed.length - 1]!, name: 'file' };
    expect(await failure(read(renamed))).toBe('MEDIA_BAD_REQUEST');
  });

  it('refuses repeated, oversized and too many fields', async () => {
    const parts = upload();
    expect(await failure(read([{ name: 'mediatype', value: 'doc' }, ...parts]))).toBe('MEDIA_FIELD_REPEATED');
    expect(await failure(read([{ name: 'junk', value: 'x'.repeat(1025) }, ...parts]))).toBe('MEDIA_FIELD_TOO_LARGE');
    const many = Array.from({ length: 10 }, (_, i) => ({ name: `extra${i}`, value: 'x' }));
    expect(await failure(read([...many, ...parts]))).toBe('MEDIA_TOO_MANY_PARTS');
  });

  it('refuses a body that is not multipart, or whose part headers are broken', async () => {
    expect(await failure(read(upload(), { headers: { 'content-type': 'application/json' } }))).toBe('MEDIA_NOT_MULTIPART');
    expect(await failure(read(upload(), { headers: { 'content-type': 'multipart/form-data' } }))).toBe('MEDIA_NOT_MULTIPART');
    const { headers } = multipartBody([]);
    const broken = Buffer.from('--' + headers['content-type']!.split('boundary=')[1] + '\r\nContent-Disposition form-data\r\n\r\nx\r\n');
    const reading = readUploadForm(headers, bodyStream(broken), limits, (_f, file) => drain(file));
    expect(['MEDIA_MALFORMED', 'MEDIA_BODY_CUT_SHORT']).toContain(await failure(reading));
  });

  it('passes on the refusal of the file consumer and stops reading', async () => {
    const { headers, body } = multipartBody(upload());
    const reading = readUploadForm(headers, bodyStream(body, 256), limits, async (_f, file) => {
      for await (const _ of file) throw new MediaFailure({ code: 'MEDIA_CHUNK_CONFLICT', ret: 1102, message: 'MEDIA_CHUNK_CONFLICT: test' });
      return 0;
    });
    expect(await failure(reading)).toBe('MEDIA_CHUNK_CONFLICT');
  });
});
