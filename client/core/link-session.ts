// The long link (TCP or WebSocket, the same packets): connect, authenticate
// (resume the session, or log in by password), then sync on every notify and
// at least every safetySyncMs, heartbeat, and carry sends. Any failure closes
// the link and reconnects after a backoff. Link ids are numbered by the core
// from 1; a driver with several cores maps them to its own.
import { Ret } from '../../server/core/ret.ts';
import { PacketDecoder } from '../../server/wire/packet-decoder.ts';
import { Op, decodeJsonBody, encodeJsonPacket, type Packet } from '../../server/wire/packet.ts';
import { toSyncKeyJson } from '../../server/wire/synckey.ts';
import type { ClientConfig } from './client-config.ts';
import type { OutputQueue } from './client-output.ts';
import type { Inbox } from './inbox.ts';
import { baseOf, parseDisconnect, parseLoginReply, parseSyncReply, type Obj } from './replies.ts';
import type { RetryPacing } from './retry-pacing.ts';
import type { Session, SessionEnds } from './session.ts';
import { applySyncReply } from './sync-reply.ts';
import type { SyncPosition } from './sync-position.ts';

/** A request on the link, waiting for its reply. */
type LinkReply =
  | { what: 'auth'; deadline: number }
  | { what: 'heartbeat'; deadline: number }
  | { what: 'sync'; deadline: number }
  | { what: 'send'; deadline: number; localId: string };

const REPLY_OP = { heartbeat: Op.HeartbeatReply, auth: Op.AuthReply, sync: Op.SyncReply, send: Op.SendReply } as const;

/** seq is a u32 in the packet header; it wraps to 1. */
const MAX_SEQ = 0xffffffff;

const MS_PER_SECOND = 1000;

/** The one sync a link has out at a time; a notify meanwhile asks for another once it is answered. */
type LinkSync = 'idle' | 'asked' | 'askedAgain';

interface Link {
  id: number;
  phase: 'connecting' | 'authing' | 'open';
  decoder: PacketDecoder;
  /** connecting: opened by then or dropped. */
  openBy: number;
  nextSeq: number;
  replies: Map<number, LinkReply>;
  /** The session the auth named ('' for a login by password), then the one it made. */
  authSid: string;
  heartbeatMs: number;
  nextHeartbeatAt: number;
  sync: LinkSync;
  lastSyncAt: number;
}

type LinkState =
  /** Not started, or stopped. */
  | { name: 'down' }
  /** No link: connect at `reconnectAt`. */
  | { name: 'backingOff'; reconnectAt: number }
  | { name: 'up'; link: Link };

/** What the link tells the sender about the attempts it carries. */
export interface LinkSends {
  /** A send reply (o undefined: unreadable). */
  linkReply(link: number, seq: number, localId: string, o: Obj | undefined, now: number): void;
  /** The link is gone: its unanswered attempts failed. */
  linkLost(link: number, now: number): void;
}

/** What the link reads and changes. */
export interface LinkParts {
  cfg: ClientConfig;
  output: OutputQueue;
  session: Session;
  position: SyncPosition;
  inbox: Inbox;
  pacing: RetryPacing;
  ends: SessionEnds;
  sends: LinkSends;
}

export class LinkSession {
  readonly #p: LinkParts;
  #state: LinkState = { name: 'down' };
  #nextLinkId = 1;

  constructor(parts: LinkParts) {
    this.#p = parts;
  }

  start(now: number): void {
    this.#state = { name: 'backingOff', reconnectAt: now };
  }

