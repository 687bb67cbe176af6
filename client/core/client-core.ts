// The reference client as one sans-IO state machine. HTTP answers, long-link
// bytes and ticks go in with the time; requests, link actions and events come
// out through `out` and `emit`, always after the call's state change is
// complete (a callback may call straight back in). No sockets, timers, clocks
// or Math.random here: the simulator and the real-network adapter drive it.
//
// Request ids (`req`) and link ids are numbered by this core from 1; a driver
// with several cores maps them to its own.
import { PATHS } from '../../server/node/http-api.ts';
import { CATEGORIES, type ContactItem, type MessageItem } from '../../server/core/model.ts';
import { Ret } from '../../server/core/ret.ts';
import { PacketDecoder } from '../../server/wire/packet-decoder.ts';
import { Op, decodeJsonBody, encodeJsonPacket, type Packet } from '../../server/wire/packet.ts';
import { formatSyncKeyQuery, syncKeyFromEntries, toSyncKeyJson, type SyncKeyMap } from '../../server/wire/synckey.ts';
import { backoffMs } from './backoff.ts';
import { clientConfig, type ClientConfig } from './client-config.ts';
import {
  STATE_VERSION,
  mergeSyncKey,
  restoreState,
  syncKeyPairs,
  type PersistedState,
  type PersistedStateV1,
  type SessionInfo,
} from './client-state.ts';
import { Outbox, type OutboxEntry } from './outbox.ts';
import {
  baseOf,
  memberNames,
  parseDisconnect,
  parseInitReply,
  parseJsonObject,
  parseLoginReply,
  parseMsgId,
  parseSyncCheck,
  parseSyncReply,
  type Obj,
  type SyncReply,
} from './replies.ts';

export type ClientTransport = 'http' | 'tcp' | 'ws';

export type ClientAction =
  | { kind: 'http'; req: number; method: 'GET' | 'POST'; url: string /* path + query */; body: string }
  | { kind: 'linkOpen'; link: number }
  | { kind: 'linkWrite'; link: number; bytes: Uint8Array }
  | { kind: 'linkClose'; link: number };

export type ClientEvent =
  | { kind: 'loggedIn'; uin: number; sid: string }
  /** A message entered the inbox (exactly once per MsgId). */
  | { kind: 'applied'; msg: MessageItem }
  | { kind: 'contact'; contact: ContactItem }
  /** The persisted key changed (sorted by key). */
  | { kind: 'syncKey'; key: Array<[number, number]> }
  | { kind: 'sendAcked'; localId: string; clientMsgId: string; msgId: number; attempts: number }
  /** `ret` is the server's Ret, or NO_ANSWER (-1) when the last attempt got no answer. */
  | { kind: 'sendFailed'; localId: string; clientMsgId: string; ret: number; errMsg: string }
  | { kind: 'groupCreated'; chatRoomName: string; members: string[] }
  /**
   * Got Ret 1200: re-initialising from the server's floor; what was pruned in
   * between will not come. Also emitted when a first login finds the log
   * already pruned past this device's empty position (which gets no 1200).
   */
  | { kind: 'resync' }
  /** 1101 (replaced or logged out), or 1103 (wrong password): the core stops. */
  | { kind: 'sessionLost'; ret: number };

export type ClientCoreState = 'idle' | 'loggingIn' | 'ready' | 'stopped';

export interface ClientCoreOptions {
  userName: string;
  password: string;
  /** `[A-Za-z0-9_-]{1,40}`, stable per installation. */
  deviceId: string;
  transport: ClientTransport;
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

/** The Ret of a sendFailed whose last attempt got no answer (network failure or timeout). */
export const NO_ANSWER = -1;

const DEVICE_ID_RE = /^[A-Za-z0-9_-]{1,40}$/;

type LoopStep = 'login' | 'init' | 'check' | 'sync';

interface HttpCall {
  purpose: 'loop' | 'send' | 'op';
  step?: LoopStep;
  localId?: string;
  op?: PendingOp;
  /** The session the request was made with ('' before login). */
  sid: string;
  deadline: number;
}

interface LinkReply {
  what: 'auth' | 'heartbeat' | 'sync' | 'send';
  deadline: number;
  localId?: string;
}

interface Link {
  id: number;
  phase: 'connecting' | 'authing' | 'open';
  decoder: PacketDecoder;
  /** connecting: opened by then or dropped. */
  openBy: number;
  nextSeq: number;
  replies: Map<number, LinkReply>;
  authSid: string;
  heartbeatMs: number;
  nextHeartbeatAt: number;
  syncSeq: number | undefined;
  syncAgain: boolean;
  lastSyncAt: number;
}

/** One try of a send; untransmitted until the transport is ready. */
interface Attempt {
  /** Untransmitted: fails at this time. Transmitted: Infinity (the request or link timeout decides). */
  deadline: number;
  req?: number;
  link?: number;
  seq?: number;
  sid: string;
}

interface PendingOp {
  kind: 'room' | 'remark';
  body: Obj;
  attempts: number;
  nextAttemptAt: number;
  req: number | undefined;
}

type Output = { a: ClientAction } | { e: ClientEvent };

export class ClientCore {
  readonly #o: ClientCoreOptions;
  readonly #cfg: ClientConfig;
  readonly #noDedup: boolean;
  readonly #http: boolean;

  #state: ClientCoreState = 'idle';
  #session: SessionInfo | null;
  #key: SyncKeyMap;
  #inbox: MessageItem[];
  #seen = new Set<number>();
  #contacts = new Map<string, ContactItem>();
  #nextLocalId: number;
  #outbox: Outbox;
  #attempts = new Map<string, Attempt>();
  #ops: PendingOp[] = [];

