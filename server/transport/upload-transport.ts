// The media side of the HTTP transport: a webwxuploadmedia body streamed
// through the form parser into the media files (server/media/upload-media.ts),
// never buffered whole, and a fetch's bytes streamed from the media files.
// The node decides (who sends, what is recorded, who may fetch which bytes:
// server/node/media-api.ts); this file only moves bytes.
//
// An upload has its own body limit (one chunk plus the form around it,
// uploadBodyLimit) and the transport's body deadline; over either it is 413
// or 408. After any refusal the connection closes: the body may be partly
// unread, so the connection cannot carry another request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import type { RandomSource } from '../core/deps.ts';
import type { MediaLookupReply } from '../core/media.ts';
import { Ret, errorReply } from '../core/ret.ts';
import type { MediaFiles } from '../media/media-files.ts';
import type { MediaRecord } from '../media/media-id.ts';
import { uploadBodyLimit, type MediaLimits } from '../media/media-limits.ts';
import type { MediaRecords } from '../media/media-records.ts';
import { UploadAssembler } from '../media/upload-assembler.ts';
import { sweepUploads, uploadMedia, type UploadAuth, type UploadDeps } from '../media/upload-media.ts';
import { UPLOAD_PATH, errorAnswer, jsonAnswer, parseCookies, splitUrl, type HttpAnswer } from '../node/http-api.ts';
import type { MediaApi } from '../node/media-api.ts';

export interface UploadTransportOptions {
  media: MediaApi;
  files: MediaFiles;
  limits: MediaLimits;
  random: RandomSource;
  /** After every command handed to the node (the app schedules the group commit). */
  afterInput: () => void;
  bodyTimeoutMs: number;
  /** A refused connection is destroyed this long after its answer, if still open. */
  closeGraceMs: number;
  /** The server is shutting down: uploads are refused (503). */
  closing: () => boolean;
  clock?: () => number;
}

export class UploadTransport {
  readonly assembler: UploadAssembler;
  readonly maxBody: number;
  private readonly deps: Omit<UploadDeps, 'authenticate'>;
  /** Uploads being read, and their bytes on the wire so far (tests and stats read them). */
  active = 0;

  constructor(private readonly o: UploadTransportOptions) {
    this.assembler = new UploadAssembler(o.limits);
    this.maxBody = uploadBodyLimit(o.limits);
    this.deps = { assembler: this.assembler, files: o.files, records: new NodeMediaRecords(o.media, o.afterInput), random: o.random, limits: o.limits, clock: o.clock ?? Date.now };
  }

  handles(req: IncomingMessage): boolean {
    return req.method === 'POST' && splitUrl(req.url ?? '/').path === UPLOAD_PATH;
  }

  /** Uploads idle past uploadTtlMs give their room back (ticked by the app). */
  sweep(now: number): void {
    void sweepUploads(this.deps, now);
  }

