// The web client's media calls, by hand: a webwxuploadmedia form built byte
// for byte as the browser's FormData sends it (fields first, the file part
// `filename` last), posted over a fresh connection each time.
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { HttpDevice } from '../raw-client/http-device.ts';
import { WEB } from '../raw-client/http.ts';

export const CHUNK = 512 * 1024;
const BOUNDARY = '----WebKitFormBoundaryMediaTest7x';

export interface UploadSpec {
  clientMediaId: string;
  file: Buffer;
  name: string;
  to: string;
  /** Chunk index (with chunks = ceil(size / CHUNK)); absent: the whole file in one part. */
  chunk?: number;
  /** Declared FileMd5 (default: the file's). */
  md5?: string;
}

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json: any;
}

export function md5(b: Buffer): string {
  return createHash('md5').update(b).digest('hex');
}

export function uploadForm(d: HttpDevice, s: UploadSpec): Buffer {
  const total = s.file.length;
  const part = s.chunk === undefined ? s.file : s.file.subarray(s.chunk * CHUNK, Math.min((s.chunk + 1) * CHUNK, total));
  const request = {
    UploadType: 2,
    BaseRequest: d.baseRequest,
    ClientMediaId: s.clientMediaId,
    TotalLen: total,
    StartPos: 0,
    DataLen: total,
    MediaType: 4,
    FromUserName: d.userName,
    ToUserName: s.to,
    FileMd5: s.md5 ?? md5(s.file),
  };
  const fields: Array<[string, string]> = [
    ['id', 'WU_FILE_0'],
    ['name', s.name],
    ['type', 'image/png'],
    ['lastModifiedDate', 'Wed Dec 02 2026 10:00:00 GMT+0000'],
    ['size', String(total)],
  ];
  if (s.chunk !== undefined) fields.push(['chunks', String(Math.ceil(total / CHUNK))], ['chunk', String(s.chunk)]);
  fields.push(['mediatype', 'pic'], ['uploadmediarequest', JSON.stringify(request)], ['webwx_data_ticket', 'ticket'], ['pass_ticket', 'pass']);
  const pieces: Buffer[] = [];
  for (const [k, v] of fields) pieces.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  pieces.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="filename"; filename="${s.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
  pieces.push(part, Buffer.from(`\r\n--${BOUNDARY}--\r\n`));
  return Buffer.concat(pieces);
}

export function request(base: string, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const u = new URL(base + path);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, method, path: u.pathname + u.search, agent: false, headers: { ...headers, ...(body ? { 'Content-Length': String(body.length) } : {}) } },
      (res) => {
        const got: Buffer[] = [];
        res.on('data', (c: Buffer) => got.push(c));
        res.on('end', () => {
          const b = Buffer.concat(got);
          let json: any;
          try {
            json = JSON.parse(b.toString('utf8'));
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export function upload(d: HttpDevice, s: UploadSpec): Promise<RawAnswer> {
  return request(d.base, 'POST', `${WEB}webwxuploadmedia?f=json`, uploadForm(d, s), { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` });
}

/** Send the head of an upload's body over a raw socket; after `whileOpen`, destroy it: a client that dies mid-upload. */
export async function cutUpload(d: HttpDevice, s: UploadSpec, sendBytes: number, whileOpen: () => Promise<void>): Promise<void> {
  const body = uploadForm(d, s);
  const u = new URL(d.base);
  const sock = net.connect(Number(u.port), u.hostname);
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  sock.on('error', () => {});
  const head = `POST ${WEB}webwxuploadmedia?f=json HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${body.length}\r\n\r\n`;
  await new Promise<void>((resolve) => sock.write(Buffer.concat([Buffer.from(head), body.subarray(0, sendBytes)]), () => resolve()));
  await whileOpen();
  sock.destroy();
}
