// The simulated world: the real server node and real client cores, wired
// through the simulated network, under one seed. The world routes what the
// cores emit, applies the faults the scheduler draws, and reports every
// device event to the checkers.
import { ClientCore, type ClientAction, type ClientEvent } from '../client/core/client-core.ts';
import type { ServerAction } from '../server/node/server-node.ts';
import type { BugSet } from '../server/core/planted-bugs.ts';
import { PATHS } from '../server/node/http-api.ts';
import { CATEGORIES } from '../server/core/model.ts';
import { Op } from '../server/wire/packet.ts';
import { coreConfig } from '../server/core/config.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import { AppInstance } from './app-instance.ts';
import { Checkers } from './checkers.ts';
import { Device } from './device.ts';
import { EventQueue, type SimEvent } from './event-queue.ts';
import { SimNetwork, type NetFaults } from './network.ts';
import { Streams } from './rng.ts';
import { ServerHost, type SimStore } from './server-host.ts';
import { Trace } from './trace.ts';
import { Violation } from './violation.ts';
import { forgetSession } from '../client/core/client-state.ts';

/** Simulated time starts at a fixed, realistic epoch. */
export const SIM_EPOCH_MS = 1_700_000_000_000;

export interface WorldOptions {
  scenario: Scenario;
  seed: string;
  store: SimStore;
  bugs: BugSet;
  keepTrace: boolean;
  /** Each device's network draws from its own stream (explicit runs; see SimNetwork). */
  netStreamPerDevice?: boolean;
}

interface PendingReq {
  inst: AppInstance;
  creq: number;
}

interface ServerLinkEnd {
  inst: AppInstance;
  clink: number;
}

export interface WorldCounters {
  kills: number;
  tornWrites: number;
  partitions: number;
  replaces: number;
  resets: number;
  resyncs: number;
  sessionLost: number;
  sendFailed: number;
}

export class World {
  readonly q = new EventQueue();
  readonly streams: Streams;
  readonly net: SimNetwork;
  readonly server: ServerHost;
  readonly trace: Trace;
  readonly checkers: Checkers;
  readonly devices: Device[] = [];
  readonly accounts = new Map<string, Device[]>();
  readonly counters: WorldCounters = { kills: 0, tornWrites: 0, partitions: 0, replaces: 0, resets: 0, resyncs: 0, sessionLost: 0, sendFailed: 0 };
  /** Every server request → where its answer goes. */
  private readonly sreqs = new Map<number, PendingReq | ((status: number, body: string) => void)>();
  private readonly slinks = new Map<number, ServerLinkEnd>();
  private nextServerId = 1;
  private nextInstance = 1;
  events = 0;
  /** True in the safety phase: the workload's user may resend failed messages only when healed. */
  healed = false;
  private readonly groupMembers = new Map<string, string[]>();

  constructor(readonly o: WorldOptions) {
    this.q.now = SIM_EPOCH_MS;
    this.streams = new Streams(o.seed);
    this.trace = new Trace(o.keepTrace);
    const perDevice = o.netStreamPerDevice ? (device: string) => this.streams.get(`net:${device}`) : undefined;
    this.net = new SimNetwork(this.q, this.streams.get('net'), netFaults(o.scenario), perDevice);
    this.server = new ServerHost(this.q, this.streams.get('server'), o.store, o.scenario, o.bugs, (a) => this.serverOut(a));
    const core = coreConfig(o.scenario.core);
    const runMs = o.scenario.workload.durationMs + o.scenario.livenessBoundMs;
    this.checkers = new Checkers({
      isMember: (g, u) => this.members(g).includes(u),
      resyncAllowed: Math.min(core.maxRetentionMs, core.sessionTtlMs) < runMs,
      ...(o.scenario.maxDeliveryMs !== undefined ? { maxDeliveryMs: o.scenario.maxDeliveryMs } : {}),
    });
  }