  upload(req: IncomingMessage, res: ServerResponse): void {
    req.on('error', () => {});
    res.on('error', () => {});
    let done = false;
    // The form reads this, not the request: a refusal cuts it off at once, whatever is still on the wire.
    const body = new PassThrough();
    // A pipe does not pass on a connection that died mid-body: the form must hear of it to stop.
    req.on('close', () => {
      if (!req.complete) body.destroy();
    });
    const finish = (answer: HttpAnswer, close: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (close) {
        // The form stops here (a parse under way ends as cut short, its chunk not counted); the rest of the
        // body is dropped until the answer is out, and a client still sending after the grace is cut.
        req.unpipe(body);
        body.destroy();
        req.resume();
        setTimeout(() => req.socket.destroy(), this.o.closeGraceMs).unref();
      }
      writeAnswer(res, answer, close);
    };
    const timer = setTimeout(
      () => finish(errorAnswer(408, Ret.BadRequest, `HTTP_BODY_TIMEOUT: the request body did not arrive within ${this.o.bodyTimeoutMs} ms`), true),
      this.o.bodyTimeoutMs,
    );
    timer.unref();
    // The deadline is the body's: once it is all here, storing the file and its record may take their time.
    req.on('end', () => clearTimeout(timer));
    if (this.o.closing()) return finish(errorAnswer(503, Ret.Busy, 'server is shutting down; retry'), true);
    const tooLarge = (): void => finish(errorAnswer(413, Ret.BadRequest, `request body is larger than ${this.maxBody} bytes (one chunk of ${this.o.limits.chunkBytes} and its form)`), true);
    if (Number(req.headers['content-length'] ?? 0) > this.maxBody) return tooLarge();
    let seen = 0;
    req.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > this.maxBody) tooLarge();
    });
    const cookies = parseCookies(req.headers.cookie);
    const { query } = splitUrl(req.url ?? '/');
    const remote = req.socket.remoteAddress ?? '';
    const authenticate = (r: { baseRequest: Record<string, unknown>; fromUserName: string }): Promise<UploadAuth> =>
      new Promise((resolve) => {
        this.o.media.uploader(r.baseRequest, cookies, query, r.fromUserName, remote, this.deps.clock(), (reply) =>
          resolve('uin' in reply && reply.BaseResponse.Ret === Ret.Ok ? { uin: reply.uin } : { refused: reply.BaseResponse }),
        );
        this.o.afterInput();
      });
    this.active++;
    uploadMedia({ ...this.deps, authenticate }, req.headers, req.pipe(body)).then(
      (answer) => {
        this.active--;
        const ok = answer.BaseResponse.Ret === Ret.Ok;
        finish(jsonAnswer(answer), !ok);
      },
      (e: unknown) => {
        this.active--;
        finish(errorAnswer(500, Ret.ServerError, `MEDIA_IO: ${(e as Error)?.message ?? String(e)}`), true);
      },
    );
  }

  /** Write an answer that names stored content, streaming it from the media files; false if it names none. */
  write(res: ServerResponse, a: HttpAnswer, closeAfter: boolean): boolean {
    if (!a.media) return false;
    if (res.headersSent || res.destroyed) return true;
    const { sha256, start, end } = a.media;
    const headers: Record<string, string | number> = { ...a.headers, 'Content-Type': a.contentType, 'Content-Length': end - start + 1 };
    if (closeAfter) headers['Connection'] = 'close';
    const body = this.o.files.readContent(sha256, start, end);
    // A file gone or unreadable: the length is promised already, so the connection is cut (the client sees a short body).
    body.on('error', () => res.destroy());
    res.on('close', () => body.destroy());
    res.writeHead(a.status, headers);
    body.pipe(res);
    return true;
  }
}

function writeAnswer(res: ServerResponse, a: HttpAnswer, close: boolean): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string | number> = { ...a.headers, 'Content-Type': a.contentType, 'Content-Length': Buffer.byteLength(a.body) };
  if (close) headers['Connection'] = 'close';
  res.writeHead(a.status, headers);
  res.end(a.body);
}

/** The store's media records, through the node's commands: put resolves once committed. */
class NodeMediaRecords implements MediaRecords {
  constructor(
    private readonly media: MediaApi,
    private readonly afterInput: () => void,
  ) {}

  get(mediaId: string): Promise<MediaRecord | undefined> {
    return this.ask<MediaLookupReply>((done) => this.media.record(mediaId, done)).then((r) => r.record);
  }

  byClientMediaId(uin: number, clientMediaId: string): Promise<MediaRecord | undefined> {
    return this.ask<MediaLookupReply>((done) => this.media.lookup(uin, clientMediaId, done)).then((r) => r.record);
  }

  storedBytes(uin: number): Promise<number> {
    // No ClientMediaId is '' (they are 1 to 64 characters): this reads the sum alone.
    return this.ask<MediaLookupReply>((done) => this.media.lookup(uin, '', done)).then((r) => r.storedBytes);
  }

  put(record: MediaRecord): Promise<void> {
    return this.ask((done) => this.media.put(record, done)).then(() => undefined);
  }

  private ask<R extends { BaseResponse: { Ret: number; ErrMsg: string } }>(start: (done: (r: R | ReturnType<typeof errorReply>) => void) => void): Promise<R> {
    return new Promise((resolve, reject) => {
      start((r) => (r.BaseResponse.Ret === Ret.Ok ? resolve(r as R) : reject(new Error(r.BaseResponse.ErrMsg))));
      this.afterInput();
    });
  }
}
