// webwxuploadmedia end to end, short of HTTP: real multipart bodies through
// busboy, the assembler, the files (in memory, and on disk once), the records.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FsMediaFiles, type MediaFiles } from '../../server/media/media-files.ts';
import { mediaLimits, type MediaLimits } from '../../server/media/media-limits.ts';
import { MemoryMediaRecords } from '../../server/media/media-records.ts';
import { MemoryMediaFiles } from '../../server/media/memory-media-files.ts';
import { UploadAssembler } from '../../server/media/upload-assembler.ts';
import { sweepUploads, uploadMedia, type UploadAnswer, type UploadDeps } from '../../server/media/upload-media.ts';
import { bodyStream, md5Hex, multipartBody, patternBytes, sha256Hex, webUploadParts, type WebUpload } from './multipart-body.ts';

const CHUNK = 1024;
const base = mediaLimits({ chunkBytes: CHUNK, maxFileBytes: 8 * CHUNK, maxInProgressBytesPerAccount: 16 * CHUNK, maxStoredBytesPerAccount: 20 * CHUNK, uploadTtlMs: 60_000 });

interface World {
  deps: UploadDeps;
  records: MemoryMediaRecords;
  setNow(t: number): void;
}

function world(files: MediaFiles = new MemoryMediaFiles(), limits: MediaLimits = base): World {
  let now = 1_000;
  let n = 0;
  const records = new MemoryMediaRecords();
  const deps: UploadDeps = {
    assembler: new UploadAssembler(limits),
    files,
    records,
    random: { bytes: (k) => Uint8Array.from({ length: k }, () => n++ & 0xff) },
    limits,
    clock: () => now,
    async authenticate(req) {
      if (req.baseRequest.Sid === 'expired') return { refused: { Ret: 1100, ErrMsg: 'session expired' } };
      return { uin: Number(req.baseRequest.Uin) };
    },
  };
  return { deps, records, setNow: (t) => (now = t) };
}

function send(w: World, u: WebUpload, cut = 0): Promise<UploadAnswer> {
  const { headers, body } = multipartBody(webUploadParts(u));
  return uploadMedia(w.deps, headers, bodyStream(cut ? body.subarray(0, body.length - cut) : body, 700));
}

/** Chunk `index` of `file` in the web client's way. */
function chunk(file: Uint8Array, index: number, extra: Partial<WebUpload> = {}): WebUpload {
  const count = Math.ceil(file.length / CHUNK);
  return { file, chunk: { index, count, bytes: file.subarray(index * CHUNK, (index + 1) * CHUNK) }, ...extra };
}

const asUser = (uin: number) => ({ request: { BaseRequest: { Uin: uin, Sid: 's', Skey: 'k', DeviceID: 'e1' } } });