  get now(): number {
    return this.q.now;
  }

  /** Simulated milliseconds since the run began. */
  get elapsed(): number {
    return this.q.now - SIM_EPOCH_MS;
  }

  // ---- the event loop ----

  /** Run events until `until` (simulated ms since the start) or `maxEvents`; violations propagate. */
  runUntil(untilElapsed: number, stopAtEvent = Infinity): void {
    for (;;) {
      const t = this.q.peekTime();
      if (t === undefined || t - SIM_EPOCH_MS > untilElapsed) break;
      if (this.events >= stopAtEvent) return;
      const e = this.q.pop()!;
      this.dispatch(e);
    }
    this.q.now = Math.max(this.q.now, SIM_EPOCH_MS + untilElapsed);
  }

  private dispatch(e: SimEvent): void {
    this.events++;
    this.trace.event(this.events, e.at - SIM_EPOCH_MS, e.kind, e.who);
    e.run();
  }

  note(kind: string, who: string, detail?: string): void {
    this.trace.event(this.events, this.elapsed, kind, who, detail);
  }

  // ---- setup ----

  /** Call the server directly, bypassing the network (setup only). */
  direct(method: 'GET' | 'POST', path: string, body: unknown): any {
    const node = this.server.node!;
    let answer: { status: number; body: string } | undefined;
    const id = this.nextServerId++;
    this.sreqs.set(id, (status, b) => (answer = { status, body: b }));
    node.httpRequest(id, method, path, JSON.stringify(body), this.now);
    node.flush(this.now);
    if (!answer) throw new Error(`setup call ${path} got no answer`);
    return JSON.parse(answer.body);
  }

  addDevice(d: Device): void {
    this.devices.push(d);
    let list = this.accounts.get(d.account);
    if (!list) this.accounts.set(d.account, (list = []));
    list.push(d);
  }

  members(group: string): string[] {
    let m = this.groupMembers.get(group);
    if (!m) {
      const g = this.server.store.read({ kind: 'group', userName: group });
      m = (g?.members ?? []).map((uin) => this.server.store.read({ kind: 'account', uin })?.userName ?? '');
      if (g) this.groupMembers.set(group, m);
    }
    return m;
  }

  /** Per category, the key a fully synced device holds: the last retained item, or the floor. */
  head(account: string): Map<number, number> {
    const store = this.server.store;
    const a = store.read({ kind: 'accountByName', userName: account });
    const head = new Map<number, number>();
    if (!a) return head;
    for (const cat of CATEGORIES) {
      let at = a.floor[cat];
      for (;;) {
        const items = store.read({ kind: 'items', uin: a.uin, category: cat, afterSeq: at, limit: 1000 });
        if (items.length > 0) at = items[items.length - 1]!.seq;
        if (items.length < 1000) break;
      }
      head.set(cat, at);
    }
    return head;
  }

  /** Per category, the retention floor: the highest pruned sequence value. */
  floor(account: string): Map<number, number> {
    const a = this.server.store.read({ kind: 'accountByName', userName: account });
    return new Map(CATEGORIES.map((cat) => [cat, a?.floor[cat] ?? 0]));
  }

  /** The account's retained message log in server order (MsgIds). */
  log(account: string): number[] {
    const store = this.server.store;
    const a = store.read({ kind: 'accountByName', userName: account });
    if (!a) return [];
    const out: number[] = [];
    let after = 0;
    for (;;) {
      const items = store.read({ kind: 'items', uin: a.uin, category: CATEGORIES[0]!, afterSeq: after, limit: 1000 });
      for (const it of items) out.push((it.data as { MsgId: number }).MsgId);
      if (items.length < 1000) return out;
      after = items[items.length - 1]!.seq;
    }
  }

  // ---- app instances ----

