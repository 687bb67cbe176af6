// A tiny in-process world for the client tests: one real ServerNode on a
// MemoryStore and any number of ClientCores, wired by a FIFO of deliveries
// with zero latency. Time moves only when nothing is left to deliver, to the
// earliest nextWakeAt. Faults are hooks: fail or drop an HTTP exchange,
// rewrite or drop what the server writes on a link, take a peer off the
// network, kill an app. The node runs on the simulator's server host, the
// clock is an event queue's, and every random draw comes from the
// simulator's seeded streams.
import { ClientCore, type ClientAction, type ClientCoreOptions, type ClientEvent, type ClientTransport } from '../../client/core/client-core.ts';
import type { ClientConfig } from '../../client/core/client-config.ts';
import type { PersistedState } from '../../client/core/client-state.ts';
import type { CoreConfig } from '../../server/core/config.ts';
import type { MessageItem } from '../../server/core/model.ts';
import { NO_BUGS } from '../../server/core/planted-bugs.ts';
import type { HttpAnswer } from '../../server/node/http-api.ts';
import type { NodeConfig } from '../../server/node/node-config.ts';
import type { ServerAction, ServerNode } from '../../server/node/server-node.ts';
import type { Store } from '../../server/store/store.ts';
import { PacketDecoder } from '../../server/wire/packet-decoder.ts';
import { decodeJsonBody } from '../../server/wire/packet.ts';
import { EventQueue } from '../../sim/event-queue.ts';
import { Streams } from '../../sim/rng.ts';
import { ServerHost } from '../../sim/server-host.ts';
import { simStore } from '../../sim/sim-store.ts';

export interface PeerOptions {
  userName: string;
  password?: string;
  deviceId: string;
  transport: ClientTransport;
  config?: Partial<ClientConfig>;
  persisted?: PersistedState;
  bugs?: ReadonlySet<string>;
  /** Default: a seeded stream per peer. */
  random?: () => number;
}

export interface Peer {
  readonly name: string;
  readonly transport: ClientTransport;
  readonly core: ClientCore;
  /** Every event with the time it came out. */
  readonly events: Array<ClientEvent & { at: number }>;
  /** Every action with the time it came out. */
  readonly actions: Array<ClientAction & { at: number }>;
  /** Off the network: requests fail, links are refused. */
  down: boolean;
  /** The app was killed: nothing reaches the core any more. */
  dead: boolean;
  readonly links: Map<number, number>;
}

/** What to do with one HTTP request of a peer: deliver it, refuse it, lose its answer, or deliver it twice (both answers come back). */
export type HttpFate = 'pass' | 'fail' | 'dropResponse' | 'duplicate';

export interface LoopbackOptions {
  core?: Partial<CoreConfig>;
  node?: Partial<NodeConfig>;
  seed?: string;
  /** The clock's start, in ms. */
  start?: number;
}

const MAX_STEPS = 1_000_000;
/** The clock's default start, in ms. */
const DEFAULT_START_MS = 1_000_000;
/** The loopback flushes the node itself, after every delivery: the host never draws a commit delay. */
const NO_COMMIT_DELAY: [number, number] = [0, 0];

export class Loopback {
  /** Only its clock is used: deliveries go through the loopback's own FIFO. */
  readonly q = new EventQueue();
  readonly streams: Streams;
  readonly host: ServerHost;
  readonly peers = new Map<string, Peer>();

  /** Decides each HTTP request's fate (default: pass). */
  httpFate: (peer: Peer, a: Extract<ClientAction, { kind: 'http' }>) => HttpFate = () => 'pass';
  /** May rewrite an HTTP answer before the peer sees it, or lose it (null). */
  httpAnswer: (peer: Peer, a: Extract<ClientAction, { kind: 'http' }>, answer: HttpAnswer) => HttpAnswer | null = (_p, _a, x) => x;
  /** May rewrite (or drop: return null) bytes the server writes to a peer's link. */
  linkDown: (peer: Peer, bytes: Uint8Array) => Uint8Array | null = (_p, b) => b;

  #tasks: Array<() => void> = [];
  #nextReq = 1;
  #nextLink = 1;
  #reqs = new Map<number, { peer: Peer; req: number; action: Extract<ClientAction, { kind: 'http' }>; drop: boolean }>();
  #links = new Map<number, { peer: Peer; link: number }>();
  #registerCapture = new Map<number, (body: string) => void>();

