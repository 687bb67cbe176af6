// The server as one sans-IO state machine: HTTP requests, long-link bytes and
// ticks go in; answers, packets and closes come out through `out`. The real
// transports (server/transport/) and the simulator drive this same object.
import { Op, decodeJsonBody, encodeJsonPacket, encodePacket, type Packet } from '../wire/packet.ts';
import type { Store } from '../store/store.ts';
import type { Step } from '../store/store-ops.ts';
import { CommandRunner } from './command-runner.ts';
import { coreConfig, type CoreConfig } from '../core/config.ts';
import type { PasswordHasher, RandomSource } from '../core/deps.ts';
import { ROUTES, errorAnswer, jsonAnswer, splitUrl, syncCheckAnswer, type HttpAnswer } from './http-api.ts';
import { LongLink } from './long-link.ts';
import { idleTimeoutMs, nodeConfig, type NodeConfig } from './node-config.ts';
import { NO_BUGS, type BugSet } from '../core/planted-bugs.ts';
import { PollRegistry, type Poll } from './poll-registry.ts';
import type { Caller } from '../core/auth.ts';
import type { CoreEffect, Plan } from '../core/plan.ts';
import { ProtocolCore } from '../core/protocol-core.ts';
import type { SyncCheckReply } from '../core/replies.ts';
import { Selector } from '../core/model.ts';
import { Ret } from '../core/ret.ts';
import { isObj } from '../core/validate.ts';

/** Room in a sync reply for what surrounds its items: keys, SKey, counts. */
const SYNC_REPLY_ENVELOPE_BYTES = 2048;

export type ServerAction =
  | { kind: 'respond'; req: number; answer: HttpAnswer }
  | { kind: 'write'; link: number; bytes: Uint8Array }
  /** Close the link after what was written so far. */
  | { kind: 'close'; link: number };

export interface ServerNodeOptions {
  store: Store;
  random: RandomSource;
  hasher: PasswordHasher;
  out: (a: ServerAction) => void;
  core?: Partial<CoreConfig>;
  node?: Partial<NodeConfig>;
  bugs?: BugSet;
}

export interface NodeStats {
  links: number;
  openLinks: number;
  polls: number;
  commands: number;
  commits: number;
  failures: number;
}

export class ServerNode {
  readonly core: ProtocolCore;
  readonly config: NodeConfig;
  private readonly runner: CommandRunner;
  private readonly polls: PollRegistry;
  private readonly links = new Map<number, LongLink>();
  /** Authenticated links per account, in login order. */
  private readonly linksByUin = new Map<number, Set<LongLink>>();
  private readonly out: (a: ServerAction) => void;
  private readonly bugs: BugSet;
  private readonly idleMs: number;
  private nextLinkScan = 0;
  /** The background retention sweep: where it is, and when its next step runs. */
  private sweepCursor = 0;
  private nextSweepAt = -Infinity;
  private sweeping = false;
  /** Polls whose registration the synccheck-race bug defers past the batch's effects. */
  private deferredPolls: Array<() => void> = [];

  constructor(o: ServerNodeOptions) {
    this.config = nodeConfig(o.node);
    this.bugs = o.bugs ?? NO_BUGS;
    const core = coreConfig(o.core);
    // A sync reply (op 11) must fit one packet: its items plus the envelope (keys, SKey, counts).
    if (core.maxSyncReplyBytes + SYNC_REPLY_ENVELOPE_BYTES > this.config.maxPacketBody) {
      throw new RangeError(`core maxSyncReplyBytes (${core.maxSyncReplyBytes}) must be at least 2 KiB below node maxPacketBody (${this.config.maxPacketBody})`);
    }
    this.core = new ProtocolCore(core, { random: o.random, hasher: o.hasher, bugs: this.bugs });
    this.runner = new CommandRunner(o.store, this.bugs, this.config.maxBatch);
    this.polls = new PollRegistry(this.config.maxPollsPerAccount, this.config.maxPolls);
    this.out = o.out;
    this.idleMs = idleTimeoutMs(this.config);
  }