  startApp(d: Device): AppInstance {
    const random = this.streams.get(`client:${d.name}`);
    let inst: AppInstance | undefined;
    const core = new ClientCore({
      userName: d.account,
      password: d.password,
      deviceId: d.deviceId,
      transport: d.transport,
      random: () => random.next(),
      out: (a) => this.clientOut(inst!, a),
      emit: (e) => this.clientEvent(inst!, e),
      bugs: this.o.bugs,
      ...(d.persisted ? { persisted: d.persisted } : {}),
    });
    inst = new AppInstance(this.nextInstance++, d.name, core);
    d.current = inst;
    this.checkers.deviceStarted(d.name, d.account, core.inbox(), core.syncKey());
    this.note('app-start', d.name, `instance ${inst.id}`);
    core.start(this.now);
    this.settleClient(inst);
    return inst;
  }

  /** The app is killed: its persisted state stays on the device; its links drop. */
  killApp(d: Device, tornWrite = false): void {
    const inst = d.current;
    if (!inst) return;
    this.counters.kills++;
    d.persisted = inst.core.persisted();
    if (tornWrite && d.previousKey) {
      // The last reply's messages were stored, its key was not.
      this.counters.tornWrites++;
      d.persisted = { ...d.persisted, syncKey: d.previousKey.map(([k, v]) => [k, v]) };
    }
    d.current = undefined;
    this.bury(inst);
    this.note('app-kill', d.name, `instance ${inst.id}${tornWrite ? ' torn' : ''}`);
  }

  /** A new login of the same device (same DeviceID) takes over; the old instance runs on as a ghost. */
  replaceSession(d: Device): void {
    const old = d.current;
    if (!old) return;
    this.counters.replaces++;
    d.persisted = forgetSession(old.core.persisted());
    old.ghost = true;
    d.ghosts.push(old);
    this.note('session-replace', d.name, `ghost ${old.id}`);
    this.startApp(d);
  }

  private bury(inst: AppInstance): void {
    inst.alive = false;
    for (const [, l] of inst.links) {
      this.net.cut(
        l.stream,
        () => {},
        () => this.serverLinkClosed(l.serverLink),
      );
    }
    inst.links.clear();
  }

  private settleClient(inst: AppInstance): void {
    if (!inst.alive) return;
    const wake = inst.core.nextWakeAt();
    if (wake === undefined || wake >= inst.timerAt) return;
    const token = ++inst.timerToken;
    inst.timerAt = Math.max(wake, this.now);
    this.q.schedule(inst.timerAt, 'client-timer', inst.device, () => {
      if (!inst.alive || inst.timerToken !== token) return;
      inst.timerAt = Infinity;
      inst.core.tick(this.now);
      this.settleClient(inst);
    });
  }

  /** Feed an input to a live instance, then reschedule its timer. */
  private toClient(inst: AppInstance, f: (core: ClientCore) => void): void {
    if (!inst.alive) return;
    f(inst.core);
    this.settleClient(inst);
  }