  constructor(o: LoopbackOptions = {}) {
    this.q.now = o.start ?? DEFAULT_START_MS;
    this.streams = new Streams(o.seed ?? 'loopback');
    const config = { core: o.core ?? {}, node: o.node ?? {}, faults: { commitDelayMs: NO_COMMIT_DELAY } };
    this.host = new ServerHost(this.q, this.streams.get('server'), simStore('memory'), config, NO_BUGS, (a) => this.#fromServer(a));
  }

  get now(): number {
    return this.q.now;
  }

  get node(): ServerNode {
    return this.host.node!;
  }

  get store(): Store {
    return this.host.store;
  }

  /** Registers an account directly at the node; returns its Uin. */
  register(userName: string, password = 'pw-' + userName): number {
    let body = '';
    const req = this.#nextReq++;
    this.#registerCapture.set(req, (b) => (body = b));
    this.node.httpRequest(req, 'POST', '/cgi-bin/micromsg-bin/register', JSON.stringify({ UserName: userName, Password: password }), this.now);
    this.#drain();
    const r = JSON.parse(body) as { BaseResponse: { Ret: number; ErrMsg: string }; Uin: number };
    if (r.BaseResponse.Ret !== 0) throw new Error(`register ${userName}: ${r.BaseResponse.Ret} ${r.BaseResponse.ErrMsg}`);
    return r.Uin;
  }

  /** Builds a client core (not started). */
  addPeer(name: string, o: PeerOptions): Peer {
    const events: Peer['events'] = [];
    const actions: Peer['actions'] = [];
    const peer: Peer = {
      name,
      transport: o.transport,
      core: undefined as unknown as ClientCore,
      events,
      actions,
      down: false,
      dead: false,
      links: new Map(),
    };
    const opts: ClientCoreOptions = {
      userName: o.userName,
      password: o.password ?? 'pw-' + o.userName,
      deviceId: o.deviceId,
      transport: o.transport,
      random: o.random ?? this.#random(name),
      out: (a) => {
        actions.push({ ...a, at: this.now });
        this.#tasks.push(() => this.#fromClient(peer, a));
      },
      emit: (e) => events.push({ ...e, at: this.now }),
    };
    if (o.config) opts.config = o.config;
    if (o.persisted) opts.persisted = o.persisted;
    if (o.bugs) opts.bugs = o.bugs;
    (peer as { core: ClientCore }).core = new ClientCore(opts);
    this.peers.set(name, peer);
    return peer;
  }

  /** A peer's own stream, named as the simulator names a device's client stream. */
  #random(name: string): () => number {
    const r = this.streams.get(`client:${name}`);
    return () => r.next();
  }

  /** addPeer + start. */
  startPeer(name: string, o: PeerOptions): Peer {
    const p = this.addPeer(name, o);
    p.core.start(this.now);
    this.#drain();
    return p;
  }

  /** Takes a peer off the network (its links drop, its waiting requests fail) or back on. */
  setDown(peer: Peer, down: boolean): void {
    peer.down = down;
    if (down) this.#cut(peer, true);
    this.#drain();
  }

  /** The app dies: the server sees its links close; the core hears nothing more. */
  kill(peer: Peer): void {
    peer.dead = true;
    this.#cut(peer, false);
    this.peers.delete(peer.name);
    this.#drain();
  }

  runFor(ms: number): void {
    this.runUntil(this.now + ms);
  }

  runUntil(t: number): void {
    for (let steps = 0; ; steps++) {
      if (steps > MAX_STEPS) throw new Error(`loopback: no progress at t=${this.now} after ${MAX_STEPS} steps`);
      this.#drain();
      let next = this.node.nextWakeAt() ?? Infinity;
      for (const p of this.peers.values()) next = Math.min(next, p.core.nextWakeAt() ?? Infinity);
      if (next > t) {
        this.q.now = Math.max(this.now, t);
        this.#tickAll();
        return;
      }
      this.q.now = Math.max(this.now, next);
      this.#tickAll();
    }
  }

  /** Delivers everything queued at the current time. */
  settle(): void {
    this.#drain();
  }

