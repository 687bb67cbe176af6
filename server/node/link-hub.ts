// Every long link of the node: framing, auth, the packets of each link, the
// deadlines that close links, and the flow control that keeps one link from
// starving the others. A link gets at most maxLinkInFlight packets per turn
// and unanswered commands at once; past that the node stops reading it (the
// driver is told to pause it) and serves it again on a later round, links
// taking turns round-robin, one round per flush. A condemned (closed) link
// gets nothing more run.
import { Op, WebLoginOp, decodeJsonBody, encodeJsonPacket, encodePacket, type Packet } from '../wire/packet.ts';
import type { Step } from '../store/store-ops.ts';
import type { Runner, Done } from './runner.ts';
import type { Caller } from '../core/auth.ts';
import { refuse, type Plan } from '../core/plan.ts';
import type { ProtocolCore } from '../core/protocol-core.ts';
import type { LoginReply } from '../core/replies.ts';
import { errorReply, Ret, type ErrorReply } from '../core/ret.ts';
import { isObj } from '../core/validate.ts';
import type { AnswerCounts, DisconnectCode, LinkCommand } from './answer-counts.ts';
import { faultDisconnect, type LinkFaultCode } from './link-fault.ts';
import { LongLink } from './long-link.ts';
import { NO_BUDGET, type LinkBudget } from './round-budget.ts';
import { idleTimeoutMs, type NodeConfig } from './node-config.ts';
import type { PasswordGate } from './password-gate.ts';
import type { Submit, WebLogin } from './web-login.ts';

export type { LinkAction, LinkStats } from './link-types.ts';
import type { LinkAction, LinkStats } from './link-types.ts';

export class LinkHub {
  private readonly links = new Map<number, LongLink>();
  /** Authenticated links per account, in login order. */
  private readonly linksByUin = new Map<number, Set<LongLink>>();
  /** Links whose auth resolved to an account and awaits its commit: they count against the account's limit. */
  private readonly reservedByUin = new Map<number, Set<LongLink>>();
  /** Paused links, in the order their next turn comes. */
  private readonly held = new Set<LongLink>();
  /** Links with an unfinished packet, held to packetTimeoutMs. */
  private readonly partial = new Set<LongLink>();
  private readonly idleMs: number;
  private openCount = 0;
  private faults = 0;
  private round = 1;
  private nextLinkScan = 0;

  constructor(
    private readonly core: ProtocolCore,
    private readonly runner: Runner,
    private readonly gate: PasswordGate,
    private readonly config: NodeConfig,
    private readonly out: (a: LinkAction) => void,
    /** Each reply and op 6 is counted here as it is made (server/node/answer-counts.ts). */
    private readonly counts: AnswerCounts,
    /** The round's work budget (ServerNode): a link that made the round heavy waits for the next one. */
    private readonly budget: LinkBudget = NO_BUDGET,
    /** The QR web login, whose scan and confirm a phone may send over its link (ops 30 and 32). */
    private readonly web?: WebLogin,
  ) {
    this.idleMs = idleTimeoutMs(config);
  }

  get size(): number {
    return this.links.size;
  }

  /** Paused links wait for a flush to get their next turn. */
  get waiting(): boolean {
    return this.held.size > 0;
  }

  stats(): LinkStats {
    let buffered = 0;
    for (const l of this.links.values()) buffered += l.decoder.memoryBytes;
    return { links: this.links.size, openLinks: this.openCount, pausedLinks: this.held.size, linkBufferedBytes: buffered, linkFaults: this.faults };
  }

  // ---- input from the driver ----

  opened(id: number, transport: 'tcp' | 'ws', remote: string, now: number): void {
    const link = new LongLink(id, transport, remote, now, this.config.maxPacketBody);
    this.links.set(id, link);
    this.nextLinkScan = Math.min(this.nextLinkScan, now + Math.min(this.config.authTimeoutMs, this.idleMs));
    if (this.links.size - this.openCount > this.config.maxUnauthLinks) this.fault(link, 'LINK_UNAUTH_LIMIT');
  }

  closed(id: number): void {
    const link = this.links.get(id);
    if (!link) return;
    if (link.state === 'open') this.openCount--;
    link.state = 'closed';
    this.links.delete(id);
    this.unindex(link);
    this.unreserve(link);
    this.held.delete(link);
    this.partial.delete(link);
  }

