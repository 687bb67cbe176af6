// The client tests' view of the simulator's world: one real ServerNode on a
// memory store and any number of ClientCores in apps on devices, wired by the
// simulated network with zero latency and zero commit delay, under one seed.
// A peer is a device with its running app, seen as a test sees it: the core,
// and every action and event it emitted, with the time. Faults are the
// world's: a fate per HTTP request, a rewrite of an answer or of what the
// server writes on a link (router faults), a device going offline, an app
// killed. The checkers watch every step unless a test turns them off.
import type { ClientAction, ClientCore, ClientEvent, ClientTransport } from '../../client/core/client-core.ts';
import type { ClientConfig } from '../../client/core/client-config.ts';
import type { PersistedState } from '../../client/core/client-state.ts';
import type { CoreConfig } from '../../server/core/config.ts';
import type { MessageItem } from '../../server/core/model.ts';
import { NO_BUGS } from '../../server/core/planted-bugs.ts';
import { PATHS, type HttpAnswer } from '../../server/node/http-api.ts';
import type { NodeConfig } from '../../server/node/node-config.ts';
import type { ServerNode } from '../../server/node/server-node.ts';
import type { Store } from '../../server/store/store.ts';
import { PacketDecoder } from '../../server/wire/packet-decoder.ts';
import { decodeJsonBody } from '../../server/wire/packet.ts';
import { BASE_WORKLOAD, CALM_FAULTS, type Scenario } from '../../scenarios/scenario.ts';
import type { AppInstance } from '../../sim/app-instance.ts';
import type { Apps } from '../../sim/apps.ts';
import { Device } from '../../sim/device.ts';
import { SIM_EPOCH_MS } from '../../sim/event-queue.ts';
import type { HttpFate, HttpRequestAction } from '../../sim/router.ts';
import { simStore } from '../../sim/sim-store.ts';
import { World } from '../../sim/world.ts';

export type { HttpFate } from '../../sim/router.ts';

export interface PeerOptions {
  userName: string;
  password?: string;
  deviceId: string;
  transport: ClientTransport;
  config?: Partial<ClientConfig>;
  persisted?: PersistedState;
  bugs?: ReadonlySet<string>;
  /** Default: the device's seeded stream. */
  random?: () => number;
}

export interface Peer {
  readonly name: string;
  readonly transport: ClientTransport;
  /** The app's core; a call that drives it (a send, a resend) reschedules its timer, and a send is the user's, known to the checkers. */
  readonly core: ClientCore;
  /** Every event with the time it came out. */
  readonly events: Array<ClientEvent & { at: number }>;
  /** Every action with the time it came out. */
  readonly actions: Array<ClientAction & { at: number }>;
  readonly device: Device;
  readonly instance: AppInstance;
}

export interface ClientWorldOptions {
  core?: Partial<CoreConfig>;
  node?: Partial<NodeConfig>;
  seed?: string;
  /** The checkers and the "session ended" violation (default on); off for tests that provoke a 1101, a 1103, a double apply or a pruned gap. */
  checks?: boolean;
}

/** Events one run/settle may take before the world is taken to be stuck in a storm. */
const MAX_EVENTS_PER_RUN = 1_000_000;
/** The longest a client test runs, in simulated ms: the checkers' horizon for what retention may prune. */
const HORIZON_MS = 60 * 60_000;
/** Zero latency and no commit delay: exact-time assertions count only the clients' and the server's own timers. */
const INSTANT_FAULTS = { ...CALM_FAULTS, latencyMs: [0, 0] as [number, number], commitDelayMs: [0, 0] as [number, number] };
/** Core methods that only read: every other call drives the core, and its timer is rescheduled after it. */
const READS = new Set<PropertyKey>(['state', 'nextWakeAt', 'persisted', 'inbox', 'syncKey', 'outbox', 'contacts', 'session']);

export class ClientWorld {
  readonly world: World;
  /** Every peer ever started, by its device's name (one app per device): what is still in flight may name a killed one. */
  private readonly byDevice = new Map<string, Peer>();