  /** Commands are waiting for a commit: the driver should call flush() soon. */
  get needsFlush(): boolean {
    return this.runner.hasWork;
  }

  stats(): NodeStats {
    let open = 0;
    for (const l of this.links.values()) if (l.state === 'open') open++;
    return { links: this.links.size, openLinks: open, polls: this.polls.size, ...this.runner.stats };
  }

  /** Commit the batch, answer it, then notify: effects leave only after the commit. */
  flush(now: number): void {
    const effects = this.runner.flush();
    this.applyEffects(effects, now);
    const deferred = this.deferredPolls;
    this.deferredPolls = [];
    for (const f of deferred) f();
  }

  /** A crash: every volatile thing is gone. The driver drops this node and builds a new one on the same store. */
  crash(): void {
    this.runner.crash();
  }

  // ---- HTTP ----

  httpRequest(req: number, method: string, url: string, body: string, now: number): void {
    const { path, query } = splitUrl(url);
    const route = ROUTES.get(path);
    if (!route) return this.respond(req, errorAnswer(404, Ret.BadRequest, `no endpoint at ${path.slice(0, 80)}`));
    if (method !== route.method) {
      return this.respond(req, errorAnswer(405, Ret.BadRequest, `${route.endpoint} takes ${route.method}`, { Allow: route.method }));
    }
    if (route.endpoint === 'synccheck') return this.syncCheck(req, query, now);
    let json: unknown;
    try {
      json = body === '' ? undefined : JSON.parse(body);
    } catch {
      return this.respond(req, errorAnswer(400, Ret.BadRequest, 'request body is not valid JSON'));
    }
    if (!isObj(json)) return this.respond(req, errorAnswer(400, Ret.BadRequest, 'request body must be a JSON object'));
    const caller: Caller = { kind: 'http', base: json['BaseRequest'], checkSkey: true };
    const core = this.core;
    let step: Step<Plan<unknown>>;
    switch (route.endpoint) {
      case 'register':
        step = core.register(json, now);
        break;
      case 'manualauth':
        step = core.login(json, now);
        break;
      case 'webwxinit':
        step = core.init(caller, now);
        break;
      case 'webwxsync':
        step = core.sync(caller, json['SyncKey'], now);
        break;
      case 'webwxsendmsg':
        step = core.send(caller, json['Msg'], now);
        break;
      case 'webwxcreatechatroom':
        step = core.createChatRoom(caller, json, now);
        break;
      case 'webwxoplog':
        step = core.oplog(caller, json, now);
        break;
      case 'webwxlogout':
        step = core.logout(caller, now);
        break;
    }
    this.runner.submit(step, (reply) => this.respond(req, jsonAnswer(reply)));
  }

  /** The client of a waiting request went away. */
  httpAborted(req: number): void {
    this.polls.remove(req);
  }

  private syncCheck(req: number, query: Record<string, string>, now: number): void {
    this.runner.submit(this.core.syncCheck(query, now), (r) => {
      const reply = r as SyncCheckReply;
      if (reply.retcode !== Ret.Ok || reply.selector !== Selector.None) return this.respond(req, syncCheckAnswer(reply.retcode, reply.selector));
      const poll: Poll = {
        req,
        uin: reply.uin,
        sid: query['sid'] ?? '',
        deviceId: query['deviceid'] ?? '',
        deadline: now + this.config.holdMs,
        seq: reply.seq,
      };
      const register = (): void => {
        const added = this.polls.add(poll, !this.bugs.has('synccheck-race'));
        // An append this poll did not see: any news selector sends the client to sync.
        if (added.kind === 'stale') this.respond(req, syncCheckAnswer(Ret.Ok, Selector.Messages));
        else if (added.kind === 'full') this.respond(req, syncCheckAnswer(Ret.Busy, Selector.None));
        else if (added.evicted) this.respond(added.evicted.req, syncCheckAnswer(Ret.Ok, Selector.None));
      };
      if (this.bugs.has('synccheck-race')) this.deferredPolls.push(register);
      else register();
    });
  }