  data(id: number, bytes: Uint8Array, now: number): void {
    const link = this.links.get(id);
    if (!link || link.state === 'closed' || bytes.length === 0) return;
    // A driver that pauses the link when told stays far below this; one that does not is cut.
    if (link.paused && link.decoder.bufferedBytes + bytes.length > this.config.maxLinkBufferBytes) {
      return this.fault(link, 'LINK_INPUT_OVERFLOW');
    }
    if (!link.decoder.midPacket) link.packetStartAt = now;
    link.decoder.append(bytes);
    this.serve(link, now);
  }

  /** The driver condemns a link (see LinkFaultCode): op 6 says why, then it closes. */
  fault(link: LongLink | number, code: LinkFaultCode, detail?: string): void {
    const l = typeof link === 'number' ? this.links.get(link) : link;
    if (!l || l.closed) return;
    this.faults++;
    const { Ret: ret, ErrMsg } = faultDisconnect(code, detail);
    this.disconnect(l, ret, ErrMsg, code);
  }

  // ---- packets ----

  // Take this link's whole packets while its turn lasts, then pause or resume it.
  private serve(link: LongLink, now: number): void {
    const max = this.config.maxLinkInFlight;
    while (link.canTake(this.round, max)) {
      let p = link.held;
      if (p) link.held = undefined;
      else {
        const s = link.decoder.next();
        if (s.kind === 'more') break;
        if (s.kind === 'error') return this.disconnect(link, Ret.BadRequest, `${s.error.code}: ${s.error.message}`, s.error.code);
        p = s.packet;
        link.lastRecvAt = now;
        link.packetStartAt = link.decoder.midPacket ? now : undefined;
      }
      // Out of the round's work budget, a command waits for the link's next turn; a
      // heartbeat writes nothing (at most a last-seen touch), so it is answered at once.
      const client = link.budgetClient;
      if (p.op !== Op.Heartbeat && this.budget.spentFor(client)) {
        link.held = p;
        break;
      }
      link.turn++;
      const packet = p;
      this.budget.charge(client, () => this.packet(link, packet, now));
      if (link.closed) return;
    }
    link.decoder.release();
    // Out of turn, or a command held for the budget: its next turn is in the next round.
    if (link.canTake(this.round, max) && link.held === undefined) this.resume(link, now);
    else this.pause(link);
    // Not paused, every whole packet was taken: what is left is an unfinished one.
    if (!link.paused && link.decoder.midPacket) this.partial.add(link);
    else this.partial.delete(link);
  }