  /**
   * A 1200 came, so the next init/auth key is taken in (see #adoptInitKey):
   * 'retained' asks for what is retained where we are behind; 'adopt' takes
   * the key as it is (that ask got a 1200 too).
   */
  #resyncPending: false | 'retained' | 'adopt' = false;
  /** Data categories whose next sync presents 0, "everything retained" (see #adoptInitKey). */
  #fromZero = new Set<number>();
  /** A resync event announced a gap before our first sync; not again until a sync reply. */
  #gapNoted = false;
  /** Consecutive network failures of the sync loop or the link; reset when the server answers. */
  #failures = 0;
  /** Consecutive 1100s, 1200s and empty news without a good sync between; reset by one. */
  #setbacks = 0;
  /**
   * The ClientLoginId of the login under way (see #loginIdFor); null once a
   * session is made. Every retry of one login sends the same id, so the
   * server answers a retried or duplicated request with the session the first
   * copy made instead of replacing it.
   */
  #loginId: string | null;
  /** The number in the last ClientLoginId this core made: the next is higher. */
  #lastLoginN = 0;

  // HTTP
  #nextReq = 1;
  #calls = new Map<number, HttpCall>();
  #loop: { step: LoopStep; at: number } | undefined;
  #loopReq: number | undefined;
  #polls = 0;

  // long link
  #nextLinkId = 1;
  #link: Link | undefined;
  #reconnectAt: number | undefined;

  // output, released at the end of the outermost call
  #queue: Output[] = [];
  #depth = 0;
  #draining = false;

  constructor(o: ClientCoreOptions) {
    if (!DEVICE_ID_RE.test(o.deviceId)) {
      throw new RangeError(`deviceId must be 1-40 characters of [A-Za-z0-9_-], got ${JSON.stringify(o.deviceId.slice(0, 50))}`);
    }
    if (o.transport !== 'http' && o.transport !== 'tcp' && o.transport !== 'ws') {
      throw new RangeError(`transport must be http, tcp or ws, got ${String(o.transport)}`);
    }
    this.#o = o;
    this.#cfg = clientConfig(o.config);
    this.#noDedup = o.bugs?.has('client-no-dedup') ?? false;
    this.#http = o.transport === 'http';
    const s = o.persisted ? restoreState(o.persisted, o.userName, o.deviceId) : undefined;
    this.#session = s?.session ?? null;
    this.#loginId = s?.loginId ?? null;
    this.#key = syncKeyFromEntries(s?.syncKey ?? []);
    this.#inbox = s?.inbox ?? [];
    for (const m of this.#inbox) this.#seen.add(m.MsgId);
    for (const c of s?.contacts ?? []) this.#contacts.set(c.UserName, c);
    this.#nextLocalId = s?.nextLocalId ?? 0;
    this.#outbox = new Outbox(s?.outbox ?? []);
  }

  get state(): ClientCoreState {
    return this.#state;
  }

  // ------------------------------------------------------------ inputs

  start(now: number): void {
    this.#run(() => {
      if (this.#state !== 'idle') return;
      this.#state = 'loggingIn';
      if (this.#http) this.#schedule(this.#session ? 'init' : 'login', now);
      else this.#reconnectAt = now;
      this.#pump(now);
    });
  }

  httpResponse(req: number, status: number, body: string, now: number): void {
    this.#run(() => {
      const call = this.#calls.get(req);
      if (this.#state === 'stopped') return;
      if (!call) return; // a copy the network delivered twice, or a request we gave up on
      this.#calls.delete(req);
      if (call.purpose === 'loop') this.#loopReply(req, call, status === 200 ? body : undefined, now);
      else if (call.purpose === 'send') this.#sendReplyHttp(req, call, status === 200 ? parseJsonObject(body) : undefined, now);
      else this.#opReply(call, status === 200 ? parseJsonObject(body) : undefined, now);
      this.#pump(now);
    });
  }

  httpFailed(req: number, now: number): void {
    this.#run(() => {
      const call = this.#calls.get(req);
      if (!call || this.#state === 'stopped') return;
      this.#calls.delete(req);
      this.#httpFailure(req, call, now, 'connection failed');
      this.#pump(now);
    });
  }

  linkOpened(link: number, now: number): void {
    this.#run(() => {
      const l = this.#link;
      if (!l || l.id !== link || l.phase !== 'connecting' || this.#state === 'stopped') return;
      l.phase = 'authing';
      const s = this.#session;
      l.authSid = s?.sid ?? '';
      const body = s ? { Uin: s.uin, Sid: s.sid, DeviceID: this.#o.deviceId } : this.#loginBody(now);
      this.#request(l, Op.Auth, 'auth', body, now);
      this.#pump(now);
    });
  }

  linkData(link: number, bytes: Uint8Array, now: number): void {
    this.#run(() => {
      const l = this.#link;
      if (!l || l.id !== link || l.phase === 'connecting' || this.#state === 'stopped') return;
      const { packets, error } = l.decoder.push(bytes);
      for (const p of packets) {
        if (this.#link !== l) break; // a packet closed the link; the rest is moot
        this.#packet(l, p, now);
      }
      if (error && this.#link === l) this.#linkFailure(now);
      this.#pump(now);
    });
  }

  linkClosed(link: number, now: number): void {
    this.#run(() => {
      const l = this.#link;
      if (!l || l.id !== link || this.#state === 'stopped') return;
      this.#dropLink(now, this.#failureDelay(), false);
      this.#pump(now);
    });
  }

