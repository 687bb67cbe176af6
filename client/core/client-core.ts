// The reference client as one sans-IO state machine. HTTP answers, long-link
// bytes and ticks go in with the time; requests, link actions and events come
// out through `out` and `emit`, always after the call's state change is
// complete (a callback may call straight back in). No sockets, timers, clocks
// or Math.random here: the simulator and the real-network adapter drive it.
//
// This class is the input API and what ties the parts together: the session
// life (session.ts), the sync position (sync-position.ts), the inbox
// (inbox.ts), the sync transport (http-loop.ts or link-session.ts), sends
// (sender.ts) and contact operations (contact-ops.ts). Request ids (`req`) and
// link ids are numbered by this core from 1; a driver with several cores maps
// them to its own.
import type { ContactItem, MessageItem } from '../../server/core/model.ts';
import type { PlantedBug } from '../../server/core/planted-bugs.ts';
import { clientConfig, type ClientConfig } from './client-config.ts';
import { OutputQueue, type ClientAction, type ClientEvent } from './client-output.ts';
import { STATE_VERSION, restoreState, type PersistedState, type PersistedStateV1, type SessionInfo } from './client-state.ts';
import { ContactOps, type OpCall } from './contact-ops.ts';
import { HttpLoop, type LoopCall } from './http-loop.ts';
import { HttpRequests } from './http-requests.ts';
import { Inbox } from './inbox.ts';
import { LinkSession, type LinkSends } from './link-session.ts';
import type { OutboxEntry } from './outbox.ts';
import { QrLogin } from './qr-login.ts';
import { parseJsonObject } from './replies.ts';
import { RetryPacing } from './retry-pacing.ts';
import { Sender, TEXT_MESSAGE, type SendCall } from './sender.ts';
import { Session, type ClientCoreState, type SessionEnds } from './session.ts';
import { SyncPosition } from './sync-position.ts';

export type { ClientAction, ClientEvent } from './client-output.ts';
export { NO_ANSWER } from './client-output.ts';
export type { ClientCoreState } from './session.ts';

export type ClientTransport = 'http' | 'tcp' | 'ws';

export interface ClientCoreOptions {
  userName: string;
  password: string;
  /** `[A-Za-z0-9_-]{1,40}`, stable per installation. */
  deviceId: string;
  transport: ClientTransport;
  /**
   * 'qr' (transport 'http' only): log in as the web client does, by a QR code
   * that a phone of the account confirms (qrCode and qrScanned events); the
   * password is not used. Default 'password'.
   */
  login?: 'password' | 'qr';
  /** Uniform in [0, 1): backoff jitter, the first LocalID and each ClientLoginId. */
  random: () => number;
  out: (a: ClientAction) => void;
  emit: (e: ClientEvent) => void;
  config?: Partial<ClientConfig>;
  /** What persisted() returned (or a version 1 state). */
  persisted?: PersistedState | PersistedStateV1;
  /** Test seams: 'client-no-dedup' applies messages without the MsgId check. */
  bugs?: ReadonlySet<string>;
}

/** What a client's device id may be (the server takes longer ones). */
export const CLIENT_DEVICE_ID_RE = /^[A-Za-z0-9_-]{1,40}$/;

const HTTP_OK = 200;

/** The test seam that applies messages without the MsgId check. */
const NO_DEDUP: PlantedBug = 'client-no-dedup';

/** Every request in flight, told apart by what its answer is for. */
type HttpCall = LoopCall | SendCall | OpCall;

export class ClientCore {
  readonly #o: ClientCoreOptions;
  readonly #output: OutputQueue;
  readonly #session: Session;
  readonly #position: SyncPosition;
  readonly #inbox: Inbox;
  readonly #pacing: RetryPacing;
  readonly #requests: HttpRequests<HttpCall>;
  /** The HTTP sync loop (transport 'http'), else undefined. */
  readonly #loop: HttpLoop | undefined;
  /** The long link (transports 'tcp' and 'ws'), else undefined. */
  readonly #link: LinkSession | undefined;
  /** Whichever of the two this core syncs over. */
  readonly #transport: HttpLoop | LinkSession;
  readonly #sender: Sender;
  readonly #ops: ContactOps;

