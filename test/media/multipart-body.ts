// Builds real multipart/form-data bodies for the media tests, the way a
// browser's FormData would (RFC 7578): the tests feed them to busboy, never
// to a parser of their own.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

export interface Part {
  name: string;
  value: string | Uint8Array;
  /** Present for a file part. */
  filename?: string;
  contentType?: string;
  /** Raw parameters appended to Content-Disposition (say, an RFC 5987 `filename*`). */
  dispositionExtra?: string;
}

export const BOUNDARY = '----WebKitFormBoundaryq1w2e3r4t5y6u7i8';

export function multipartBody(parts: readonly Part[], boundary = BOUNDARY): { headers: Record<string, string>; body: Buffer } {
  const pieces: Buffer[] = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) head += `; filename="${p.filename}"`;
    if (p.dispositionExtra !== undefined) head += `; ${p.dispositionExtra}`;
    head += '\r\n';
    if (p.filename !== undefined || p.dispositionExtra !== undefined || p.contentType) head += `Content-Type: ${p.contentType ?? 'application/octet-stream'}\r\n`;
    pieces.push(Buffer.from(head + '\r\n', 'utf8'), Buffer.from(p.value), Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return { headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body: Buffer.concat(pieces) };
}

/** A body as a stream of pieces of at most `pieceBytes`, as a socket would deliver it. */
export function bodyStream(body: Uint8Array, pieceBytes = 16 * 1024): Readable {
  const pieces: Buffer[] = [];
  for (let i = 0; i < body.length; i += pieceBytes) pieces.push(Buffer.from(body.subarray(i, i + pieceBytes)));
  return Readable.from(pieces, { objectMode: false });
}

export function md5Hex(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Deterministic bytes that differ from position to position (and from seed to seed). */
export function patternBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export interface WebUpload {
  file: Uint8Array;
  clientMediaId?: string | number;
  name?: string;
  mediatype?: string;
  /** For a chunked upload: which chunk, of how many, and its bytes. */
  chunk?: { index: number; count: number; bytes: Uint8Array };
  /** Overrides of uploadmediarequest's members (undefined deletes one). */
  request?: Record<string, unknown>;
  /** The raw uploadmediarequest field instead of the JSON of `request`. */
  rawRequest?: string;
  /** The file part's filename (default: name). */
  filename?: string;
  omit?: string[];
}

/** The form the web client sends: its fields in its order, the file part last. */
export function webUploadParts(u: WebUpload): Part[] {
  const name = u.name ?? 'photo.jpg';
  const req: Record<string, unknown> = {
    UploadType: 2,
    BaseRequest: { Uin: 1, Sid: 'sid', Skey: '@crypt_skey', DeviceID: 'e1234567890' },
    ClientMediaId: u.clientMediaId ?? 1700000000000,
    TotalLen: u.file.length,
    StartPos: 0,
    DataLen: u.file.length,
    MediaType: 4,
    FromUserName: '@alice',
    ToUserName: '@bob',
    FileMd5: md5Hex(u.file),
  };
  for (const [k, v] of Object.entries(u.request ?? {})) {
    if (v === undefined) delete req[k];
    else req[k] = v;
  }
  const fields: [string, string][] = [
    ['id', 'WU_FILE_0'],
    ['name', name],
    ['type', 'image/jpeg'],
    ['lastModifiedDate', 'Mon Jan 01 2024 00:00:00 GMT+0800'],
    ['size', String(u.file.length)],
  ];
  if (u.chunk) fields.push(['chunks', String(u.chunk.count)], ['chunk', String(u.chunk.index)]);
  fields.push(
    ['mediatype', u.mediatype ?? 'pic'],
    ['uploadmediarequest', u.rawRequest ?? JSON.stringify(req)],
    ['webwx_data_ticket', 'ticket'],
    ['pass_ticket', 'pass'],
  );
  const parts: Part[] = fields.filter(([k]) => !(u.omit ?? []).includes(k)).map(([k, v]) => ({ name: k, value: v }));
  if (!(u.omit ?? []).includes('filename')) {
    parts.push({ name: 'filename', filename: u.filename ?? name, value: u.chunk ? u.chunk.bytes : u.file, contentType: 'image/jpeg' });
  }
  return parts;
}
