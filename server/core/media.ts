// The media commands (docs/protocol.md 5.14): the decisions and records of an
// upload and a fetch, sans-IO. The bytes never come here: the transport
// streams them into MediaFiles (server/media/) and asks these commands who the
// sender is, what is already recorded, and to commit a finished upload's
// record like any other write. A fetch asks whether the caller may see a
// MediaId: its uploader may, and so may any account whose message log holds
// a message naming it (the members of the conversation it was sent to).
import type { MediaRecord } from '../media/media-id.ts';
import { read, type Step } from '../store/store-ops.ts';
import { authenticate, type Caller } from './auth.ts';
import type { CoreContext } from './core-context.ts';
import { plan, refuse, type Plan } from './plan.ts';
import { OK, Ret, errorReply, type BaseResponse, type ErrorReply } from './ret.ts';

export interface UploaderReply {
  BaseResponse: BaseResponse;
  uin: number;
}

export interface MediaLookupReply {
  BaseResponse: BaseResponse;
  record: MediaRecord | undefined;
  storedBytes: number;
}

export interface MediaFetchReply {
  BaseResponse: BaseResponse;
  record: MediaRecord;
}

/** What a fetch names: a message of the caller's log (webwxgetmsgimg) or a MediaId (webwxgetmedia). */
export type FetchTarget = { msgId: number } | { mediaId: string };

/** The sender of an upload: its session, and FromUserName its own (nothing is written). */
export function* uploader(ctx: CoreContext, caller: Caller, fromUserName: string, now: number): Step<Plan<UploaderReply | ErrorReply>> {
  const auth = yield* authenticate(ctx.config, caller, now);
  if ('BaseResponse' in auth) return refuse(auth);
  if (fromUserName !== auth.account.userName) return refuse(errorReply(Ret.BadRequest, 'MEDIA_BAD_REQUEST: FromUserName must be your own user name'));
  return plan([], { BaseResponse: OK, uin: auth.account.uin });
}

/** The account's record for a ClientMediaId (a finished upload asked again), and its stored bytes. */
export function* mediaLookup(uin: number, clientMediaId: string): Step<Plan<MediaLookupReply>> {
  const record = yield* read({ kind: 'mediaByClient', uin, clientMediaId });
  const storedBytes = yield* read({ kind: 'mediaBytes', uin });
  return plan([], { BaseResponse: OK, record, storedBytes });
}

export function* mediaRecord(mediaId: string): Step<Plan<MediaLookupReply>> {
  const record = yield* read({ kind: 'media', mediaId });
  return plan([], { BaseResponse: OK, record, storedBytes: 0 });
}

/** A finished upload's record: answered once committed, so an answered MediaId is durable. */
export function* putMedia(record: MediaRecord): Step<Plan<{ BaseResponse: BaseResponse } | ErrorReply>> {
  const taken = (yield* read({ kind: 'media', mediaId: record.mediaId })) ?? (yield* read({ kind: 'mediaByClient', uin: record.ownerUin, clientMediaId: record.clientMediaId }));
  if (taken) return refuse(errorReply(Ret.BadRequest, `MEDIA_UPLOAD_MISMATCH: ${record.clientMediaId} is recorded already`));
  return plan([{ kind: 'putMedia', media: record }], { BaseResponse: OK });
}

/** Whether the caller may fetch the target's bytes; unknown and not-yours answer alike (MEDIA_UNKNOWN). */
export function* mediaFetch(ctx: CoreContext, caller: Caller, target: FetchTarget, now: number): Step<Plan<MediaFetchReply | ErrorReply>> {
  const auth = yield* authenticate(ctx.config, caller, now);
  if ('BaseResponse' in auth) return refuse(auth);
  const uin = auth.account.uin;
  const unknown = refuse(errorReply(Ret.BadRequest, 'MEDIA_UNKNOWN: no such media in your conversations'));
  let mediaId: string;
  if ('msgId' in target) {
    const inLog = yield* read({ kind: 'logMedia', uin, msgId: target.msgId });
    if (!inLog) return unknown;
    mediaId = inLog;
  } else {
    mediaId = target.mediaId;
  }
  const record = yield* read({ kind: 'media', mediaId });
  if (!record) return unknown;
  if (record.ownerUin !== uin && !('msgId' in target) && !(yield* read({ kind: 'logHasMedia', uin, mediaId }))) return unknown;
  return plan([], { BaseResponse: OK, record });
}

/**
 * An avatar asked for (webwxgeticon, webwxgetheadimg): only a session may ask,
 * and what it gets is drawn from the name it sent, so nothing else is read.
 */
export function* avatarCheck(ctx: CoreContext, caller: Caller, now: number): Step<Plan<{ BaseResponse: BaseResponse } | ErrorReply>> {
  const auth = yield* authenticate(ctx.config, caller, now);
  if ('BaseResponse' in auth) return refuse(auth);
  return plan([], { BaseResponse: OK });
}