  private clientOut(inst: AppInstance, a: ClientAction): void {
    const dev = this.deviceByName(inst.device);
    switch (a.kind) {
      case 'http': {
        if (inst.ghost && a.url.split('?')[0] === PATHS.manualauth) return this.retireGhost(inst);
        this.net.datagram(dev.name, 'up', 'http-req', () => {
          const node = this.server.node;
          if (!node) {
            // Connection refused: the client hears it after a round trip.
            this.q.schedule(this.now + this.net.latency(dev.name), 'http-refused', dev.name, () => this.toClient(inst, (c) => c.httpFailed(a.req, this.now)));
            return;
          }
          const id = this.nextServerId++;
          this.sreqs.set(id, { inst, creq: a.req });
          node.httpRequest(id, a.method, a.url, a.body, this.now);
          this.server.settle();
        });
        return;
      }
      case 'linkOpen': {
        inst.connecting.add(a.link);
        this.net.connect(dev.name, (stream) => {
          inst.connecting.delete(a.link);
          if (!inst.alive) return;
          const node = this.server.node;
          if (!stream || !node) return this.toClient(inst, (c) => c.linkClosed(a.link, this.now));
          const sid = this.nextServerId++;
          this.slinks.set(sid, { inst, clink: a.link });
          inst.links.set(a.link, { stream, serverLink: sid });
          node.linkOpened(sid, dev.transport === 'ws' ? 'ws' : 'tcp', this.now);
          this.server.settle();
          this.toClient(inst, (c) => c.linkOpened(a.link, this.now));
        });
        return;
      }
      case 'linkWrite': {
        const l = inst.links.get(a.link);
        if (!l) return;
        if (inst.ghost && isPasswordAuth(a.bytes)) return this.retireGhost(inst);
        // Encoders hand out fresh buffers, never reused: no copy is needed.
        const bytes = a.bytes;
        this.net.write(l.stream, 'up', bytes, (chunk) => {
          const node = this.server.node;
          if (!node || !this.slinks.has(l.serverLink)) return;
          node.linkData(l.serverLink, chunk, this.now);
          this.server.settle();
        });
        return;
      }
      case 'linkClose': {
        const l = inst.links.get(a.link);
        if (!l) return;
        inst.links.delete(a.link);
        this.net.finish(l.stream, 'up', () => this.serverLinkClosed(l.serverLink));
        return;
      }
    }
  }

  /**
   * A replaced instance whose session ended unseen (it expired before the
   * replacement reached it) would log in again and replace its replacer: it
   * is gone instead. The replacement took its credentials, as a reinstall does.
   */
  private retireGhost(inst: AppInstance): void {
    const d = this.deviceByName(inst.device);
    const i = d.ghosts.indexOf(inst);
    if (i >= 0) d.ghosts.splice(i, 1);
    this.note('ghost-gone', d.name, `#${inst.id} would log in again`);
    this.bury(inst);
  }

  private serverLinkClosed(sid: number): void {
    if (!this.slinks.delete(sid)) return;
    this.server.node?.linkClosed(sid);
    this.server.settle();
  }

  private clientEvent(inst: AppInstance, e: ClientEvent): void {
    const d = inst.device;
    const tag = `#${inst.id}`;
    const watched = inst.alive && !inst.ghost;
    switch (e.kind) {
      case 'applied':
        this.note('applied', d, `${tag} ${e.msg.MsgId}`);
        if (watched) this.checkers.applied(d, e.msg, this.now);
        return;
      case 'contact':
        if (watched) this.checkers.contact(d, e.contact);
        return;
      case 'syncKey':
        this.note('synckey', d, `${tag} ${e.key.map(([k, v]) => `${k}_${v}`).join('|')}`);
        this.checkers.heldKey(d, e.key);
        if (watched) {
          this.checkers.syncKey(d, e.key);
          const dev = this.deviceByName(d);
          dev.previousKey = dev.currentKey;
          dev.currentKey = e.key.map(([k, v]) => [k, v]);
        }
        return;
      case 'sendAcked': {
        this.note('acked', d, `${tag} ${e.clientMsgId} ${e.msgId}`);
        this.checkers.sendAcked(this.deviceByName(d).account, e.clientMsgId, e.msgId, d);
        inst.failed.delete(e.localId);
        return;
      }
      case 'sendFailed':
        this.counters.sendFailed++;
        this.note('send-failed', d, `${tag} ${e.clientMsgId} ${e.ret}`);
        inst.failed.add(e.localId);
        if (this.healed) this.q.schedule(this.now + 1000, 'user-resend', d, () => this.resendFailed(inst));
        return;
      case 'resync':
        this.counters.resyncs++;
        this.note('resync', d, tag);
        if (watched) this.checkers.resync(d);
        return;
      case 'sessionLost': {
        this.counters.sessionLost++;
        this.note('session-lost', d, `${tag} ${e.ret}`);
        const dev = this.deviceByName(d);
        if (inst.ghost) {
          const i = dev.ghosts.indexOf(inst);
          if (i >= 0) dev.ghosts.splice(i, 1);
          this.bury(inst);
        } else if (inst.alive) {
          throw new Violation('liveness', d, `the device's current session was ended (Ret ${e.ret}) though no newer login replaced it`);
        }
        return;
      }
      case 'loggedIn':
      case 'groupCreated':
        this.note(e.kind, d, tag);
        return;
    }
  }