  constructor(o: ClientCoreOptions) {
    if (!CLIENT_DEVICE_ID_RE.test(o.deviceId)) {
      throw new RangeError(`deviceId must be 1-40 characters of [A-Za-z0-9_-], got ${JSON.stringify(o.deviceId.slice(0, 50))}`);
    }
    if (o.transport !== 'http' && o.transport !== 'tcp' && o.transport !== 'ws') {
      throw new RangeError(`transport must be http, tcp or ws, got ${String(o.transport)}`);
    }
    if (o.login === 'qr' && o.transport !== 'http') throw new RangeError('login by QR code needs transport http');
    this.#o = o;
    const cfg = clientConfig(o.config);
    const http = o.transport === 'http';
    const s = o.persisted ? restoreState(o.persisted, o.userName, o.deviceId) : undefined;
    const output = new OutputQueue(o);
    const session = new Session(o, output, s?.session ?? null, s?.loginId ?? null);
    const position = new SyncPosition(s?.syncKey ?? [], output);
    const noDedup = o.bugs?.has(NO_DEDUP) ?? false;
    const inbox = new Inbox(s?.inbox ?? [], s?.contacts ?? [], cfg.maxInbox, noDedup, output);
    const pacing = new RetryPacing(cfg, http, o.random);
    const requests = new HttpRequests<HttpCall>(output);
    this.#output = output;
    this.#session = session;
    this.#position = position;
    this.#inbox = inbox;
    this.#pacing = pacing;
    this.#requests = requests;
    const ends: SessionEnds = {
      relogin: (sid, now) => this.#relogin(sid, now),
      ended: (sid, ret) => this.#sessionEnded(sid, ret),
      lose: (ret) => this.#lose(ret),
    };
    const parts = { cfg, output, session, position, inbox, pacing, ends };
    if (http) {
      const qr = o.login === 'qr' ? new QrLogin((n) => output.event(n)) : undefined;
      this.#loop = new HttpLoop({ ...parts, deviceId: o.deviceId, requests, qr });
      this.#transport = this.#loop;
    } else {
      // The sender is made below, with this link to send on.
      const sends: LinkSends = {
        linkReply: (link, seq, localId, reply, now) => this.#sender.linkReply(link, seq, localId, reply, now),
        linkLost: (link, now) => this.#sender.linkLost(link, now),
      };
      this.#link = new LinkSession({ ...parts, sends });
      this.#transport = this.#link;
    }
    this.#sender = new Sender({ ...parts, who: o, requests, link: this.#link }, s?.outbox ?? [], s?.nextLocalId ?? 0);
    this.#ops = new ContactOps({ ...parts, requests });
  }

  get state(): ClientCoreState {
    return this.#session.state;
  }

  // ------------------------------------------------------------ inputs