  private respond(req: number, answer: HttpAnswer): void {
    this.out({ kind: 'respond', req, answer });
  }

  // ---- long links ----

  linkOpened(id: number, transport: 'tcp' | 'ws', now: number): void {
    this.links.set(id, new LongLink(id, transport, now, this.config.maxPacketBody));
    this.nextLinkScan = Math.min(this.nextLinkScan, now + Math.min(this.config.authTimeoutMs, this.idleMs));
  }

  linkClosed(id: number): void {
    const link = this.links.get(id);
    if (!link) return;
    link.state = 'closed';
    this.links.delete(id);
    this.unindex(link);
  }

  linkData(id: number, bytes: Uint8Array, now: number): void {
    const link = this.links.get(id);
    if (!link || link.state === 'closed') return;
    link.lastRecvAt = now;
    const { packets, error } = link.decoder.push(bytes);
    for (const p of packets) {
      if (link.closed) return;
      this.packet(link, p, now);
    }
    if (error && !link.closed) this.disconnect(link, Ret.BadRequest, `${error.code}: ${error.message}`);
  }

  private packet(link: LongLink, p: Packet, now: number): void {
    if (p.op === Op.Heartbeat) {
      this.write(link, encodePacket(Op.HeartbeatReply, p.seq));
      if (link.state === 'open' && now - link.lastTouchAt >= this.core.config.lastSeenGranularityMs) {
        link.lastTouchAt = now;
        this.runner.submit(this.core.heartbeat({ kind: 'link', uin: link.uin, sid: link.sid, deviceId: link.deviceId }, now), () => {});
      }
      return;
    }
    const known = p.op === Op.Auth || p.op === Op.Send || p.op === Op.Sync;
    if (!known) return this.disconnect(link, Ret.BadRequest, `unknown operation ${p.op}`);
    let body: unknown;
    try {
      body = decodeJsonBody(p);
    } catch {
      return this.disconnect(link, Ret.BadRequest, `operation ${p.op}: body is not valid JSON`);
    }
    if (p.op === Op.Auth) return this.auth(link, p.seq, body, now);
    if (link.state !== 'open') {
      return this.disconnect(link, Ret.SessionInvalid, link.state === 'authing' ? 'wait for the auth reply (op 8)' : 'authenticate first (op 7)');
    }
    const caller: Caller = { kind: 'link', uin: link.uin, sid: link.sid, deviceId: link.deviceId };
    if (p.op === Op.Send) {
      this.runner.submit(this.core.send(caller, body, now), (reply) => this.write(link, encodeJsonPacket(Op.SendReply, p.seq, reply)));
    } else {
      const key = isObj(body) ? body['SyncKey'] : undefined;
      this.runner.submit(this.core.sync(caller, key, now), (reply) => this.write(link, encodeJsonPacket(Op.SyncReply, p.seq, reply)));
    }
  }

  private auth(link: LongLink, seq: number, body: unknown, now: number): void {
    if (link.state !== 'unauth') return this.disconnect(link, Ret.BadRequest, 'already authenticated');
    link.state = 'authing';
    const bySid = isObj(body) && body['Sid'] !== undefined;
    const step = bySid ? this.core.resume(body, now) : this.core.login(body, now);
    this.runner.submit(step, (reply) => {
      if (link.state !== 'authing') return;
      if (!('Sid' in reply)) {
        this.write(link, encodeJsonPacket(Op.AuthReply, seq, reply));
        return this.disconnect(link, reply.BaseResponse.Ret, reply.BaseResponse.ErrMsg);
      }
      const uin = reply.Uin;
      const mine = this.linksByUin.get(uin);
      // A device has one link: its newer one closes the old.
      const deviceId = (body as Record<string, unknown>)['DeviceID'] as string;
      for (const other of [...(mine ?? [])]) {
        if (other.deviceId === deviceId) this.disconnect(other, Ret.LinkReplaced, 'this device opened a newer long link');
      }
      if ((this.linksByUin.get(uin)?.size ?? 0) >= this.config.maxLinksPerAccount) {
        this.write(link, encodeJsonPacket(Op.AuthReply, seq, { BaseResponse: { Ret: Ret.LimitExceeded, ErrMsg: 'too many long links for this account' } }));
        return this.disconnect(link, Ret.LimitExceeded, 'too many long links for this account');
      }
      link.state = 'open';
      link.lastTouchAt = now;
      link.uin = uin;
      link.sid = reply.Sid;
      link.deviceId = deviceId;
      let set = this.linksByUin.get(uin);
      if (!set) this.linksByUin.set(uin, (set = new Set()));
      set.add(link);
      this.write(link, encodeJsonPacket(Op.AuthReply, seq, { ...reply, HeartbeatSec: this.config.heartbeatSec }));
    });
  }