  resendFailed(inst: AppInstance): void {
    if (!inst.alive || inst.ghost) return;
    for (const localId of [...inst.failed]) {
      inst.failed.delete(localId);
      this.note('user-resend', inst.device, localId);
      this.toClient(inst, (c) => c.resend(localId, this.now));
    }
  }

  private serverOut(a: ServerAction): void {
    switch (a.kind) {
      case 'respond': {
        const p = this.sreqs.get(a.req);
        this.sreqs.delete(a.req);
        if (!p) return;
        if (typeof p === 'function') return p(a.answer.status, a.answer.body);
        const dev = this.deviceByName(p.inst.device);
        this.net.datagram(dev.name, 'down', 'http-resp', () => this.toClient(p.inst, (c) => c.httpResponse(p.creq, a.answer.status, a.answer.body, this.now)));
        return;
      }
      case 'write': {
        const end = this.slinks.get(a.link);
        if (!end) return;
        const l = end.inst.links.get(end.clink);
        if (!l) return;
        // Encoders hand out fresh buffers, never reused: no copy is needed.
        const bytes = a.bytes;
        this.net.write(l.stream, 'down', bytes, (chunk) => this.toClient(end.inst, (c) => c.linkData(end.clink, chunk, this.now)));
        return;
      }
      case 'close': {
        const end = this.slinks.get(a.link);
        if (!end) return;
        this.slinks.delete(a.link);
        const l = end.inst.links.get(end.clink);
        if (!l) return;
        end.inst.links.delete(end.clink);
        this.net.finish(l.stream, 'down', () => this.toClient(end.inst, (c) => c.linkClosed(end.clink, this.now)));
        return;
      }
    }
  }

  // ---- faults ----

  crashServer(): void {
    if (!this.server.up) return;
    this.server.crash();
    this.note('server-crash', 'server');
    // Every connection to the server breaks: long links are cut, waiting requests reset.
    for (const [sid, end] of this.slinks) {
      const l = end.inst.links.get(end.clink);
      this.slinks.delete(sid);
      if (!l) continue;
      end.inst.links.delete(end.clink);
      this.net.cut(l.stream, () => this.toClient(end.inst, (c) => c.linkClosed(end.clink, this.now)), () => {});
    }
    for (const [id, p] of this.sreqs) {
      this.sreqs.delete(id);
      if (typeof p === 'function') continue;
      this.q.schedule(this.now + this.net.latency(p.inst.device), 'http-reset', p.inst.device, () => this.toClient(p.inst, (c) => c.httpFailed(p.creq, this.now)));
    }
  }

  restartServer(): void {
    if (this.server.up) return;
    this.server.restart();
    this.note('server-restart', 'server');
  }

  /** Cut every long link of a device (its network went away). */
  cutLinks(d: Device): void {
    for (const inst of [d.current, ...d.ghosts]) {
      if (!inst) continue;
      for (const clink of [...inst.links.keys()]) this.cutLink(inst, clink);
    }
  }

  /** A link breaks: what is in flight is lost, and each end hears of it after a latency. */
  private cutLink(inst: AppInstance, clink: number): void {
    const l = inst.links.get(clink);
    if (!l) return;
    inst.links.delete(clink);
    this.slinks.delete(l.serverLink);
    this.net.cut(
      l.stream,
      () => this.toClient(inst, (c) => c.linkClosed(clink, this.now)),
      () => {
        this.server.node?.linkClosed(l.serverLink);
        this.server.settle();
      },
    );
  }