  constructor(o: ClientWorldOptions = {}) {
    const scenario: Scenario = {
      name: 'client-tests',
      description: 'reference clients against the real node, with no latency',
      workload: { ...BASE_WORKLOAD, accounts: 0, groups: 0, sendsPerSecond: 0, durationMs: 0 },
      faults: INSTANT_FAULTS,
      ...(o.core ? { core: o.core } : {}),
      ...(o.node ? { node: o.node } : {}),
      livenessBoundMs: HORIZON_MS,
    };
    const checks = o.checks ?? true;
    this.world = new World({ scenario, seed: o.seed ?? 'client-world', store: simStore('memory'), bugs: NO_BUGS, keepTrace: false, checks, killAbortsRequests: true });
    const apps = this.world.apps;
    apps.listeners.push((inst, e) => this.byDevice.get(inst.device)?.events.push({ ...e, at: this.now }));
    apps.actionListeners.push((inst, a) => this.byDevice.get(inst.device)?.actions.push({ ...a, at: this.now }));
  }

  get now(): number {
    return this.world.now;
  }

  get node(): ServerNode {
    return this.world.server.node!;
  }

  get store(): Store {
    return this.world.server.store;
  }

  /** Registers an account directly at the node; returns its Uin. */
  register(userName: string, password = 'pw-' + userName): number {
    const r = this.world.router.direct('POST', PATHS.register, { UserName: userName, Password: password }) as { BaseResponse: { Ret: number; ErrMsg: string }; Uin: number };
    if (r.BaseResponse.Ret !== 0) throw new Error(`register ${userName}: ${r.BaseResponse.Ret} ${r.BaseResponse.ErrMsg}`);
    return r.Uin;
  }

  /** A device named `name` with its app started; nothing is delivered until the clock runs. */
  addPeer(name: string, o: PeerOptions): Peer {
    const d = new Device(name, o.userName, o.password ?? 'pw-' + o.userName, o.deviceId, o.transport, {
      ...(o.config ? { config: o.config } : {}),
      ...(o.random ? { random: o.random } : {}),
      ...(o.bugs ? { bugs: o.bugs } : {}),
    });
    d.persisted = o.persisted;
    const w = this.world;
    w.registry.addDevice(d);
    const events: Peer['events'] = [];
    const actions: Peer['actions'] = [];
    // The app's first actions come out during start: the peer is known before.
    const peer = { name, transport: o.transport, events, actions, device: d } as Peer & { core: ClientCore; instance: AppInstance };
    this.byDevice.set(name, peer);
    const inst = w.apps.start(d);
    peer.instance = inst;
    peer.core = drivenCore(inst, w.apps, () => this.now);
    return peer;
  }

  /** addPeer, then deliver everything due now. */
  startPeer(name: string, o: PeerOptions): Peer {
    const p = this.addPeer(name, o);
    this.settle();
    return p;
  }

  /** Takes a peer's device off the network (its links drop, its waiting requests fail) or back on. */
  setDown(peer: Peer, down: boolean): void {
    this.world.setOffline(peer.device, down);
    this.settle();
  }

  /** The app dies: the server sees its links close and its requests go; the core hears nothing more. */
  kill(peer: Peer): void {
    this.world.apps.kill(peer.device);
    this.settle();
  }

  runFor(ms: number): void {
    this.runUntil(this.now + ms);
  }

  /** Runs every event due up to `t` (absolute ms); the clock ends at `t`. */
  runUntil(t: number): void {
    const w = this.world;
    const stopAt = w.events + MAX_EVENTS_PER_RUN;
    w.runUntil(t - SIM_EPOCH_MS, stopAt);
    if (w.events >= stopAt) throw new Error(`client world: no progress at t=${this.now} after ${MAX_EVENTS_PER_RUN} events`);
  }

  /** Delivers everything due now (after a call made straight to the node, too). */
  settle(): void {
    this.world.server.settle();
    this.runUntil(this.now);
  }

  /** HTTP requests a peer sent to a path (path prefix of the url). */
  requests(peer: Peer, path: string): Array<HttpRequestAction & { at: number }> {
    return peer.actions.filter((a): a is HttpRequestAction & { at: number } => a.kind === 'http' && a.url.split('?')[0] === path);
  }