describe('uploadMedia', () => {
  it('stores a small file sent whole and answers its MediaId', async () => {
    const w = world();
    const file = patternBytes(700);
    const a = await send(w, { file, ...asUser(5) });
    expect(a.BaseResponse).toEqual({ Ret: 0, ErrMsg: '' });
    expect(a.MediaId).toMatch(/^@media_/);
    expect(a).toMatchObject({ StartPos: 700, CDNThumbImgHeight: 0, CDNThumbImgWidth: 0 });
    expect(await w.records.get(a.MediaId)).toMatchObject({ ownerUin: 5, size: 700, sha256: sha256Hex(file), md5: md5Hex(file), name: 'photo.jpg', mediaType: 'pic' });
  });

  it('assembles chunks sent out of order and again, and answers the MediaId with the last', async () => {
    const w = world();
    const file = patternBytes(3 * CHUNK - 100, 2);
    expect(await send(w, chunk(file, 2))).toMatchObject({ MediaId: '', StartPos: 0 });
    expect(await send(w, chunk(file, 0))).toMatchObject({ MediaId: '', StartPos: CHUNK });
    expect(await send(w, chunk(file, 0))).toMatchObject({ BaseResponse: { Ret: 0 }, MediaId: '', StartPos: CHUNK });
    const last = await send(w, chunk(file, 1));
    expect(last.MediaId).toMatch(/^@media_/);
    const files = w.deps.files as MemoryMediaFiles;
    expect(files.partCount).toBe(0);
    expect(await files.contentSize(sha256Hex(file))).toBe(file.length);
  });

  it('refuses a chunk with other bytes than those received, and counts nothing of it', async () => {
    const w = world();
    const file = patternBytes(2 * CHUNK, 3);
    await send(w, chunk(file, 0));
    const forged = chunk(file, 0);
    forged.chunk!.bytes = Uint8Array.from(forged.chunk!.bytes, (b, i) => (i === 500 ? b ^ 1 : b));
    const a = await send(w, forged);
    expect(a.BaseResponse.Ret).toBe(1102);
    expect(a.BaseResponse.ErrMsg).toBe('MEDIA_CHUNK_CONFLICT: byte 500 differs from the one received before');
    expect(w.deps.assembler.missing(1, '1700000000000')).toEqual([{ start: CHUNK, end: 2 * CHUNK }]);
    expect((await send(w, chunk(file, 1))).MediaId).toMatch(/^@media_/);
  });

  it('drops an upload whose bytes do not match FileMd5, storing nothing', async () => {
    const w = world();
    const file = patternBytes(2 * CHUNK, 4);
    const wrong = { request: { FileMd5: md5Hex(patternBytes(10)) } };
    await send(w, chunk(file, 0, wrong));
    const a = await send(w, chunk(file, 1, wrong));
    expect(a.BaseResponse.ErrMsg).toMatch(/^MEDIA_MD5_MISMATCH: /);
    expect(a.MediaId).toBe('');
    expect(w.records.size).toBe(0);
    expect((w.deps.files as MemoryMediaFiles).contentCount).toBe(0);
    expect((w.deps.files as MemoryMediaFiles).partCount).toBe(0);
    expect(w.deps.assembler.size).toBe(0);
  });

  it('refuses a chunk beyond TotalLen, a file part of the wrong length, and a file over the limit, storing nothing', async () => {
    const w = world();
    const file = patternBytes(2 * CHUNK, 5);
    const beyond = chunk(file, 2);
    beyond.chunk!.bytes = patternBytes(10);
    expect((await send(w, beyond)).BaseResponse.ErrMsg).toMatch(/^MEDIA_CHUNK_BEYOND_END: /);
    const short = chunk(file, 0);
    short.chunk!.bytes = short.chunk!.bytes.subarray(0, CHUNK - 1);
    expect((await send(w, short)).BaseResponse.ErrMsg).toMatch(/^MEDIA_CHUNK_LENGTH: /);
    const whole = patternBytes(300);
    expect((await send(w, { file: whole, request: { DataLen: 200 } })).BaseResponse.ErrMsg).toMatch(/^MEDIA_CHUNK_LENGTH: /);
    const huge = patternBytes(8 * CHUNK + 1);
    const tooBig = await send(w, chunk(huge, 0));
    expect(tooBig.BaseResponse).toMatchObject({ Ret: 1105 });
    expect(tooBig.BaseResponse.ErrMsg).toMatch(/^MEDIA_TOO_LARGE: /);
    expect(w.deps.assembler.size).toBe(0);
    expect((w.deps.files as MemoryMediaFiles).partCount).toBe(0);
  });

  it('counts nothing of a body cut short, and the resent chunk completes the upload', async () => {
    const w = world();
    const file = patternBytes(2 * CHUNK, 6);
    await send(w, chunk(file, 0));
    // Every cut from inside the file part to inside the closing boundary (the
    // last two bytes are the line break after it: without them the form is whole).
    for (let cut = 3; cut <= 120; cut++) {
      const a = await send(w, chunk(file, 1), cut);
      expect(a.BaseResponse.ErrMsg).toMatch(/^MEDIA_BODY_CUT_SHORT: /);
      expect(w.deps.assembler.missing(1, '1700000000000')).toEqual([{ start: CHUNK, end: 2 * CHUNK }]);
    }
    expect((await send(w, chunk(file, 1))).MediaId).toMatch(/^@media_/);
  });

  it('leaves no upload behind when the first chunk is cut short', async () => {
    const w = world();
    await send(w, chunk(patternBytes(2 * CHUNK, 7), 0), 200);
    expect(w.deps.assembler.size).toBe(0);
    expect((w.deps.files as MemoryMediaFiles).partCount).toBe(0);
  });

  it('answers the same MediaId to a retried last chunk', async () => {
    const w = world();
    const file = patternBytes(2 * CHUNK, 8);
    await send(w, chunk(file, 0));
    const first = await send(w, chunk(file, 1));
    const again = await send(w, chunk(file, 1));
    expect(again).toEqual(first);
    expect(w.records.size).toBe(1);
    // The same ClientMediaId for another file is refused.
    expect((await send(w, { file: patternBytes(10) })).BaseResponse.ErrMsg).toMatch(/^MEDIA_UPLOAD_MISMATCH: /);
  });

  it('stores identical content once for two accounts, with a MediaId each', async () => {
    const w = world();
    const file = patternBytes(900, 9);
    const a = await send(w, { file, ...asUser(1) });
    const b = await send(w, { file, ...asUser(2) });
    expect(a.MediaId).not.toBe(b.MediaId);
    expect((await w.records.get(b.MediaId))?.ownerUin).toBe(2);
    expect((w.deps.files as MemoryMediaFiles).contentCount).toBe(1);
  });

  it('holds the stored quota', async () => {
    const w = world(new MemoryMediaFiles(), mediaLimits({ ...base, maxStoredBytesPerAccount: 1500 }));
    expect((await send(w, { file: patternBytes(1000), clientMediaId: 1 })).MediaId).not.toBe('');
    const over = await send(w, { file: patternBytes(501, 2), clientMediaId: 2 });
    expect(over.BaseResponse).toMatchObject({ Ret: 1108 });
    expect(over.BaseResponse.ErrMsg).toMatch(/^MEDIA_QUOTA: /);
    expect((await send(w, { file: patternBytes(500, 2), clientMediaId: 3 })).MediaId).not.toBe('');
  });

  it('answers a session refusal before taking any byte', async () => {
    const w = world();
    const a = await send(w, { file: patternBytes(100), request: { BaseRequest: { Uin: 1, Sid: 'expired' } } });
    expect(a).toMatchObject({ BaseResponse: { Ret: 1100, ErrMsg: 'session expired' }, MediaId: '' });
    expect(w.deps.assembler.size).toBe(0);
  });

  it('starts an abandoned upload over once uploadTtlMs has passed', async () => {
    const w = world();
    const file = patternBytes(2 * CHUNK, 10);
    await send(w, chunk(file, 0));
    w.setNow(1_000 + 60_000);
    expect(await sweepUploads(w.deps, 1_000 + 60_000)).toBe(1);
    expect((w.deps.files as MemoryMediaFiles).partCount).toBe(0);
    expect(await send(w, chunk(file, 1))).toMatchObject({ MediaId: '', StartPos: 0 });
  });
});

describe('uploadMedia on disk', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stores the assembled file under its hash and leaves no part file', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'upload-media-'));
    const files = await FsMediaFiles.open(dir);
    const w = world(files);
    const file = patternBytes(3 * CHUNK + 17, 11);
    for (const i of [3, 1, 0, 2]) await send(w, chunk(file, i));
    const records = [...(await Promise.all([w.records.byClientMediaId(1, '1700000000000')]))];
    expect(records[0]?.sha256).toBe(sha256Hex(file));
    expect(await readdir(path.join(dir, 'media', 'tmp'))).toEqual([]);
    expect(await files.contentSize(sha256Hex(file))).toBe(file.length);
  });
});
