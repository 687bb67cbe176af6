// Sending messages: the outbox entries and their attempts. An attempt starts
// when its entry is due, waits (up to replyTimeoutMs) for a transport that can
// carry it, goes out over HTTP or the open long link, and ends with the
// server's answer, a timeout or a lost link; then the entry is acked, retried
// after a backoff, or failed. Every attempt of one entry carries the same
// ClientMsgId, so the server stores the message once.
import { MEDIA_PATHS, PATHS } from '../../server/node/http-api.ts';
import { Ret } from '../../server/core/ret.ts';
import type { ClientConfig } from './client-config.ts';
import { NO_ANSWER, type OutputQueue } from './client-output.ts';
import { freshIdNumber, type RandomSource } from './fresh-id.ts';
import type { HttpPoster, PendingCall } from './http-requests.ts';
import type { LinkSession } from './link-session.ts';
import { Outbox, type OutboxEntry } from './outbox.ts';
import { baseOf, parseMsgId, type Obj } from './replies.ts';
import type { RetryPacing } from './retry-pacing.ts';
import type { Session, SessionEnds } from './session.ts';

/** MsgType 1: a text message, what send() sends unless told otherwise. */
export const TEXT_MESSAGE = 1;

/** MsgType 3: a picture, sent with webwxsendmsgimg. */
export const IMAGE_MESSAGE = 3;
/** Msg.Type 6: an attachment (appmsg), sent with webwxsendappmsg. */
export const FILE_MESSAGE = 6;

/** webwxsendmsg's Scene: an ordinary chat. */
const CHAT_SCENE = 0;

/** Where a picture and an attachment are sent. */
const PATHS_MEDIA = {
  image: `${MEDIA_PATHS.webwxsendmsgimg}?fun=async&f=json`,
  file: `${MEDIA_PATHS.webwxsendappmsg}?fun=async&f=json`,
};

export interface SendCall extends PendingCall {
  purpose: 'send';
  localId: string;
}

/** One try of a send. `sid`: the session it went out with. */
type Attempt =
  /** Waiting for a transport that can carry it; fails at `failAt`. */
  | { state: 'waiting'; failAt: number }
  /** Out as webwxsendmsg; the request's timeout decides. */
  | { state: 'posted'; sid: string; req: number }
  /** Out on a long link; the link's reply timeout decides. */
  | { state: 'onLink'; sid: string; link: number; seq: number };

/** What the sender reads and uses. */
export interface SenderParts {
  cfg: ClientConfig;
  /** The sender's user name and device, and the random source of the first LocalID. */
  who: RandomSource & { userName: string; deviceId: string };
  output: OutputQueue;
  session: Session;
  pacing: RetryPacing;
  ends: SessionEnds;
  requests: HttpPoster<SendCall>;
  /** The long link, when sends go over it; undefined: over HTTP. */
  link: LinkSession | undefined;
}

export class Sender {
  readonly #p: SenderParts;
  readonly #outbox: Outbox;
  /** The next LocalID; 0 until the first send chooses a start. */
  #nextLocalId: number;
  /** By LocalID: the attempt under way of each entry that is sending. */
  #attempts = new Map<string, Attempt>();

  constructor(parts: SenderParts, entries: readonly OutboxEntry[], nextLocalId: number) {
    this.#p = parts;
    this.#outbox = new Outbox(entries);
    this.#nextLocalId = nextLocalId;
  }

  get nextLocalId(): number {
    return this.#nextLocalId;
  }

  /** Copies, for persistence and inspection. */
  snapshot(): OutboxEntry[] {
    return this.#outbox.snapshot();
  }

