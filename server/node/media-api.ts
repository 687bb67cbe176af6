// The media endpoints at the node (docs/protocol.md 5.14), sans-IO like the
// rest of it: the node decides who may upload, send and fetch, and records
// finished uploads through the runner like any write; the transport does the
// file I/O. A fetch's answer names the stored content and the byte range
// (HttpAnswer.media), which the transport streams from disk.
//
// The upload's body never reaches the node (the transport streams it through
// the form parser into the media files): the transport asks the sender
// (uploader), what is recorded (lookup) and to record (put), each a command.
import type { Caller } from '../core/auth.ts';
import type { FetchTarget, MediaFetchReply, MediaLookupReply, UploaderReply } from '../core/media.ts';
import type { Plan } from '../core/plan.ts';
import type { MediaSend } from '../core/send.ts';
import type { ProtocolCore } from '../core/protocol-core.ts';
import { Ret, type BaseResponse, type ErrorReply } from '../core/ret.ts';
import { isObj } from '../core/validate.ts';
import type { MediaRecord } from '../media/media-id.ts';
import { parseRange } from '../media/range.ts';
import { identiconPng } from '../web/identicon.ts';
import type { Step } from '../store/store-ops.ts';
import { errorAnswer, jsonAnswer, type HttpAnswer, type HttpRequestHeaders, type MediaEndpoint } from './http-api.ts';
import type { Done } from './runner.ts';
import { requestBody, webIdentity } from './web-login.ts';

/** The node's command lanes: `client` names the fairness lane, as for every HTTP command. */
export type MediaSubmit = <R>(client: string, step: Step<Plan<R>>, done: Done<R>) => void;

type Reply = { BaseResponse: BaseResponse };

export interface MediaRequest {
  req: number;
  endpoint: MediaEndpoint;
  query: Record<string, string>;
  body: string;
  cookies: Record<string, string>;
  headers: HttpRequestHeaders;
  remote: string;
  now: number;
}

export class MediaApi {
  constructor(
    private readonly core: ProtocolCore,
    private readonly submit: MediaSubmit,
    private readonly respond: (req: number, answer: HttpAnswer) => void,
  ) {}

  http(r: MediaRequest): void {
    if (r.endpoint === 'webwxuploadmedia') {
      return this.respond(r.req, errorAnswer(400, Ret.BadRequest, 'MEDIA_NOT_MULTIPART: this server takes uploads only as a streamed multipart/form-data body'));
    }
    if (r.endpoint === 'webwxgeticon' || r.endpoint === 'webwxgetheadimg') return this.avatar(r);
    const sends = SENDS[r.endpoint];
    if (sends === undefined) return this.fetch(r);
    const parsed = requestBody(r.body, false);
    if ('error' in parsed) return this.respond(r.req, errorAnswer(400, Ret.BadRequest, parsed.error));
    const base = parsed.json['BaseRequest'];
    const caller: Caller = { kind: 'http', base, checkSkey: true, web: webIdentity(r.query, r.cookies, false) };
    const step = this.core.send(caller, parsed.json['Msg'], r.now, sends);
    this.submit(lane(base, r.remote), step, (reply: Reply) => this.respond(r.req, jsonAnswer(reply)));
  }

  /** The sender of an upload: by the form's BaseRequest, or by the web-login cookies when it names no Uin. */
  uploader(baseRequest: Record<string, unknown>, cookieHeader: Record<string, string>, query: Record<string, string>, fromUserName: string, remote: string, now: number, done: (r: UploaderReply | ErrorReply) => void): void {
    const byBase = typeof baseRequest['Uin'] === 'number';
    const caller: Caller = { kind: 'http', base: byBase ? baseRequest : undefined, checkSkey: true, web: webIdentity(query, cookieHeader, false) };
    this.submit<UploaderReply | ErrorReply>(lane(byBase ? baseRequest : undefined, remote), this.core.uploader(caller, fromUserName, now), done);
  }

  lookup(uin: number, clientMediaId: string, done: (r: MediaLookupReply | Reply) => void): void {
    this.submit(`u${uin}`, this.core.mediaLookup(uin, clientMediaId), done);
  }

  record(mediaId: string, done: (r: MediaLookupReply | Reply) => void): void {
    this.submit('', this.core.mediaRecord(mediaId), done);
  }

  /** Answered once committed: only then may the MediaId be answered. */
  put(record: MediaRecord, done: (r: Reply) => void): void {
    this.submit(`u${record.ownerUin}`, this.core.putMedia(record), done);
  }