  partition(d: Device, up: boolean, down: boolean): void {
    this.counters.partitions++;
    this.net.partition(d.name, up, down);
    this.note('partition', d.name, up && down ? 'both' : up ? 'up' : 'down');
    this.cutLinks(d);
  }

  heal(d: Device): void {
    this.net.heal(d.name);
    this.note('heal', d.name);
  }

  /** Reset one random open long link. */
  resetRandomLink(pick: (n: number) => number): void {
    const all: Array<[Device, AppInstance, number]> = [];
    for (const d of this.devices) {
      const inst = d.current;
      if (inst) for (const clink of inst.links.keys()) all.push([d, inst, clink]);
    }
    if (all.length === 0) return;
    const [d, inst, clink] = all[pick(all.length)]!;
    this.resetLink(d, inst, clink);
  }

  /** Reset every open long link of a device's running app. */
  resetLinksOf(d: Device): void {
    const inst = d.current;
    if (!inst) return;
    for (const clink of [...inst.links.keys()]) this.resetLink(d, inst, clink);
  }

  private resetLink(d: Device, inst: AppInstance, clink: number): void {
    this.counters.resets++;
    this.note('link-reset', d.name);
    this.cutLink(inst, clink);
  }

  /** The liveness phase: every fault healed, the network calm, every app running. */
  healEverything(): void {
    this.healed = true;
    this.net.healAll();
    this.net.faults = { ...this.net.faults, latencyTailProbability: 0, dropProbability: 0, duplicateProbability: 0 };
    this.restartServer();
    for (const d of this.devices) {
      if (!d.current) this.startApp(d);
      else this.resendFailed(d.current);
    }
    this.note('heal-all', 'world');
  }

  // ---- user actions ----

  userSend(inst: AppInstance, to: string, content: string): void {
    const d = this.deviceByName(inst.device);
    const localId = inst.core.send(to, content, this.now);
    const entry = inst.core.outbox().find((e) => e.localId === localId);
    if (!entry) throw new Error(`client lost the message it was just given (${localId})`);
    this.checkers.userSent({ device: d.name, fromUser: d.account, to, content, clientMsgId: entry.clientMsgId, localId, sentAt: this.now });
    this.note('user-send', d.name, `${entry.clientMsgId} → ${to}`);
    this.settleClient(inst);
  }

  userRemark(inst: AppInstance, target: string, remark: string): void {
    inst.core.setRemark(target, remark, this.now);
    this.note('user-remark', inst.device, target);
    this.settleClient(inst);
  }

  deviceByName(name: string): Device {
    const d = this.byName.get(name);
    if (d) return d;
    const found = this.devices.find((x) => x.name === name);
    if (!found) throw new Error(`no device ${name}`);
    this.byName.set(name, found);
    return found;
  }

  private readonly byName = new Map<string, Device>();
}

function netFaults(s: Scenario): NetFaults {
  const f = s.faults;
  return {
    latencyMs: f.latencyMs,
    latencyTailProbability: f.latencyTailProbability,
    latencyTailMs: f.latencyTailMs,
    dropProbability: f.dropProbability,
    duplicateProbability: f.duplicateProbability,
  };
}

export { PATHS };

/** A long-link auth (op 7) by password, which makes a new session (a resume names a Sid instead). */
function isPasswordAuth(bytes: Uint8Array): boolean {
  if (bytes.length < 16) return false;
  const op = ((bytes[8]! << 24) | (bytes[9]! << 16) | (bytes[10]! << 8) | bytes[11]!) >>> 0;
  if (op !== Op.Auth) return false;
  try {
    const body: unknown = JSON.parse(Buffer.from(bytes.subarray(16)).toString('utf8'));
    return typeof body === 'object' && body !== null && 'Password' in body;
  } catch {
    return false;
  }
}