  /** Queues a message; returns its LocalID. `mediaId`: a picture's or an attachment's upload. */
  queue(to: string, content: string, type: number, now: number, mediaId?: string): string {
    if (this.#nextLocalId === 0) {
      // A fresh install of a device id used before must not reuse its ClientMsgIds
      // (the server would answer the old MsgID): start from the time, plus a random spread.
      this.#nextLocalId = freshIdNumber(now, this.#p.who) + 1;
    }
    const n = this.#nextLocalId++;
    const id = String(n);
    this.#outbox.add({
      localId: id,
      clientMsgId: `${this.#p.who.deviceId}-${n}`,
      to,
      content,
      type,
      state: 'queued',
      attempts: 0,
      nextAttemptAt: now,
      createdAt: now,
      lastRet: 0,
      lastErrMsg: '',
      ...(mediaId !== undefined ? { mediaId } : {}),
    });
    return id;
  }

  entry(localId: string): OutboxEntry | undefined {
    return this.#outbox.get(localId);
  }

  /** Queues a failed entry again, with the same ClientMsgId; false (a no-op) unless it is failed. */
  resend(e: OutboxEntry, now: number): boolean {
    if (e.state !== 'failed') return false;
    this.#outbox.requeue(e.localId, now);
    return true;
  }

  /** Starts an attempt for every due head of a conversation. */
  startDue(now: number): void {
    for (const e of this.#outbox.due(now)) {
      e.state = 'sending';
      e.attempts++;
      this.#attempts.set(e.localId, { state: 'waiting', failAt: now + this.#p.cfg.replyTimeoutMs });
    }
  }

  /** The transport can carry sends: every attempt not yet transmitted goes out. */
  transmitWaiting(now: number): void {
    for (const [localId, at] of this.#attempts) {
      if (at.state !== 'waiting') continue;
      const e = this.#outbox.get(localId);
      if (e) this.#attempts.set(localId, this.#transmit(e, now));
    }
  }

  /** Attempts that waited too long for a transport fail. */
  expire(now: number): void {
    for (const [localId, at] of [...this.#attempts]) {
      if (at.state !== 'waiting' || at.failAt > now) continue;
      const e = this.#outbox.get(localId);
      if (e) this.#attemptFailed(e, now, NO_ANSWER, 'no connection to the server');
    }
  }

  /** The earliest deadline of an attempt or due time of an entry; Infinity when none. */
  wakeAt(): number {
    let t = Infinity;
    for (const at of this.#attempts.values()) if (at.state === 'waiting') t = Math.min(t, at.failAt);
    const due = this.#outbox.nextDueAt();
    if (due !== undefined) t = Math.min(t, due);
    return t;
  }

  /** The core stopped: attempts under way are queued again, for whoever starts from persisted(). */
  stop(): void {
    for (const localId of this.#attempts.keys()) {
      const e = this.#outbox.get(localId);
      if (e) e.state = 'queued';
    }
    this.#attempts.clear();
  }

  /** The answer to webwxsendmsg (o undefined: not HTTP 200, or unreadable). */
  httpReply(req: number, call: SendCall, o: Obj | undefined, now: number): void {
    const at = this.#attempts.get(call.localId);
    if (at?.state !== 'posted' || at.req !== req) return;
    this.#answer(call.localId, at.sid, o, now);
  }

  httpFailed(req: number, call: SendCall, now: number, why: string): void {
    const at = this.#attempts.get(call.localId);
    const e = this.#outbox.get(call.localId);
    if (at?.state === 'posted' && e && at.req === req) this.#attemptFailed(e, now, NO_ANSWER, why);
  }

  linkReply(link: number, seq: number, localId: string, o: Obj | undefined, now: number): void {
    const at = this.#attempts.get(localId);
    if (at?.state !== 'onLink' || at.link !== link || at.seq !== seq) return;
    this.#answer(localId, at.sid, o, now);
  }

  linkLost(link: number, now: number): void {
    for (const [localId, at] of [...this.#attempts]) {
      const e = this.#outbox.get(localId);
      if (at.state === 'onLink' && at.link === link && e) this.#attemptFailed(e, now, NO_ANSWER, 'connection lost before the answer');
    }
  }

  #transmit(e: OutboxEntry, now: number): Attempt {
    const { cfg, session, requests, link } = this.#p;
    const msg = {
      ClientMsgId: e.clientMsgId,
      LocalID: e.localId,
      FromUserName: this.#p.who.userName,
      ToUserName: e.to,
      Type: e.type,
      Content: e.content,
    };
    const sid = session.info!.sid;
    // Media go over HTTP whatever the transport: the long link has no op for them.
    if (link && e.mediaId === undefined) return { state: 'onLink', sid, ...link.send(msg, e.localId, now) };
    const media = e.mediaId === undefined ? undefined : { path: e.type === IMAGE_MESSAGE ? PATHS_MEDIA.image : PATHS_MEDIA.file, mediaId: e.mediaId };
    const req = requests.post(
      media ? media.path : PATHS.webwxsendmsg,
      { BaseRequest: session.baseRequest(), Msg: media ? { ...msg, MediaId: media.mediaId } : msg, Scene: CHAT_SCENE },
      { purpose: 'send', localId: e.localId, sid, deadline: now + cfg.replyTimeoutMs },
    );
    return { state: 'posted', sid, req };
  }

  /** The answer to the attempt of `localId` made within the session `sid`. */
  #answer(localId: string, sid: string, o: Obj | undefined, now: number): void {
    const e = this.#outbox.get(localId);
    if (!e) return;
    // The attempt is answered: nothing below (a re-login dropping the link) may fail it again.
    this.#attempts.delete(localId);
    const base = baseOf(o);
    if (!o || !base) return this.#attemptFailed(e, now, NO_ANSWER, 'unreadable answer');
    const { ret, errMsg } = base;
    if (ret === Ret.Ok) {
      const msgId = parseMsgId(o);
      if (msgId === undefined) return this.#attemptFailed(e, now, NO_ANSWER, 'answer without MsgID');
      this.#outbox.remove(localId);
      this.#p.output.event({ kind: 'sendAcked', localId, clientMsgId: e.clientMsgId, msgId, attempts: e.attempts });
      return;
    }
    if (ret === Ret.ServerError || ret === Ret.Busy) return this.#attemptFailed(e, now, ret, errMsg);
    // Nothing was stored: try again once the recipient has room, or the quota has refilled.
    if (ret === Ret.MailboxFull || ret === Ret.RateLimited) {
      return this.#attemptFailed(e, now, ret, errMsg, this.#p.pacing.refusedDelay(e.attempts, errMsg));
    }
    if (ret === Ret.SessionInvalid || ret === Ret.SessionReplaced) {
      if (ret === Ret.SessionInvalid) this.#p.ends.relogin(sid, now);
      else this.#p.ends.ended(sid, ret);
      // Retry as soon as a session is back (a no-op once stopped).
      return this.#attemptFailed(e, now, ret, errMsg, 0);
    }
    this.#fail(e, ret, errMsg);
  }

  /** One attempt got no useful answer: back off, or give up after maxSendAttempts. */
  #attemptFailed(e: OutboxEntry, now: number, ret: number, errMsg: string, delay?: number): void {
    this.#attempts.delete(e.localId);
    if (this.#p.session.stopped) {
      e.state = 'queued'; // for whoever starts from persisted()
      return;
    }
    if (e.attempts >= this.#p.cfg.maxSendAttempts) {
      return this.#fail(e, ret, errMsg || `no answer after ${e.attempts} attempts`);
    }
    e.state = 'queued';
    e.lastRet = ret;
    e.lastErrMsg = errMsg;
    e.nextAttemptAt = now + (delay ?? this.#p.pacing.retryDelay(e.attempts));
  }

  #fail(e: OutboxEntry, ret: number, errMsg: string): void {
    e.state = 'failed';
    e.lastRet = ret;
    e.lastErrMsg = errMsg;
    this.#p.output.event({ kind: 'sendFailed', localId: e.localId, clientMsgId: e.clientMsgId, ret, errMsg });
  }
}