  /** The drawn avatar of `username` (server/web/identicon.ts), to a caller with a session. */
  private avatar(r: MediaRequest): void {
    const name = r.query['username'] ?? '';
    if (name === '' || name.length > MAX_AVATAR_NAME) return this.respond(r.req, errorAnswer(400, Ret.BadRequest, 'MEDIA_BAD_REQUEST: username is required'));
    const caller: Caller = { kind: 'http', base: undefined, checkSkey: true, web: webIdentity(r.query, r.cookies, false) };
    this.submit(`a${r.remote}`, this.core.avatarCheck(caller, r.now), (reply: Reply) => {
      if (reply.BaseResponse.Ret !== Ret.Ok) return this.respond(r.req, errorAnswer(404, reply.BaseResponse.Ret, reply.BaseResponse.ErrMsg));
      this.respond(r.req, { status: 200, contentType: 'image/png', body: '', bytes: identiconPng(name), headers: { 'Cache-Control': 'private, max-age=86400' } });
    });
  }

  private fetch(r: MediaRequest): void {
    const q = r.query;
    let target: FetchTarget;
    if (r.endpoint !== 'webwxgetmedia') {
      // webwxgetmsgimg names the message MsgID, webwxgetvideo and webwxgetvoice msgid, as the real web client sends them.
      const name = r.endpoint === 'webwxgetmsgimg' ? 'MsgID' : 'msgid';
      const id = q[name] ?? '';
      if (!/^[0-9]{1,15}$/.test(id)) return this.respond(r.req, errorAnswer(400, Ret.BadRequest, `MEDIA_BAD_REQUEST: ${name} must be a message id`));
      target = { msgId: Number(id) };
    } else {
      const id = q['mediaid'] ?? '';
      if (id === '') return this.respond(r.req, errorAnswer(400, Ret.BadRequest, 'MEDIA_BAD_REQUEST: mediaid is required'));
      target = { mediaId: id };
    }
    const caller: Caller = { kind: 'http', base: undefined, checkSkey: true, web: webIdentity(q, r.cookies, false) };
    this.submit<MediaFetchReply | ErrorReply>(`a${r.remote}`, this.core.mediaFetch(caller, target, r.now), (reply: MediaFetchReply | ErrorReply) => {
      if (reply.BaseResponse.Ret !== Ret.Ok || !('record' in reply)) {
        // Never the bytes: not a member, unknown, or not logged in all answer 404 with the reason.
        return this.respond(r.req, errorAnswer(404, reply.BaseResponse.Ret, reply.BaseResponse.ErrMsg));
      }
      this.respond(r.req, contentAnswer(reply.record, r.endpoint === 'webwxgetmedia', r.headers.range));
    });
  }
}

/** The bytes of a record (whole, or the one range asked for), for the transport to stream. */
export function contentAnswer(record: MediaRecord, attachment: boolean, range: string | undefined): HttpAnswer {
  const size = record.size;
  const headers: Record<string, string> = { 'Accept-Ranges': 'bytes', 'Cache-Control': 'private, max-age=86400' };
  if (attachment) headers['Content-Disposition'] = `attachment; filename*=UTF-8''${encodeURIComponent(record.name)}`;
  const type = contentType(record.name);
  const ranged = parseRange(range, size);
  if (ranged.status === 416) return { status: 416, contentType: type, body: '', headers: { ...headers, 'Content-Range': ranged.contentRange } };
  if (ranged.status === 206) {
    return { status: 206, contentType: type, body: '', headers: { ...headers, 'Content-Range': ranged.contentRange }, media: { sha256: record.sha256, start: ranged.start, end: ranged.end } };
  }
  return { status: 200, contentType: type, body: '', headers, media: { sha256: record.sha256, start: 0, end: size - 1 } };
}

/** By the file name's extension only: the server never looks into the bytes. */
function contentType(name: string): string {
  const ext = /\.([A-Za-z0-9]{1,5})$/.exec(name)?.[1]?.toLowerCase();
  if (ext === 'jpg' || ext === 'jpeg') return 'image/jpeg';
  if (ext === 'png' || ext === 'gif' || ext === 'webp' || ext === 'bmp') return `image/${ext}`;
  if (ext === 'mp4') return 'video/mp4';
  return 'application/octet-stream';
}

/** The longest user name an avatar is drawn for (a room's name included). */
const MAX_AVATAR_NAME = 128;

/** The send endpoints and the media kind each takes; the rest are fetches. */
const SENDS: Partial<Record<MediaEndpoint, MediaSend>> = {
  webwxsendmsgimg: 'image',
  webwxsendappmsg: 'app',
  webwxsendvideomsg: 'video',
  webwxsendemoticon: 'emoticon',
};

function lane(base: unknown, remote: string): string {
  return isObj(base) && typeof base['Uin'] === 'number' ? `u${base['Uin']}` : `a${remote}`;
}