  private write(link: LongLink, bytes: Uint8Array): void {
    if (link.state === 'closed') return;
    this.out({ kind: 'write', link: link.id, bytes });
  }

  private disconnect(link: LongLink, ret: number, errMsg: string): void {
    if (link.state === 'closed') return;
    this.write(link, encodeJsonPacket(Op.Disconnect, 0, { Ret: ret, ErrMsg: errMsg }));
    this.out({ kind: 'close', link: link.id });
    this.linkClosed(link.id);
  }

  private unindex(link: LongLink): void {
    const set = this.linksByUin.get(link.uin);
    if (!set) return;
    set.delete(link);
    if (set.size === 0) this.linksByUin.delete(link.uin);
  }

  // ---- effects and time ----

  private applyEffects(effects: CoreEffect[], now: number): void {
    for (const e of effects) {
      if (e.kind === 'appended') {
        this.polls.noteAppended(e.uin, e.seq);
        for (const p of this.polls.takeAccount(e.uin)) this.respond(p.req, syncCheckAnswer(Ret.Ok, e.selector));
        const links = this.linksByUin.get(e.uin);
        if (links) {
          const notify = encodeJsonPacket(Op.Notify, 0, { Selector: e.selector });
          for (const l of links) this.write(l, notify);
        }
      } else {
        for (const p of this.polls.takeAccount(e.uin)) {
          if (p.sid === e.sid) this.respond(p.req, syncCheckAnswer(e.ret, Selector.None));
          else this.polls.add(p, false);
        }
        for (const l of [...(this.linksByUin.get(e.uin) ?? [])]) {
          if (l.sid === e.sid) this.disconnect(l, e.ret, e.ret === Ret.SessionReplaced ? 'session replaced or logged out' : 'session ended');
        }
      }
    }
    void now;
  }

  /** Expire long polls and silent links; step the retention sweep. */
  tick(now: number): void {
    for (const p of this.polls.expire(now)) this.respond(p.req, syncCheckAnswer(Ret.Ok, Selector.None));
    if (now >= this.nextSweepAt && !this.sweeping) {
      this.nextSweepAt = now + this.config.sweepIntervalMs;
      this.sweeping = true;
      this.runner.submit(this.core.sweep(this.sweepCursor, now), (r) => {
        this.sweeping = false;
        this.sweepCursor = 'next' in r ? r.next : 0;
      });
    }
    if (now < this.nextLinkScan) return;
    let next = Infinity;
    for (const link of [...this.links.values()]) {
      const d = link.deadline(this.config.authTimeoutMs, this.idleMs);
      if (d <= now) {
        const why = link.state === 'open' ? 'idle timeout: no heartbeat' : 'auth timeout: send op 7 first';
        this.disconnect(link, Ret.SessionInvalid, why);
      } else if (d < next) next = d;
    }
    this.nextLinkScan = next;
  }

  /** The earliest time tick() has work, for drivers that sleep (the simulator). */
  nextWakeAt(): number | undefined {
    const p = this.polls.nextDeadline();
    const l = this.links.size > 0 ? this.nextLinkScan : Infinity;
    const m = Math.min(p ?? Infinity, l, this.nextSweepAt);
    return m === Infinity ? undefined : m;
  }
}