  private packet(link: LongLink, p: Packet, now: number): void {
    if (p.op === Op.Heartbeat) {
      this.reply(link, 'heartbeat', undefined, encodePacket(Op.HeartbeatReply, p.seq));
      if (link.state === 'open' && now - link.lastTouchAt >= this.core.config.lastSeenGranularityMs) {
        link.lastTouchAt = now;
        this.submit(link, this.core.heartbeat({ kind: 'link', uin: link.uin, sid: link.sid, deviceId: link.deviceId }, now), () => {});
      }
      return;
    }
    const phone = this.web !== undefined && (p.op === WebLoginOp.ExtDeviceLoginConfirmGet || p.op === WebLoginOp.ExtDeviceLoginConfirmOk);
    const known = p.op === Op.Auth || p.op === Op.Send || p.op === Op.Sync || phone;
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
      this.submit(link, this.core.send(caller, body, now), (reply) => this.reply(link, 'send', reply.BaseResponse.Ret, encodeJsonPacket(Op.SendReply, p.seq, reply)));
    } else if (phone) {
      // The answer counts nowhere yet: the answer table's commands are fixed (answer-counts.ts).
      const scan = p.op === WebLoginOp.ExtDeviceLoginConfirmGet;
      const op = scan ? WebLoginOp.ExtDeviceLoginConfirmGetReply : WebLoginOp.ExtDeviceLoginConfirmOkReply;
      const submit: Submit = (step, done) => this.submit(link, step, done);
      this.web!.phone(scan ? 'scan' : 'confirm', caller, body, now, submit, (reply) => this.write(link, encodeJsonPacket(op, p.seq, reply)));
    } else {
      const key = isObj(body) ? body['SyncKey'] : undefined;
      this.submit(link, this.core.sync(caller, key, now), (reply) => this.reply(link, 'sync', reply.BaseResponse.Ret, encodeJsonPacket(Op.SyncReply, p.seq, reply)));
    }
  }

  // A link's command: counted in flight until its answer.
  private submit<R>(link: LongLink, step: Step<Plan<R>>, done: Done<R>): void {
    link.inFlight++;
    this.runner.submit(step, (reply) => {
      link.inFlight--;
      done(reply);
    });
  }

  private auth(link: LongLink, seq: number, body: unknown, now: number): void {
    if (link.state !== 'unauth') return this.disconnect(link, Ret.BadRequest, 'already authenticated');
    link.state = 'authing';
    const bySid = isObj(body) && body['Sid'] !== undefined;
    const answered = (reply: LoginReply | ErrorReply): void => {
      this.unreserve(link);
      if (link.state !== 'authing') return;
      if (!('Sid' in reply)) {
        this.reply(link, 'auth', reply.BaseResponse.Ret, encodeJsonPacket(Op.AuthReply, seq, reply));
        return this.disconnect(link, reply.BaseResponse.Ret, reply.BaseResponse.ErrMsg);
      }
      const uin = reply.Uin;
      const mine = this.linksByUin.get(uin);
      // A device has one link: its newer one closes the old.
      const deviceId = (body as Record<string, unknown>)['DeviceID'] as string;
      for (const other of [...(mine ?? [])]) {
        if (other.deviceId === deviceId) this.disconnect(other, Ret.LinkReplaced, 'this device opened a newer long link');
      }
      link.state = 'open';
      this.openCount++;
      this.partial.delete(link);
      link.lastTouchAt = now;
      link.uin = uin;
      link.sid = reply.Sid;
      link.deviceId = deviceId;
      let set = this.linksByUin.get(uin);
      if (!set) this.linksByUin.set(uin, (set = new Set()));
      set.add(link);
      this.reply(link, 'auth', reply.BaseResponse.Ret, encodeJsonPacket(Op.AuthReply, seq, { ...reply, HeartbeatSec: this.config.heartbeatSec }));
      this.counts.authenticated(link.id, uin);
    };
    if (bySid) return this.submit<LoginReply | ErrorReply>(link, this.withinLinkLimit(link, body, this.core.resume(body, now)), answered);
    // By password: the hash job comes first; the auth counts in flight until its answer.
    link.inFlight++;
    const done = (reply: LoginReply | ErrorReply): void => {
      link.inFlight--;
      answered(reply);
    };
    this.gate.login(
      body,
      link.remote,
      now,
      (step) => {
        // A link gone while its password was checked logs nothing in.
        if (link.closed) return void link.inFlight--;
        this.runner.submit<LoginReply | ErrorReply>(this.withinLinkLimit(link, body, step), done);
      },
      done,
    );
  }

  // The link limit is checked once the auth knows its account and before
  // anything of it is written: a refused link commits no session and closes
  // no other link. Links whose auth passed count until their reply, so a
  // batch of auths cannot overshoot the limit together.
  private *withinLinkLimit<R extends object>(link: LongLink, body: unknown, step: Step<Plan<R>>): Step<Plan<R | ReturnType<typeof errorReply>>> {
    const plan = yield* step;
    const reply = plan.reply as { Uin?: unknown; Sid?: unknown };
    if (!('Sid' in reply) || typeof reply.Uin !== 'number') return plan;
    const deviceId = (body as Record<string, unknown>)['DeviceID'];
    // The device's own older link is replaced, not added to.
    let others = 0;
    for (const l of this.linksByUin.get(reply.Uin) ?? []) if (l.deviceId !== deviceId) others++;
    for (const l of this.reservedByUin.get(reply.Uin) ?? []) if (l.deviceId !== deviceId) others++;
    if (others >= this.config.maxLinksPerAccount) return refuse(errorReply(Ret.LimitExceeded, 'too many long links for this account'));
    link.reservedUin = reply.Uin;
    link.deviceId = typeof deviceId === 'string' ? deviceId : '';
    let set = this.reservedByUin.get(reply.Uin);
    if (!set) this.reservedByUin.set(reply.Uin, (set = new Set()));
    set.add(link);
    return plan;
  }

  private unreserve(link: LongLink): void {
    const uin = link.reservedUin;
    if (uin === 0) return;
    link.reservedUin = 0;
    const set = this.reservedByUin.get(uin);
    if (!set) return;
    set.delete(link);
    if (set.size === 0) this.reservedByUin.delete(uin);
  }

  // ---- output ----

  private write(link: LongLink, bytes: Uint8Array): void {
    if (link.state === 'closed') return;
    this.out({ kind: 'write', link: link.id, bytes });
  }

  /** A command's reply, counted with the Ret it carries (none for a heartbeat's). */
  private reply(link: LongLink, command: LinkCommand, ret: number | undefined, bytes: Uint8Array): void {
    if (link.state === 'closed') return;
    this.counts.answered(link.transport, command, ret, link.uin, undefined);
    this.out({ kind: 'write', link: link.id, bytes });
  }

  /** `code`: the fault or framing code that starts `errMsg`, if it has one. */
  private disconnect(link: LongLink, ret: number, errMsg: string, code?: DisconnectCode): void {
    if (link.state === 'closed') return;
    this.counts.disconnected(link.id, link.transport, ret, code, link.uin);
    this.write(link, encodeJsonPacket(Op.Disconnect, 0, { Ret: ret, ErrMsg: errMsg }));
    this.out({ kind: 'close', link: link.id });
    this.closed(link.id);
  }

  private pause(link: LongLink): void {
    this.held.delete(link);
    this.held.add(link); // to the back of the round
    if (link.paused) return;
    link.paused = true;
    this.out({ kind: 'pause', link: link.id });
  }

  private resume(link: LongLink, now: number): void {
    if (!link.paused) return;
    link.paused = false;
    this.held.delete(link);
    // While paused the wait was the node's doing: an unfinished packet's time starts now.
    if (link.decoder.midPacket) link.packetStartAt = now;
    this.out({ kind: 'resume', link: link.id });
  }

  private unindex(link: LongLink): void {
    const set = this.linksByUin.get(link.uin);
    if (!set) return;
    set.delete(link);
    if (set.size === 0) this.linksByUin.delete(link.uin);
  }

  // ---- effects and time ----

  /** New data for an account: op 122 to each of its links. */
  notify(uin: number, selector: number): void {
    const links = this.linksByUin.get(uin);
    if (!links) return;
    const notify = encodeJsonPacket(Op.Notify, 0, { Selector: selector });
    for (const l of links) {
      this.counts.notification(l.transport);
      this.write(l, notify);
    }
  }

  /** A session ended: its links get op 6 with `ret` and close. */
  endSession(uin: number, sid: string, ret: number): void {
    for (const l of [...(this.linksByUin.get(uin) ?? [])]) {
      if (l.sid === sid) this.disconnect(l, ret, ret === Ret.SessionReplaced ? 'session replaced or logged out' : 'session ended');
    }
  }

  /** After a flush: a new round, in which each paused link takes its turn. */
  serveRound(now: number): void {
    this.round++;
    if (this.held.size === 0) return;
    for (const link of [...this.held]) {
      // A link whose command would wait for the budget keeps its place, first in the next round.
      if (link.held !== undefined && this.budget.spentFor(link.budgetClient)) continue;
      if (!link.closed) this.serve(link, now);
    }
  }

  /** Close links past a deadline: auth, idle (whole packets only), or an unfinished packet's. */
  tick(now: number): void {
    for (const link of [...this.partial]) {
      if (link.packetDeadline(this.config.packetTimeoutMs) <= now) this.fault(link, 'LINK_PACKET_TIMEOUT', `${this.config.packetTimeoutMs} ms`);
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

  /** The earliest time tick() has link work, if any. */
  nextWakeAt(): number {
    let m = this.links.size > 0 ? this.nextLinkScan : Infinity;
    for (const link of this.partial) m = Math.min(m, link.packetDeadline(this.config.packetTimeoutMs));
    return m;
  }
}