  /** Decides each HTTP request's fate as it reaches the server (default: pass). */
  set httpFate(f: (peer: Peer, a: HttpRequestAction) => HttpFate) {
    this.world.router.faults.httpFate = (inst, a) => f(this.peerOf(inst), a);
  }

  /** May rewrite an HTTP answer before the peer sees it, or lose it (null). */
  set httpAnswer(f: (peer: Peer, a: HttpRequestAction, answer: HttpAnswer) => HttpAnswer | null) {
    this.world.router.faults.httpAnswer = (inst, a, answer) => f(this.peerOf(inst), a, answer);
  }

  /** May rewrite (or drop: return null) bytes the server writes to a peer's link. */
  set linkDown(f: (peer: Peer, bytes: Uint8Array) => Uint8Array | null) {
    this.world.router.faults.serverWrite = (inst, bytes) => f(this.peerOf(inst), bytes);
  }

  private peerOf(inst: AppInstance): Peer {
    const p = this.byDevice.get(inst.device);
    if (!p) throw new Error(`client world: no peer on device ${inst.device}`);
    return p;
  }
}

/**
 * The instance's core as a test drives it: a send goes through the world's
 * user action (the checkers learn of it), and any other call that is not a
 * read reschedules the instance's timer, as an input would.
 */
function drivenCore(inst: AppInstance, apps: Apps, now: () => number): ClientCore {
  return new Proxy(inst.core, {
    get(core, prop) {
      const v: unknown = Reflect.get(core, prop, core);
      if (typeof v !== 'function' || READS.has(prop)) return typeof v === 'function' ? v.bind(core) : v;
      if (prop === 'send') {
        return (to: string, content: string, at: number, ...rest: unknown[]) => {
          if (at !== now() || rest.length > 0 || !inst.alive) throw new Error('client world: a send is the user\'s, made now, of text, on a running app');
          // The send's LocalID is the one new in the outbox.
          const before = new Set(core.outbox().map((e) => e.localId));
          apps.userSend(inst, to, content);
          const entry = core.outbox().find((e) => !before.has(e.localId));
          if (!entry) throw new Error(`client world: the send of ${inst.device} is not in its outbox`);
          return entry.localId;
        };
      }
      return (...args: unknown[]) => {
        const r: unknown = (v as (...a: unknown[]) => unknown).apply(core, args);
        inst.settle();
        return r;
      };
    },
  });
}

// ---------------------------------------------------------------- helpers for assertions

export interface SentPacket {
  link: number;
  op: number;
  seq: number;
  body: unknown;
  at: number;
}

/** The packets a peer wrote on its links, decoded (each linkWrite of the core is whole packets). */
export function sentPackets(peer: Peer): SentPacket[] {
  const out: SentPacket[] = [];
  for (const a of peer.actions) {
    if (a.kind !== 'linkWrite') continue;
    const { packets, error } = new PacketDecoder().push(a.bytes);
    if (error) throw error;
    for (const p of packets) out.push({ link: a.link, op: p.op, seq: p.seq, body: decodeJsonBody(p), at: a.at });
  }
  return out;
}

/** The message log of an account as the server stores it. */
export function serverMessages(w: ClientWorld, uin: number): MessageItem[] {
  return w.store
    .read({ kind: 'items', uin, category: 1, afterSeq: 0, limit: 1_000_000 })
    .map((it) => it.data as MessageItem);
}

/** Events of one kind, typed. */
export function eventsOf<K extends ClientEvent['kind']>(peer: Peer, kind: K): Array<Extract<ClientEvent, { kind: K }> & { at: number }> {
  return peer.events.filter((e): e is Extract<ClientEvent, { kind: K }> & { at: number } => e.kind === kind);
}

/** Throws unless every key of every syncKey event is >= its value in the one before. */
export function assertKeyMonotonic(peer: Peer): void {
  const best = new Map<number, number>();
  for (const e of eventsOf(peer, 'syncKey')) {
    for (const [k, v] of e.key) {
      if (v < (best.get(k) ?? 0)) throw new Error(`${peer.name}: key ${k} went from ${best.get(k)} to ${v} at ${e.at}`);
      best.set(k, v);
    }
  }
}