  /** Connects when due; heartbeats and safety syncs on an open link. */
  pump(now: number): void {
    if (this.#state.name === 'backingOff' && this.#state.reconnectAt <= now) this.#connect(now);
    const l = this.#current();
    if (l && l.phase === 'open') {
      if (l.nextHeartbeatAt <= now) {
        this.#request(l, Op.Heartbeat, undefined, { what: 'heartbeat', deadline: this.#replyBy(now) });
        l.nextHeartbeatAt = now + l.heartbeatMs;
      }
      if (l.sync === 'idle' && l.lastSyncAt + this.#p.cfg.safetySyncMs <= now) this.#sync(l, now);
    }
  }

  /** When pump() or expire() has work; Infinity when none. */
  wakeAt(): number {
    const s = this.#state;
    if (s.name === 'down') return Infinity;
    if (s.name === 'backingOff') return s.reconnectAt;
    const l = s.link;
    let t = Infinity;
    if (l.phase === 'connecting') t = Math.min(t, l.openBy);
    for (const r of l.replies.values()) t = Math.min(t, r.deadline);
    if (l.phase === 'open') {
      t = Math.min(t, l.nextHeartbeatAt);
      if (l.sync === 'idle') t = Math.min(t, l.lastSyncAt + this.#p.cfg.safetySyncMs);
    }
    return t;
  }

  /** A connect or a reply too late drops the link. */
  expire(now: number): void {
    const l = this.#current();
    if (!l) return;
    let late = l.phase === 'connecting' && l.openBy <= now;
    for (const r of l.replies.values()) if (r.deadline <= now) late = true;
    if (late) this.#failure(now);
  }

  canSend(): boolean {
    return this.#current()?.phase === 'open';
  }

  /** A 1100: re-auth on a new link after `delay`, by password. */
  loginAgain(now: number, delay: number): void {
    this.#drop(now, delay, true);
  }

  stop(): void {
    const l = this.#current();
    if (l) this.#p.output.action({ kind: 'linkClose', link: l.id });
    this.#state = { name: 'down' };
  }

  /** Sends a message on the open link; where its reply will come. */
  send(msg: Obj, localId: string, now: number): { link: number; seq: number } {
    const l = this.#current()!;
    return { link: l.id, seq: this.#request(l, Op.Send, msg, { what: 'send', deadline: this.#replyBy(now), localId }) };
  }

  // opened(), data() and closed() return false for a link that is not ours
  // (an old one, or after a stop): the input is ignored.

  opened(link: number, now: number): boolean {
    const l = this.#current();
    if (!l || l.id !== link || l.phase !== 'connecting' || this.#p.session.stopped) return false;
    l.phase = 'authing';
    l.authSid = this.#p.session.sid;
    this.#request(l, Op.Auth, this.#p.session.authBody(now), { what: 'auth', deadline: this.#replyBy(now) });
    return true;
  }

  data(link: number, bytes: Uint8Array, now: number): boolean {
    const l = this.#current();
    if (!l || l.id !== link || l.phase === 'connecting' || this.#p.session.stopped) return false;
    const { packets, error } = l.decoder.push(bytes);
    for (const p of packets) {
      if (this.#current() !== l) break; // a packet closed the link; the rest is moot
      this.#packet(l, p, now);
    }
    if (error && this.#current() === l) this.#failure(now);
    return true;
  }

  closed(link: number, now: number): boolean {
    const l = this.#current();
    if (!l || l.id !== link || this.#p.session.stopped) return false;
    this.#drop(now, this.#p.pacing.failureDelay(), false);
    return true;
  }

  #current(): Link | undefined {
    return this.#state.name === 'up' ? this.#state.link : undefined;
  }

  #connect(now: number): void {
    const { cfg, output } = this.#p;
    const l: Link = {
      id: this.#nextLinkId++,
      phase: 'connecting',
      decoder: new PacketDecoder(),
      openBy: now + cfg.replyTimeoutMs,
      nextSeq: 1,
      replies: new Map(),
      authSid: '',
      heartbeatMs: cfg.defaultHeartbeatMs,
      nextHeartbeatAt: Infinity,
      sync: 'idle',
      lastSyncAt: now,
    };
    this.#state = { name: 'up', link: l };
    output.action({ kind: 'linkOpen', link: l.id });
  }

  /** Every reply on the link is due within replyTimeoutMs, or the link is dropped. */
  #replyBy(now: number): number {
    return now + this.#p.cfg.replyTimeoutMs;
  }

  /** Writes one request and waits for `r`; returns its seq. */
  #request(l: Link, op: number, body: unknown, r: LinkReply): number {
    const seq = l.nextSeq;
    l.nextSeq = l.nextSeq >= MAX_SEQ ? 1 : l.nextSeq + 1;
    l.replies.set(seq, r);
    this.#p.output.action({ kind: 'linkWrite', link: l.id, bytes: encodeJsonPacket(op, seq, body) });
    return seq;
  }

  #sync(l: Link, now: number): void {
    if (l.phase !== 'open') return;
    if (l.sync !== 'idle') {
      l.sync = 'askedAgain';
      return;
    }
    l.sync = 'asked';
    const body = { SyncKey: toSyncKeyJson(this.#p.position.presented()) };
    this.#request(l, Op.Sync, body, { what: 'sync', deadline: this.#replyBy(now) });
  }

  #packet(l: Link, p: Packet, now: number): void {
    switch (p.op) {
      case Op.Notify:
        if (l.phase === 'open') this.#sync(l, now);
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
        if (d.ret === Ret.SessionReplaced && l.phase === 'open') return this.#p.ends.ended(l.authSid, d.ret);
        return this.#failure(now);
      }
      case Op.HeartbeatReply:
      case Op.AuthReply:
      case Op.SyncReply:
      case Op.SendReply:
        break;
      default:
        return this.#failure(now); // garbage: an op the server never sends
    }
    const r = l.replies.get(p.seq);
    if (!r) return; // late: its request timed out on an earlier link state
    if (p.op !== REPLY_OP[r.what]) return this.#failure(now);
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
      if (r.what === 'send') this.#p.sends.linkReply(l.id, p.seq, r.localId, undefined, now);
      return this.#failure(now);
    }
    if (r.what === 'auth') return this.#authReply(l, o, base.ret, now);
    if (r.what === 'sync') return this.#syncReply(l, o, base.ret, now);
    return this.#p.sends.linkReply(l.id, p.seq, r.localId, o, now);
  }

  #authReply(l: Link, o: Obj, ret: number, now: number): void {
    const { session, position, pacing, ends } = this.#p;
    if (ret === Ret.AuthFailed) return ends.lose(ret);
    // Refused for now (the op 6 that follows finds the link gone): reconnect after the server's hint.
    if (ret === Ret.Busy || ret === Ret.TooManyAttempts) return this.#drop(now, pacing.loginRefusedDelay(baseOf(o)?.errMsg ?? ''), true);
    if (ret === Ret.SessionReplaced) return l.authSid === '' ? ends.lose(ret) : ends.ended(l.authSid, ret);
    if (ret === Ret.SessionInvalid) {
      pacing.answered();
      return ends.relogin(l.authSid, now);
    }
    const r = ret === Ret.Ok ? parseLoginReply(o) : undefined;
    if (!r) return this.#failure(now);
    // Failures are forgiven by a good sync, not by auth: a link that fails after
    // every auth (an answer it cannot read) must keep backing off.
    l.phase = 'open';
    l.authSid = r.sid;
    session.established(r);
    if (r.heartbeatSec !== undefined) l.heartbeatMs = r.heartbeatSec * MS_PER_SECOND;
    l.nextHeartbeatAt = now + l.heartbeatMs;
    position.adoptInitKey(r.syncKey);
    session.becomeReady();
    this.#sync(l, now);
  }

  #syncReply(l: Link, o: Obj, ret: number, now: number): void {
    const { position, pacing, ends } = this.#p;
    const again = l.sync === 'askedAgain';
    l.sync = 'idle';
    l.lastSyncAt = now; // whatever the answer, the safety sync waits a full period
    if (ret === Ret.SessionReplaced) return ends.ended(l.authSid, ret);
    if (ret === Ret.SessionInvalid) return ends.relogin(l.authSid, now);
    if (ret === Ret.Resync) {
      // Re-auth on a new link: its SyncKey tells where to go on (see SyncPosition.adoptInitKey).
      pacing.answered();
      position.resyncNeeded();
      return this.#drop(now, pacing.setbackDelay(), true);
    }
    const r = ret === Ret.Ok ? parseSyncReply(o) : undefined;
    if (!r) return this.#failure(now);
    const progressed = applySyncReply(r, this.#p);
    // The link works end to end.
    pacing.answered();
    pacing.progressed();
    // ContinueFlag without progress would spin: leave it to the next notify or safety sync.
    if ((r.more && progressed) || again) this.#sync(l, now);
  }

  /** Garbage, a timeout, a disconnect or a failed auth: close and reconnect after a backoff. */
  #failure(now: number): void {
    this.#drop(now, this.#p.pacing.failureDelay(), true);
  }

  #drop(now: number, delay: number, close: boolean): void {
    const l = this.#current();
    if (l) {
      this.#state = { name: 'down' };
      if (close) this.#p.output.action({ kind: 'linkClose', link: l.id });
      this.#p.sends.linkLost(l.id, now);
    }
    if (!this.#p.session.stopped) this.#state = { name: 'backingOff', reconnectAt: now + delay };
  }
}