  start(now: number): void {
    this.#output.run(() => {
      if (!this.#session.start()) return;
      this.#transport.start(now);
      this.#pump(now);
    });
  }

  httpResponse(req: number, status: number, body: string, now: number): void {
    this.#output.run(() => {
      const call = this.#requests.call(req);
      if (this.#session.stopped) return;
      if (!call) return; // a copy the network delivered twice, or a request we gave up on
      this.#requests.forget(req);
      const ok = status === HTTP_OK;
      if (call.purpose === 'loop') this.#loop?.reply(req, call, status, body, now);
      else if (call.purpose === 'send') this.#sender.httpReply(req, call, ok ? parseJsonObject(body) : undefined, now);
      else this.#ops.reply(call, ok ? parseJsonObject(body) : undefined, now);
      this.#pump(now);
    });
  }

  httpFailed(req: number, now: number): void {
    this.#output.run(() => {
      const call = this.#requests.call(req);
      if (!call || this.#session.stopped) return;
      this.#requests.forget(req);
      this.#httpFailure(req, call, now, 'connection failed');
      this.#pump(now);
    });
  }

  linkOpened(link: number, now: number): void {
    this.#output.run(() => {
      if (this.#link?.opened(link, now)) this.#pump(now);
    });
  }

  linkData(link: number, bytes: Uint8Array, now: number): void {
    this.#output.run(() => {
      if (this.#link?.data(link, bytes, now)) this.#pump(now);
    });
  }

  linkClosed(link: number, now: number): void {
    this.#output.run(() => {
      if (this.#link?.closed(link, now)) this.#pump(now);
    });
  }

  tick(now: number): void {
    this.#output.run(() => {
      if (!this.#session.running) return;
      for (const [req, call] of this.#requests.inFlight()) {
        if (call.deadline > now || !this.#requests.has(req)) continue;
        this.#requests.forget(req);
        this.#httpFailure(req, call, now, 'no answer in time');
      }
      this.#transport.expire(now);
      this.#sender.expire(now);
      this.#pump(now);
    });
  }

  /** The earliest time tick() has work; undefined when idle or stopped. */
  nextWakeAt(): number | undefined {
    if (!this.#session.running) return undefined;
    let t = Math.min(this.#requests.wakeAt(), this.#transport.wakeAt(), this.#sender.wakeAt());
    if (this.#session.ready) t = Math.min(t, this.#ops.wakeAt());
    return t === Infinity ? undefined : t;
  }

  // ------------------------------------------------------------ user commands

  /** Queues a message; returns its LocalID. */
  send(to: string, content: string, now: number, type = TEXT_MESSAGE): string {
    if (typeof to !== 'string' || to === '') throw new RangeError('send: `to` must be a non-empty user name');
    if (typeof content !== 'string') throw new TypeError('send: content must be a string');
    let id = '';
    this.#output.run(() => {
      id = this.#sender.queue(to, content, type, now);
      this.#pump(now);
    });
    return id;
  }

  /**
   * Queues a picture (type 3, Content '') or an attachment (type 6, Content
   * the appmsg XML naming the file) of an upload the driver made
   * (webwxuploadmedia); returns its LocalID. It goes over HTTP on every
   * transport, retried with the same ClientMsgId like any send.
   */
  sendMedia(to: string, media: { mediaId: string; type: 3 | 6; content: string }, now: number): string {
    if (typeof to !== 'string' || to === '') throw new RangeError('sendMedia: `to` must be a non-empty user name');
    if (typeof media.mediaId !== 'string' || media.mediaId === '') throw new RangeError('sendMedia: mediaId must be a non-empty string');
    let id = '';
    this.#output.run(() => {
      id = this.#sender.queue(to, media.content, media.type, now, media.mediaId);
      this.#pump(now);
    });
    return id;
  }

  /** Queues a failed message again, with the same ClientMsgId; a no-op unless it is failed. */
  resend(localId: string, now: number): void {
    const e = this.#sender.entry(localId);
    if (!e) throw new RangeError(`resend: no outbox entry with LocalID ${localId}`);
    this.#output.run(() => {
      if (this.#sender.resend(e, now)) this.#pump(now);
    });
  }

  /** Over HTTP on every transport (the long link has no op for it). Retried on Ret 1/2/1100/1110/1111 only: a lost answer may hide a created room, which then arrives through sync. */
  createChatRoom(members: string[], topic: string, now: number): void {
    this.#output.run(() => {
      this.#ops.createChatRoom(members, topic, now);
      this.#pump(now);
    });
  }

  /** webwxoplog over HTTP; idempotent, so retried on any failure. */
  setRemark(target: string, remark: string, now: number): void {
    this.#output.run(() => {
      this.#ops.setRemark(target, remark, now);
      this.#pump(now);
    });
  }

  /** As the phone: scan and confirm the web login whose code holds `loginUrl` (`<public-url>/l/<uuid>`); a webLogin event tells the outcome. */
  confirmWebLogin(loginUrl: string, now: number): void {
    this.#output.run(() => {
      this.#ops.confirmWebLogin(loginUrl, now);
      this.#pump(now);
    });
  }

  // ------------------------------------------------------------ views

  /** A deep copy, JSON-serialisable. */
  persisted(): PersistedState {
    return structuredClone({
      version: STATE_VERSION,
      userName: this.#o.userName,
      deviceId: this.#o.deviceId,
      session: this.#session.info,
      loginId: this.#session.pendingLoginId,
      syncKey: this.#position.pairs(),
      inbox: this.#inbox.messages() as MessageItem[],
      contacts: this.#inbox.contacts(),
      nextLocalId: this.#sender.nextLocalId,
      outbox: this.#sender.snapshot(),
    });
  }

  /** The live inbox in applied order; callers must not mutate it. */
  inbox(): readonly MessageItem[] {
    return this.#inbox.messages();
  }

  syncKey(): Array<[number, number]> {
    return this.#position.pairs();
  }

  outbox(): readonly OutboxEntry[] {
    return this.#sender.snapshot();
  }

  contacts(): readonly ContactItem[] {
    return this.#inbox.contacts();
  }

  session(): SessionInfo | null {
    const s = this.#session.info;
    return s ? { ...s } : null;
  }

  // ------------------------------------------------------------ the pump

  /** Starts whatever is due: the HTTP loop, a reconnect, heartbeats, syncs, sends, ops. */
  #pump(now: number): void {
    if (!this.#session.running) return;
    this.#transport.pump(now);
    this.#sender.startDue(now);
    if (this.#session.ready && this.#transport.canSend()) this.#sender.transmitWaiting(now);
    if (this.#session.ready) this.#ops.issueDue(now);
  }

  #httpFailure(req: number, call: HttpCall, now: number, why: string): void {
    if (call.purpose === 'loop') this.#loop?.failed(req, call, now);
    else if (call.purpose === 'send') this.#sender.httpFailed(req, call, now, why);
    else this.#ops.httpFailed(call, now);
  }

  // ------------------------------------------------------------ session ends

  /** Ret 1100 for the session `sid`: log in again with the password (once per session). */
  #relogin(sid: string, now: number): void {
    if (!this.#session.invalidate(sid)) return;
    this.#transport.loginAgain(now, this.#pacing.setbackDelay());
  }

  /**
   * 1101 for the session `sid`. Our own logins cannot cause it: every retry
   * or network copy of one login carries the same ClientLoginId and gets the
   * session the first made. So it is another login of this device (another
   * install took it over) or a logout, and the core stops at once: logging in
   * again would take the device back from an install that rightly replaced
   * this one. A 1101 about a session we already left is moot.
   */
  #sessionEnded(sid: string, ret: number): void {
    if (this.#session.isCurrent(sid)) this.#lose(ret);
  }

  /** 1101 (replaced, logged out) or 1103 (wrong password): stop for good. */
  #lose(ret: number): void {
    if (!this.#session.stop()) return;
    this.#transport.stop();
    this.#requests.clear();
    this.#sender.stop();
    this.#output.event({ kind: 'sessionLost', ret });
  }
}