  /** HTTP requests a peer sent to a path (path prefix of the url). */
  requests(peer: Peer, path: string): Array<Extract<ClientAction, { kind: 'http' }>> {
    return peer.actions.filter((a): a is Extract<ClientAction, { kind: 'http' }> & { at: number } => a.kind === 'http' && a.url.split('?')[0] === path);
  }

  #tickAll(): void {
    this.node.tick(this.now);
    for (const p of [...this.peers.values()]) p.core.tick(this.now);
    this.#drain();
  }

  #drain(): void {
    for (let i = 0; ; i++) {
      if (i > MAX_STEPS) throw new Error('loopback: delivery storm');
      if (this.node.needsFlush) this.node.flush(this.now);
      const task = this.#tasks.shift();
      if (!task) {
        if (this.node.needsFlush) continue;
        return;
      }
      task();
    }
  }

  #cut(peer: Peer, tellCore: boolean): void {
    for (const [clientLink, serverLink] of [...peer.links]) {
      peer.links.delete(clientLink);
      this.#links.delete(serverLink);
      this.node.linkClosed(serverLink);
      if (tellCore) this.#tasks.push(() => peer.core.linkClosed(clientLink, this.now));
    }
    for (const [serverReq, r] of [...this.#reqs]) {
      if (r.peer !== peer) continue;
      this.#reqs.delete(serverReq);
      this.node.httpAborted(serverReq);
      if (tellCore) this.#tasks.push(() => peer.core.httpFailed(r.req, this.now));
    }
  }

  #deliver(peer: Peer, f: () => void): void {
    this.#tasks.push(() => {
      if (!peer.dead) f();
    });
  }

  #fromClient(peer: Peer, a: ClientAction): void {
    if (peer.dead) return;
    switch (a.kind) {
      case 'http': {
        const fate = peer.down ? 'fail' : this.httpFate(peer, a);
        if (fate === 'fail') return this.#deliver(peer, () => peer.core.httpFailed(a.req, this.now));
        for (let copies = fate === 'duplicate' ? 2 : 1; copies > 0; copies--) {
          const req = this.#nextReq++;
          this.#reqs.set(req, { peer, req: a.req, action: a, drop: fate === 'dropResponse' });
          this.node.httpRequest(req, a.method, a.url, a.body, this.now);
        }
        return;
      }
      case 'linkOpen': {
        if (peer.down) return this.#deliver(peer, () => peer.core.linkClosed(a.link, this.now));
        const id = this.#nextLink++;
        peer.links.set(a.link, id);
        this.#links.set(id, { peer, link: a.link });
        this.node.linkOpened(id, peer.transport === 'ws' ? 'ws' : 'tcp', this.now);
        return this.#deliver(peer, () => peer.core.linkOpened(a.link, this.now));
      }
      case 'linkWrite': {
        const id = peer.links.get(a.link);
        if (id !== undefined) this.node.linkData(id, a.bytes, this.now);
        return;
      }
      case 'linkClose': {
        const id = peer.links.get(a.link);
        if (id === undefined) return;
        peer.links.delete(a.link);
        this.#links.delete(id);
        this.node.linkClosed(id);
        return;
      }
    }
  }

  #fromServer(a: ServerAction): void {
    switch (a.kind) {
      case 'respond': {
        const capture = this.#registerCapture.get(a.req);
        if (capture) {
          this.#registerCapture.delete(a.req);
          capture(a.answer.body);
          return;
        }
        const r = this.#reqs.get(a.req);
        if (!r) return;
        this.#reqs.delete(a.req);
        if (r.drop) return;
        const answer = this.httpAnswer(r.peer, r.action, a.answer);
        if (answer) this.#deliver(r.peer, () => r.peer.core.httpResponse(r.req, answer.status, answer.body, this.now));
        return;
      }
      case 'write': {
        const l = this.#links.get(a.link);
        if (!l) return;
        const bytes = this.linkDown(l.peer, a.bytes);
        if (bytes) this.#deliver(l.peer, () => l.peer.core.linkData(l.link, bytes, this.now));
        return;
      }
      case 'close': {
        const l = this.#links.get(a.link);
        if (!l) return;
        this.#links.delete(a.link);
        l.peer.links.delete(l.link);
        this.#deliver(l.peer, () => l.peer.core.linkClosed(l.link, this.now));
        return;
      }
    }
  }
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
export function serverMessages(w: Loopback, uin: number): MessageItem[] {
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