  tick(now: number): void {
    this.#run(() => {
      if (this.#state === 'idle' || this.#state === 'stopped') return;
      for (const [req, call] of [...this.#calls]) {
        if (call.deadline > now || !this.#calls.has(req)) continue;
        this.#calls.delete(req);
        this.#httpFailure(req, call, now, 'no answer in time');
      }
      const l = this.#link;
      if (l) {
        let late = l.phase === 'connecting' && l.openBy <= now;
        for (const r of l.replies.values()) if (r.deadline <= now) late = true;
        if (late) this.#linkFailure(now);
      }
      for (const [localId, at] of [...this.#attempts]) {
        if (at.deadline > now) continue;
        const e = this.#outbox.get(localId);
        if (e) this.#attemptFailed(e, now, NO_ANSWER, 'no connection to the server');
      }
      this.#pump(now);
    });
  }

  /** The earliest time tick() has work; undefined when idle or stopped. */
  nextWakeAt(): number | undefined {
    if (this.#state === 'idle' || this.#state === 'stopped') return undefined;
    let t = Infinity;
    for (const c of this.#calls.values()) t = Math.min(t, c.deadline);
    if (this.#http) {
      if (this.#loop && this.#loopReq === undefined) t = Math.min(t, this.#loop.at);
    } else {
      const l = this.#link;
      if (!l) {
        if (this.#reconnectAt !== undefined) t = Math.min(t, this.#reconnectAt);
      } else {
        if (l.phase === 'connecting') t = Math.min(t, l.openBy);
        for (const r of l.replies.values()) t = Math.min(t, r.deadline);
        if (l.phase === 'open') {
          t = Math.min(t, l.nextHeartbeatAt);
          if (l.syncSeq === undefined) t = Math.min(t, l.lastSyncAt + this.#cfg.safetySyncMs);
        }
      }
    }
    for (const at of this.#attempts.values()) t = Math.min(t, at.deadline);
    const due = this.#outbox.nextDueAt();
    if (due !== undefined) t = Math.min(t, due);
    if (this.#opsReady()) for (const op of this.#ops) if (op.req === undefined) t = Math.min(t, op.nextAttemptAt);
    return t === Infinity ? undefined : t;
  }

  // ------------------------------------------------------------ user commands

  /** Queues a message; returns its LocalID. */
  send(to: string, content: string, now: number, type = 1): string {
    if (typeof to !== 'string' || to === '') throw new RangeError('send: `to` must be a non-empty user name');
    if (typeof content !== 'string') throw new TypeError('send: content must be a string');
    let id = '';
    this.#run(() => {
      if (this.#nextLocalId === 0) {
        // A fresh install of a device id used before must not reuse its ClientMsgIds
        // (the server would answer the old MsgID): start from the time, plus a random spread.
        this.#nextLocalId = Math.max(0, Math.floor(now)) * 1000 + Math.floor(this.#rand() * 1000) + 1;
      }
      const n = this.#nextLocalId++;
      id = String(n);
      this.#outbox.add({
        localId: id,
        clientMsgId: `${this.#o.deviceId}-${n}`,
        to,
        content,
        type,
        state: 'queued',
        attempts: 0,
        nextAttemptAt: now,
        createdAt: now,
        lastRet: 0,
        lastErrMsg: '',
      });
      this.#pump(now);
    });
    return id;
  }

  /** Queues a failed message again, with the same ClientMsgId; a no-op unless it is failed. */
  resend(localId: string, now: number): void {
    const e = this.#outbox.get(localId);
    if (!e) throw new RangeError(`resend: no outbox entry with LocalID ${localId}`);
    this.#run(() => {
      if (e.state !== 'failed') return;
      this.#outbox.requeue(localId, now);
      this.#pump(now);
    });
  }

  /** Over HTTP on every transport (the long link has no op for it). Retried on Ret 1/2/1100 only: a lost answer may hide a created room, which then arrives through sync. */
  createChatRoom(members: string[], topic: string, now: number): void {
    this.#run(() => {
      this.#ops.push({
        kind: 'room',
        body: { MemberCount: members.length, MemberList: members.map((m) => ({ UserName: m })), Topic: topic },
        attempts: 0,
        nextAttemptAt: now,
        req: undefined,
      });
      this.#pump(now);
    });
  }

  /** webwxoplog CmdId 2 over HTTP; idempotent, so retried on any failure. */
  setRemark(target: string, remark: string, now: number): void {
    this.#run(() => {
      this.#ops.push({
        kind: 'remark',
        body: { CmdId: 2, UserName: target, RemarkName: remark },
        attempts: 0,
        nextAttemptAt: now,
        req: undefined,
      });
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
      session: this.#session,
      loginId: this.#session ? null : this.#loginId,
      syncKey: syncKeyPairs(this.#key),
      inbox: this.#inbox,
      contacts: [...this.#contacts.values()],
      nextLocalId: this.#nextLocalId,
      outbox: this.#outbox.snapshot(),
    });
  }

  /** The live inbox in applied order; callers must not mutate it. */
  inbox(): readonly MessageItem[] {
    return this.#inbox;
  }

  syncKey(): Array<[number, number]> {
    return syncKeyPairs(this.#key);
  }

  outbox(): readonly OutboxEntry[] {
    return this.#outbox.snapshot();
  }

  contacts(): readonly ContactItem[] {
    return [...this.#contacts.values()];
  }

  session(): SessionInfo | null {
    return this.#session ? { ...this.#session } : null;
  }

  // ------------------------------------------------------------ the pump

  /** Starts whatever is due: the HTTP loop, a reconnect, heartbeats, syncs, sends, ops. */
  #pump(now: number): void {
    if (this.#state === 'idle' || this.#state === 'stopped') return;
    if (this.#http) {
      if (this.#loop && this.#loopReq === undefined && this.#loop.at <= now) this.#issueLoop(now);
    } else {
      if (!this.#link && this.#reconnectAt !== undefined && this.#reconnectAt <= now) this.#connect(now);
      const l = this.#link;
      if (l && l.phase === 'open') {
        if (l.nextHeartbeatAt <= now) {
          this.#request(l, Op.Heartbeat, 'heartbeat', undefined, now);
          l.nextHeartbeatAt = now + l.heartbeatMs;
        }
        if (l.syncSeq === undefined && l.lastSyncAt + this.#cfg.safetySyncMs <= now) this.#syncLink(l, now);
      }
    }
    for (const e of this.#outbox.due(now)) {
      e.state = 'sending';
      e.attempts++;
      this.#attempts.set(e.localId, { deadline: now + this.#cfg.replyTimeoutMs, sid: '' });
    }
    if (this.#sendReady()) {
      for (const [localId, at] of this.#attempts) {
        if (at.deadline === Infinity) continue;
        const e = this.#outbox.get(localId);
        if (e) this.#transmit(e, at, now);
      }
    }
    if (this.#opsReady()) {
      for (const op of this.#ops) if (op.req === undefined && op.nextAttemptAt <= now) this.#issueOp(op, now);
    }
  }

  #sendReady(): boolean {
    if (this.#state !== 'ready' || !this.#session) return false;
    return this.#http || this.#link?.phase === 'open';
  }

  #opsReady(): boolean {
    return this.#state === 'ready' && this.#session !== null;
  }

  // ------------------------------------------------------------ HTTP

  #post(url: string, body: unknown, call: HttpCall): number {
    return this.#httpOut('POST', url, JSON.stringify(body), call);
  }

  #httpOut(method: 'GET' | 'POST', url: string, body: string, call: HttpCall): number {
    const req = this.#nextReq++;
    this.#calls.set(req, call);
    this.#out({ kind: 'http', req, method, url, body });
    return req;
  }

  #baseRequest(): Obj {
    const s = this.#session!;
    return { Uin: s.uin, Sid: s.sid, Skey: s.skey, DeviceID: this.#o.deviceId };
  }

  /** manualauth, and op-7 auth by password: one login, whose retries all carry its ClientLoginId. */
  #loginBody(now: number): Obj {
    return { UserName: this.#o.userName, Password: this.#o.password, DeviceID: this.#o.deviceId, ClientLoginId: this.#loginIdFor(now) };
  }

  /**
   * The ClientLoginId of the login under way, made when it starts: a first
   * start without a session, or a 1100. It is `<DeviceID>-L<n>` (at most 58
   * characters), n from the time and the random source like the first
   * LocalID, so that a reinstall of this device id does not repeat the id of
   * the login that made the device's current session (the server would hand
   * that session over instead of replacing it); and above the last one this
   * core made. It is persisted until a session is made, so an app restarted
   * mid-login repeats the same login.
   */
  #loginIdFor(now: number): string {
    if (this.#loginId === null) {
      const n = Math.max(this.#lastLoginN + 1, Math.max(0, Math.floor(now)) * 1000 + Math.floor(this.#rand() * 1000));
      this.#lastLoginN = n;
      this.#loginId = `${this.#o.deviceId}-L${n}`;
    }
    return this.#loginId;
  }

  #schedule(step: LoopStep, at: number): void {
    this.#loop = { step, at };
  }

  #issueLoop(now: number): void {
    let step = this.#loop!.step;
    this.#loop = undefined;
    if (step !== 'login' && !this.#session) step = 'login';
    // Only the long poll waits long; every other request answers at once.
    const timeout = step === 'check' ? this.#cfg.httpTimeoutMs : this.#cfg.replyTimeoutMs;
    const call: HttpCall = { purpose: 'loop', step, sid: this.#session?.sid ?? '', deadline: now + timeout };
    const s = this.#session;
    const enc = encodeURIComponent;
    switch (step) {
      case 'login':
        this.#loopReq = this.#post(PATHS.manualauth, this.#loginBody(now), call);
        break;
      case 'init':
        this.#loopReq = this.#post(`${PATHS.webwxinit}?r=${Math.floor(now)}`, { BaseRequest: this.#baseRequest() }, call);
        break;
      case 'check': {
        const q =
          `sid=${enc(s!.sid)}&uin=${s!.uin}&skey=${enc(s!.skey)}&deviceid=${enc(this.#o.deviceId)}` +
          `&synckey=${enc(formatSyncKeyQuery(this.#presentedKey()))}&r=${Math.floor(now)}&_=${++this.#polls}`;
        this.#loopReq = this.#httpOut('GET', `${PATHS.synccheck}?${q}`, '', call);
        break;
      }
      case 'sync':
        this.#loopReq = this.#post(
          `${PATHS.webwxsync}?sid=${enc(s!.sid)}&skey=${enc(s!.skey)}`,
          { BaseRequest: this.#baseRequest(), SyncKey: toSyncKeyJson(this.#presentedKey()), rr: Math.floor(now / 1000) },
          call,
        );
        break;
    }
  }

  #loopReply(req: number, call: HttpCall, body: string | undefined, now: number): void {
    if (req !== this.#loopReq) return;
    this.#loopReq = undefined;
    const step = call.step!;
    if (body === undefined) return this.#loopFailed(step, now);
    if (step === 'check') {
      const c = parseSyncCheck(body);
      if (!c) return this.#loopFailed(step, now);
      if (c.retcode === 0) {
        this.#failures = 0;
        // An idle answer (the server held the poll) is health; news is not yet progress.
        if (c.selector === 0) this.#setbacks = 0;
        return this.#schedule(c.selector === 0 ? 'check' : 'sync', now);
      }
      if (c.retcode === Ret.SessionReplaced) return this.#sessionEnded(call.sid, c.retcode);
      if (c.retcode === Ret.SessionInvalid) return this.#relogin(call.sid, now);
      return this.#loopFailed(step, now);
    }
    const o = parseJsonObject(body);
    const base = baseOf(o);
    if (!o || !base) return this.#loopFailed(step, now);
    // 1101 to a login: a newer login of this device superseded it; stop and say so.
    if (base.ret === Ret.SessionReplaced) return step === 'login' ? this.#lose(base.ret) : this.#sessionEnded(call.sid, base.ret);
    if (step === 'login') {
      if (base.ret === Ret.AuthFailed) return this.#lose(base.ret);
      const r = base.ret === Ret.Ok ? parseLoginReply(o) : undefined;
      if (!r) return this.#loopFailed(step, now);
      this.#failures = 0;
      this.#session = { uin: r.uin, sid: r.sid, skey: r.skey };
      this.#loginId = null;
      this.#adoptInitKey(r.syncKey);
      return this.#schedule('init', now);
    }
    if (base.ret === Ret.SessionInvalid) return this.#relogin(call.sid, now);
    if (step === 'init') {
      const r = base.ret === Ret.Ok ? parseInitReply(o) : undefined;
      if (!r) return this.#loopFailed(step, now);
      this.#failures = 0;
      if (r.skey) this.#session!.skey = r.skey;
      for (const c of r.contacts) this.#setContact(c);
      this.#adoptInitKey(r.syncKey);
      this.#becomeReady();
      // After a resync, fetch what is retained at once: a poll could hold while our key is below the floor.
      return this.#schedule(this.#fromZero.size > 0 ? 'sync' : 'check', now);
    }
    // sync
    if (base.ret === Ret.Resync) {
      this.#resyncNeeded();
      return this.#schedule('init', now + this.#setbackDelay());
    }
    const r = base.ret === Ret.Ok ? parseSyncReply(o) : undefined;
    if (!r) return this.#loopFailed(step, now);
    this.#failures = 0;
    const next = r.continueFlag === 1 ? 'sync' : 'check';
    if (this.#applySync(r)) {
      this.#setbacks = 0;
      this.#schedule(next, now);
    } else {
      // News that brought nothing: fine once, a server fault if it repeats; never spin.
      this.#schedule(next, now + this.#setbackDelay());
    }
  }

  #loopFailed(step: LoopStep, now: number): void {
    this.#schedule(step, now + this.#failureDelay());
  }

  #httpFailure(req: number, call: HttpCall, now: number, why: string): void {
    if (call.purpose === 'loop') {
      if (req === this.#loopReq) {
        this.#loopReq = undefined;
        this.#loopFailed(call.step!, now);
      }
    } else if (call.purpose === 'send') {
      const at = this.#attempts.get(call.localId!);
      const e = this.#outbox.get(call.localId!);
      if (at && e && at.req === req) this.#attemptFailed(e, now, NO_ANSWER, why);
    } else {
      this.#opFailed(call.op!, now, true);
    }
  }

  // ------------------------------------------------------------ long link

  #connect(now: number): void {
    this.#reconnectAt = undefined;
    const l: Link = {
      id: this.#nextLinkId++,
      phase: 'connecting',
      decoder: new PacketDecoder(),
      openBy: now + this.#cfg.replyTimeoutMs,
      nextSeq: 1,
      replies: new Map(),
      authSid: '',
      heartbeatMs: this.#cfg.defaultHeartbeatMs,
      nextHeartbeatAt: Infinity,
      syncSeq: undefined,
      syncAgain: false,
      lastSyncAt: now,
    };
    this.#link = l;
    this.#out({ kind: 'linkOpen', link: l.id });
  }

  #request(l: Link, op: number, what: LinkReply['what'], body: unknown, now: number, localId?: string): number {
    const seq = l.nextSeq;
    l.nextSeq = l.nextSeq >= 0xffffffff ? 1 : l.nextSeq + 1;
    const r: LinkReply = { what, deadline: now + this.#cfg.replyTimeoutMs };
    if (localId !== undefined) r.localId = localId;
    l.replies.set(seq, r);
    this.#out({ kind: 'linkWrite', link: l.id, bytes: encodeJsonPacket(op, seq, body) });
    return seq;
  }

  #syncLink(l: Link, now: number): void {
    if (l.phase !== 'open') return;
    if (l.syncSeq !== undefined) {
      l.syncAgain = true;
      return;
    }
    l.syncAgain = false;
    l.syncSeq = this.#request(l, Op.Sync, 'sync', { SyncKey: toSyncKeyJson(this.#presentedKey()) }, now);
  }

  #packet(l: Link, p: Packet, now: number): void {
    switch (p.op) {
      case Op.Notify:
        if (l.phase === 'open') this.#syncLink(l, now);
        return;
      case Op.Disconnect: {
        let body: unknown;
        try {
          body = decodeJsonBody(p);
        } catch {
          body = undefined;
        }
        const d = parseDisconnect(body);
        // 1100 here may be an idle or auth timeout: reconnect, and let the auth reply judge the session.
        if (d.ret === Ret.SessionReplaced && l.phase === 'open') return this.#sessionEnded(l.authSid, d.ret);
        return this.#linkFailure(now);
      }
      case Op.HeartbeatReply:
      case Op.AuthReply:
      case Op.SyncReply:
      case Op.SendReply:
        break;
      default:
        return this.#linkFailure(now); // garbage: an op the server never sends
    }
    const r = l.replies.get(p.seq);
    if (!r) return; // late: its request timed out on an earlier link state
    const expected = { heartbeat: Op.HeartbeatReply, auth: Op.AuthReply, sync: Op.SyncReply, send: Op.SendReply }[r.what];
    if (p.op !== expected) return this.#linkFailure(now);
    l.replies.delete(p.seq);
    if (r.what === 'heartbeat') return;
    let o: Obj | undefined;
    try {
      const v = decodeJsonBody(p);
      o = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
    } catch {
      o = undefined;
    }
    const base = baseOf(o);
    if (!o || !base) {
      if (r.what === 'send') this.#sendReplyLink(l, p.seq, r.localId!, undefined, now);
      return this.#linkFailure(now);
    }
    if (r.what === 'auth') return this.#authReply(l, o, base.ret, now);
    if (r.what === 'sync') return this.#syncReplyLink(l, o, base.ret, now);
    return this.#sendReplyLink(l, p.seq, r.localId!, o, now);
  }

  #authReply(l: Link, o: Obj, ret: number, now: number): void {
    if (ret === Ret.AuthFailed) return this.#lose(ret);
    if (ret === Ret.SessionReplaced) return l.authSid === '' ? this.#lose(ret) : this.#sessionEnded(l.authSid, ret);
    if (ret === Ret.SessionInvalid) {
      this.#failures = 0;
      return this.#relogin(l.authSid, now);
    }
    const r = ret === Ret.Ok ? parseLoginReply(o) : undefined;
    if (!r) return this.#linkFailure(now);
    // Failures are forgiven by a good sync, not by auth: a link that fails after
    // every auth (an answer it cannot read) must keep backing off.
    l.phase = 'open';
    l.authSid = r.sid;
    this.#session = { uin: r.uin, sid: r.sid, skey: r.skey };
    this.#loginId = null;
    if (r.heartbeatSec !== undefined) l.heartbeatMs = r.heartbeatSec * 1000;
    l.nextHeartbeatAt = now + l.heartbeatMs;
    this.#adoptInitKey(r.syncKey);
    this.#becomeReady();
    this.#syncLink(l, now);
  }

  #syncReplyLink(l: Link, o: Obj, ret: number, now: number): void {
    l.syncSeq = undefined;
    l.lastSyncAt = now; // whatever the answer, the safety sync waits a full period
    if (ret === Ret.SessionReplaced) return this.#sessionEnded(l.authSid, ret);
    if (ret === Ret.SessionInvalid) return this.#relogin(l.authSid, now);
    if (ret === Ret.Resync) {
      // Re-auth on a new link: its SyncKey tells where to go on (see #adoptInitKey).
      this.#resyncNeeded();
      return this.#dropLink(now, this.#setbackDelay(), true);
    }
    const r = ret === Ret.Ok ? parseSyncReply(o) : undefined;
    if (!r) return this.#linkFailure(now);
    const progressed = this.#applySync(r);
    // The link works end to end.
    this.#failures = 0;
    this.#setbacks = 0;
    // ContinueFlag without progress would spin: leave it to the next notify or safety sync.
    if ((r.continueFlag === 1 && progressed) || l.syncAgain) this.#syncLink(l, now);
  }

  /** Garbage, a timeout, a disconnect or a failed auth: close and reconnect after a backoff. */
  #linkFailure(now: number): void {
    this.#dropLink(now, this.#failureDelay(), true);
  }

  #dropLink(now: number, delay: number, close: boolean): void {
    const l = this.#link;
    if (l) {
      this.#link = undefined;
      if (close) this.#out({ kind: 'linkClose', link: l.id });
      for (const [localId, at] of [...this.#attempts]) {
        const e = this.#outbox.get(localId);
        if (at.link === l.id && e) this.#attemptFailed(e, now, NO_ANSWER, 'connection lost before the answer');
      }
    }
    if (this.#state !== 'stopped') this.#reconnectAt = now + delay;
  }

  // ------------------------------------------------------------ sessions

  #becomeReady(): void {
    if (this.#state !== 'loggingIn') return;
    this.#state = 'ready';
    this.#emit({ kind: 'loggedIn', uin: this.#session!.uin, sid: this.#session!.sid });
  }

  /** Ret 1100 for the session `sid`: log in again with the password (once per session). */
  #relogin(sid: string, now: number): void {
    if (!this.#session || this.#session.sid !== sid) return; // already logging in again, or an answer for an old session
    this.#session = null;
    this.#state = 'loggingIn';
    const delay = this.#setbackDelay();
    if (this.#http) {
      if (this.#loopReq !== undefined) this.#calls.delete(this.#loopReq);
      this.#loopReq = undefined;
      this.#schedule('login', now + delay);
    } else {
      this.#dropLink(now, delay, true);
    }
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
    if (this.#session && this.#session.sid === sid) this.#lose(ret);
  }

  /** 1101 (replaced, logged out) or 1103 (wrong password): stop for good. */
  #lose(ret: number): void {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#session = null;
    this.#loginId = null;
    if (this.#link) this.#out({ kind: 'linkClose', link: this.#link.id });
    this.#link = undefined;
    this.#reconnectAt = undefined;
    this.#calls.clear();
    this.#loop = undefined;
    this.#loopReq = undefined;
    for (const localId of this.#attempts.keys()) {
      const e = this.#outbox.get(localId);
      if (e) e.state = 'queued';
    }
    this.#attempts.clear();
    this.#emit({ kind: 'sessionLost', ret });
  }

  /** A network failure: the next try waits backoff(failures). */
  #failureDelay(): number {
    this.#failures++;
    return this.#backoff(this.#failures);
  }

  /** 1100, 1200 or empty news: act at once the first time, with backoff if it repeats before a good sync. */
  #setbackDelay(): number {
    const d = this.#setbacks === 0 ? 0 : this.#backoff(this.#setbacks);
    this.#setbacks++;
    return d;
  }

  #backoff(n: number): number {
    return this.#http
      ? backoffMs(n, this.#cfg.retryBaseMs, this.#cfg.retryMaxMs, this.#o.random)
      : backoffMs(n, this.#cfg.reconnectBaseMs, this.#cfg.reconnectMaxMs, this.#o.random);
  }

  // ------------------------------------------------------------ applying

  /** Ret 1200: announce the gap; the next init or auth key says where to go on. */
  #resyncNeeded(): void {
    this.#failures = 0;
    this.#emit({ kind: 'resync' });
    // Asking for everything retained got a 1200 as well: take the server's key as it is.
    this.#resyncPending = this.#fromZero.size > 0 ? 'adopt' : 'retained';
    this.#fromZero.clear();
  }

  /** The key a sync or synccheck presents: ours, with 0 for the categories that ask for everything retained. */
  #presentedKey(): SyncKeyMap {
    if (this.#fromZero.size === 0) return this.#key;
    const k = new Map(this.#key);
    for (const c of this.#fromZero) k.set(c, 0);
    return k;
  }

  /**
   * The key of manualauth, webwxinit or a link auth is max(what this device
   * acknowledged, the retention floor). Jumping to it could skip items still
   * retained (another instance of this device acknowledged them, or this is a
   * restart from an older save or a fresh install of a known device) or
   * pruned ones without a word. So a data category keeps our own position (0
   * when new: everything retained) and the server answers 1200 if it is below
   * the floor, a gap the resync event announces. After that 1200, a category
   * where the server's key is ahead of our non-zero position asks for
   * everything retained (presents 0 in the next sync, which answers from the
   * floor: the retained items this instance lacks come, those it holds are
   * dropped as duplicates by MsgId); a category at 0 takes the server's key
   * (presenting 0 is what got the 1200), and so does every category if the
   * ask for everything retained got a 1200 too. A position of 0 gets no 1200
   * otherwise (it asks for everything retained), so when the server's key is
   * ahead of a 0 we announce the possible gap ourselves: what was pruned
   * before this device first synced will not come. Keys of other categories
   * are kept as given, to be echoed.
   */
  #adoptInitKey(k: SyncKeyMap): boolean {
    if (this.#resyncPending === 'adopt') {
      this.#resyncPending = false;
      return this.#mergeKey(k);
    }
    if (this.#resyncPending === 'retained') {
      this.#resyncPending = false;
      const m: SyncKeyMap = new Map();
      for (const [key, val] of k) {
        const own = this.#key.get(key) ?? 0;
        if ((CATEGORIES as readonly number[]).includes(key) && own > 0 && val > own) this.#fromZero.add(key);
        else m.set(key, val);
      }
      return this.#mergeKey(m);
    }
    const m: SyncKeyMap = new Map();
    let behind = false;
    for (const [key, val] of k) {
      const data = (CATEGORIES as readonly number[]).includes(key);
      if (data && val > 0 && (this.#key.get(key) ?? 0) === 0) behind = true;
      m.set(key, data ? 0 : val);
    }
    if (behind && !this.#gapNoted) {
      this.#gapNoted = true;
      this.#emit({ kind: 'resync' });
    }
    return this.#mergeKey(m);
  }

  #mergeKey(k: SyncKeyMap): boolean {
    if (!mergeSyncKey(this.#key, k)) return false;
    this.#emit({ kind: 'syncKey', key: syncKeyPairs(this.#key) });
    return true;
  }

  #setContact(c: ContactItem): void {
    this.#contacts.set(c.UserName, c);
    this.#emit({ kind: 'contact', contact: c });
  }

  /**
   * One reply, one state change: messages, contacts, SKey and key together.
   * Returns whether anything new came (a message, a contact, a higher key).
   */
  #applySync(r: SyncReply): boolean {
    this.#gapNoted = false;
    // The reply's key is at least the floor where we asked for everything retained.
    this.#fromZero.clear();
    let fresh = r.contacts.length > 0 || r.deleted.length > 0;
    for (const m of r.messages) {
      if (!this.#noDedup && this.#seen.has(m.MsgId)) continue;
      this.#inbox.push(m);
      this.#seen.add(m.MsgId);
      this.#emit({ kind: 'applied', msg: m });
      fresh = true;
    }
    const over = this.#inbox.length - this.#cfg.maxInbox;
    if (over > 0) for (const m of this.#inbox.splice(0, over)) this.#seen.delete(m.MsgId);
    for (const c of r.contacts) this.#setContact(c);
    for (const c of r.deleted) this.#contacts.delete(c.UserName);
    if (r.skey && this.#session) this.#session.skey = r.skey;
    return this.#mergeKey(r.syncKey) || fresh;
  }

  // ------------------------------------------------------------ sends

  #transmit(e: OutboxEntry, at: Attempt, now: number): void {
    const msg = {
      ClientMsgId: e.clientMsgId,
      LocalID: e.localId,
      FromUserName: this.#o.userName,
      ToUserName: e.to,
      Type: e.type,
      Content: e.content,
    };
    at.deadline = Infinity;
    at.sid = this.#session!.sid;
    if (this.#http) {
      at.req = this.#post(
        PATHS.webwxsendmsg,
        { BaseRequest: this.#baseRequest(), Msg: msg, Scene: 0 },
        { purpose: 'send', localId: e.localId, sid: at.sid, deadline: now + this.#cfg.replyTimeoutMs },
      );
    } else {
      const l = this.#link!;
      at.link = l.id;
      at.seq = this.#request(l, Op.Send, 'send', msg, now, e.localId);
    }
  }

  #sendReplyHttp(req: number, call: HttpCall, o: Obj | undefined, now: number): void {
    const at = this.#attempts.get(call.localId!);
    if (!at || at.req !== req) return;
    this.#sendAnswer(call.localId!, at, o, now);
  }

  #sendReplyLink(l: Link, seq: number, localId: string, o: Obj | undefined, now: number): void {
    const at = this.#attempts.get(localId);
    if (!at || at.link !== l.id || at.seq !== seq) return;
    this.#sendAnswer(localId, at, o, now);
  }

  #sendAnswer(localId: string, at: Attempt, o: Obj | undefined, now: number): void {
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
      this.#emit({ kind: 'sendAcked', localId, clientMsgId: e.clientMsgId, msgId, attempts: e.attempts });
      return;
    }
    if (ret === Ret.ServerError || ret === Ret.Busy) return this.#attemptFailed(e, now, ret, errMsg);
    if (ret === Ret.SessionInvalid || ret === Ret.SessionReplaced) {
      if (ret === Ret.SessionInvalid) this.#relogin(at.sid, now);
      else this.#sessionEnded(at.sid, ret);
      // Retry as soon as a session is back (a no-op once stopped).
      return this.#attemptFailed(e, now, ret, errMsg, 0);
    }
    this.#fail(e, ret, errMsg);
  }

  /** One attempt got no useful answer: back off, or give up after maxSendAttempts. */
  #attemptFailed(e: OutboxEntry, now: number, ret: number, errMsg: string, delay?: number): void {
    this.#attempts.delete(e.localId);
    if (this.#state === 'stopped') {
      e.state = 'queued'; // for whoever starts from persisted()
      return;
    }
    if (e.attempts >= this.#cfg.maxSendAttempts) {
      return this.#fail(e, ret, errMsg || `no answer after ${e.attempts} attempts`);
    }
    e.state = 'queued';
    e.lastRet = ret;
    e.lastErrMsg = errMsg;
    e.nextAttemptAt = now + (delay ?? backoffMs(e.attempts, this.#cfg.retryBaseMs, this.#cfg.retryMaxMs, this.#o.random));
  }

  #fail(e: OutboxEntry, ret: number, errMsg: string): void {
    e.state = 'failed';
    e.lastRet = ret;
    e.lastErrMsg = errMsg;
    this.#emit({ kind: 'sendFailed', localId: e.localId, clientMsgId: e.clientMsgId, ret, errMsg });
  }

  // ------------------------------------------------------------ rooms and remarks

  #issueOp(op: PendingOp, now: number): void {
    op.attempts++;
    const path = op.kind === 'room' ? PATHS.webwxcreatechatroom : PATHS.webwxoplog;
    op.req = this.#post(
      path,
      { BaseRequest: this.#baseRequest(), ...op.body },
      { purpose: 'op', op, sid: this.#session!.sid, deadline: now + this.#cfg.replyTimeoutMs },
    );
  }

  #opReply(call: HttpCall, o: Obj | undefined, now: number): void {
    const op = call.op!;
    const base = baseOf(o);
    if (!o || !base) return this.#opFailed(op, now, true);
    if (base.ret === Ret.Ok) {
      this.#removeOp(op);
      if (op.kind === 'room' && typeof o['ChatRoomName'] === 'string') {
        this.#emit({ kind: 'groupCreated', chatRoomName: o['ChatRoomName'], members: memberNames(o) });
      }
      return;
    }
    if (base.ret === Ret.SessionInvalid || base.ret === Ret.SessionReplaced) {
      if (base.ret === Ret.SessionInvalid) this.#relogin(call.sid, now);
      else this.#sessionEnded(call.sid, base.ret);
      return this.#opFailed(op, now, false, 0);
    }
    if (base.ret === Ret.ServerError || base.ret === Ret.Busy) return this.#opFailed(op, now, false);
    this.#removeOp(op);
  }

  /** `lost`: the request may or may not have been carried out (only a remark is safe to repeat then). */
  #opFailed(op: PendingOp, now: number, lost: boolean, delay?: number): void {
    op.req = undefined;
    if ((lost && op.kind === 'room') || op.attempts >= this.#cfg.maxSendAttempts) return this.#removeOp(op);
    op.nextAttemptAt = now + (delay ?? backoffMs(op.attempts, this.#cfg.retryBaseMs, this.#cfg.retryMaxMs, this.#o.random));
  }

  #removeOp(op: PendingOp): void {
    const i = this.#ops.indexOf(op);
    if (i >= 0) this.#ops.splice(i, 1);
  }

  // ------------------------------------------------------------ output

  #rand(): number {
    const r = this.#o.random();
    return r >= 0 && r < 1 ? r : 0;
  }

  #out(a: ClientAction): void {
    this.#queue.push({ a });
  }

  #emit(e: ClientEvent): void {
    this.#queue.push({ e });
  }

  /** Runs one input; what it produced leaves after it, in order. */
  #run(f: () => void): void {
    this.#depth++;
    try {
      f();
    } finally {
      this.#depth--;
    }
    if (this.#depth > 0 || this.#draining) return;
    this.#draining = true;
    try {
      for (let i = 0; i < this.#queue.length; i++) {
        const item = this.#queue[i]!;
        if ('a' in item) this.#o.out(item.a);
        else this.#o.emit(item.e);
      }
    } finally {
      this.#queue = [];
      this.#draining = false;
    }
  }
}
