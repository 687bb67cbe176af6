// The simulated world: the real server node and real client cores, wired
// through the simulated network, under one seed. The world is the driver: it
// runs the event queue (an arriving envelope goes through the network, then
// to the router; a timer fires), and applies the faults the scheduler draws.
// Who exists is in the registry, app life in apps, routing in the router,
// what the server committed in the oracle, the trace and the checker feed in
// the observer.
//
// A world with given accounts and devices and no faults: a scenario with
// CALM_FAULTS, a WorkloadDriver given a plan (accounts, no ops) to set up,
// `apps.start(device)` for each, then `step()` or `runUntil(ms)`.
import type { BugSet } from '../server/core/planted-bugs.ts';
import { coreConfig } from '../server/core/config.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import type { AppInstance } from './app-instance.ts';
import { Apps } from './apps.ts';
import { Checkers } from './checkers.ts';
import type { Device } from './device.ts';
import { describeEnvelope } from './envelope.ts';
import { EventQueue, SIM_EPOCH_MS, type SimEvent, type TieStreams } from './event-queue.ts';
import { SimNetwork, type NetFaults } from './network.ts';
import { Observer, type WorldCounters } from './observer.ts';
import { StoreOracle } from './oracle.ts';
import { Registry } from './registry.ts';
import { Streams, type Rng } from './rng.ts';
import { Router } from './router.ts';
import { MultiNode } from './multi-node.ts';
import { ServerHost, type SimStore } from './server-host.ts';
import { Trace } from './trace.ts';

export interface WorldOptions {
  scenario: Scenario;
  seed: string;
  store: SimStore;
  bugs: BugSet;
  keepTrace: boolean;
  /** Each device's network draws from its own stream (explicit runs; see SimNetwork). */
  netStreamPerDevice?: boolean;
  /**
   * Events due at the same instant run in an order the seed chooses (every
   * simulation run); unset, first in, first out, as the client tests' world
   * without latency wants: its expectations name one interleaving.
   */
  seededTies?: boolean;
  /**
   * The checkers judge every step, and a current session ended with no newer
   * login is a violation (default). Off for tests of the client that provoke
   * such things on purpose (a second login of a device, a wrong password).
   */
  checks?: boolean;
  /** A killed app's waiting requests are aborted at the server, as its closing connections would (see AppsOptions). */
  killAbortsRequests?: boolean;
  /** Test only, with several nodes: batches of different nodes are not serialized on the shared store (sim/shared-store.ts). */
  unserializedStore?: boolean;
}

export class World {
  readonly q: EventQueue;
  readonly streams: Streams;
  readonly net: SimNetwork;
  /** The server; with several nodes, the first. */
  readonly server: ServerHost;
  /** Every server node (one unless the scenario sets `nodes`). */
  readonly servers: readonly ServerHost[];
  /** The nodes on one store, when the scenario has several. */
  readonly multi: MultiNode | undefined;
  readonly registry = new Registry();
  readonly oracle: StoreOracle;
  readonly observer: Observer;
  readonly router: Router;
  readonly apps: Apps;

  constructor(readonly o: WorldOptions) {
    this.streams = new Streams(o.seed);
    // The order of events due at the same instant: one stream, or one per device (and per driver) with the network's.
    this.q = new EventQueue(!o.seededTies ? undefined : tieStreams(this.streams, o.netStreamPerDevice ?? false));
    this.q.now = SIM_EPOCH_MS;
    const trace = new Trace(o.keepTrace);
    const perDevice = o.netStreamPerDevice ? streamPerName(this.streams, 'net') : undefined;
    this.net = new SimNetwork(this.q, this.streams.get('net'), netFaults(o.scenario), perDevice);
    const toRouter = (a: Parameters<Router['fromServer']>[0]): void => this.router.fromServer(a);
    if ((o.scenario.nodes ?? 1) > 1) {
      this.multi = new MultiNode(this.q, this.streams, o.store, o.scenario, o.bugs, toRouter, !o.unserializedStore);
      this.servers = this.multi.hosts;
      this.server = this.multi.hosts[0]!;
    } else {
      this.multi = undefined;
      this.server = new ServerHost(this.q, this.streams.get('server'), o.store, o.scenario, o.bugs, toRouter);
      this.servers = [this.server];
    }
    this.oracle = new StoreOracle(this.server);
    const core = coreConfig(o.scenario.core);
    const runMs = o.scenario.workload.durationMs + o.scenario.livenessBoundMs;
    const checkers = new Checkers({
      isMember: (g, u) => this.oracle.members(g).includes(u),
      resyncAllowed: Math.min(core.maxRetentionMs, core.sessionTtlMs) < runMs,
      ...(o.scenario.maxDeliveryMs !== undefined ? { maxDeliveryMs: o.scenario.maxDeliveryMs } : {}),
    });
    const checks = o.checks ?? true;
    this.observer = new Observer(trace, checkers, this.registry, this.q, checks);
    this.router = new Router(this.q, this.net, this.server, this.registry, this.multi?.placement);
    this.apps = new Apps(this.q, this.streams, this.registry, this.router, this.observer, this.observer.counters, o.bugs, {
      sessionEndIsViolation: checks,
      killAbortsRequests: o.killAbortsRequests ?? false,
    });
  }

  get now(): number {
    return this.q.now;
  }

  /** Simulated milliseconds since the run began. */
  get elapsed(): number {
    return this.q.now - SIM_EPOCH_MS;
  }

  /** Events run so far. */
  get events(): number {
    return this.observer.events;
  }

  get trace(): Trace {
    return this.observer.trace;
  }

  get checkers(): Checkers {
    return this.observer.checkers;
  }

  get counters(): WorldCounters {
    return this.observer.counters;
  }

  get devices(): readonly Device[] {
    return this.registry.devices;
  }

  // ---- the event loop ----

  /** Run events until `until` (simulated ms since the start) or `maxEvents`; violations propagate. */
  runUntil(untilElapsed: number, stopAtEvent = Infinity): void {
    for (;;) {
      const t = this.q.peekTime();
      if (t === undefined || t - SIM_EPOCH_MS > untilElapsed) break;
      if (this.events >= stopAtEvent) return;
      this.dispatch(this.q.pop()!);
    }
    this.q.now = Math.max(this.q.now, SIM_EPOCH_MS + untilElapsed);
  }

  /** Run the next event, whenever it is due; false when nothing is left to run. */
  step(): boolean {
    const e = this.q.pop();
    if (!e) return false;
    this.dispatch(e);
    return true;
  }

  private dispatch(e: SimEvent): void {
    this.observer.event(e.at, e.kind, e.who);
    if (e.fire !== undefined) e.fire();
    else if (this.net.arrives(e.envelope!)) this.router.deliver(e.envelope!);
  }

  note(kind: string, who: string, detail?: string): void {
    this.observer.note(kind, who, detail);
  }

  /** Every message in flight, one line each, soonest first. */
  inFlight(): string[] {
    return this.q.inFlight().map(({ at, envelope }) => `${at - SIM_EPOCH_MS} ${describeEnvelope(envelope)}`);
  }

  // ---- faults ----

  /** The server crashes; with several nodes, one of them (drawn), and only while all are up: the others serve meanwhile. */
  crashServer(): void {
    let host = this.server;
    if (this.multi) {
      if (this.servers.some((h) => !h.up)) return;
      host = this.streams.get('node-crash').pick(this.servers);
    }
    if (!host.up) return;
    host.crash();
    this.note('server-crash', host.name);
    this.router.serverCrashed(host);
  }

  /** Every server node that is down restarts. */
  restartServer(): void {
    for (const host of this.servers) {
      if (host.up) continue;
      host.restart();
      this.note('server-restart', host.name);
    }
  }

  /** Cut every long link of a device (its network went away). */
  private cutLinks(d: Device): void {
    for (const inst of [d.current, ...d.ghosts]) {
      if (!inst) continue;
      for (const clink of [...inst.links.keys()]) this.router.cutLink(inst, clink);
    }
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

  /**
   * A device leaves the network or comes back. Unlike a partition, where
   * messages vanish silently, an offline device's app hears at once that its
   * links broke and its requests failed, and every new one fails at once.
   */
  setOffline(d: Device, offline: boolean): void {
    d.offline = offline;
    this.note(offline ? 'offline' : 'online', d.name);
    if (!offline) return;
    this.cutLinks(d);
    for (const inst of [d.current, ...d.ghosts]) if (inst) this.router.abortRequests(inst, true);
  }

  /** Reset one random open long link. */
  resetRandomLink(pick: (n: number) => number): void {
    const all: Array<[Device, AppInstance, number]> = [];
    for (const d of this.registry.devices) {
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
    this.router.cutLink(inst, clink);
  }

  /** The liveness phase: every fault healed, the network calm, every app running. */
  healEverything(): void {
    this.apps.healed = true;
    this.net.healAll();
    this.net.faults = { ...this.net.faults, latencyTailProbability: 0, dropProbability: 0, duplicateProbability: 0 };
    this.restartServer();
    for (const d of this.registry.devices) {
      if (!d.current) this.apps.start(d);
      else this.apps.resendFailed(d.current);
    }
    this.note('heal-all', 'world');
  }
}

/** The queue's tie streams: one for all, or one per `who`, each looked up once. */
function tieStreams(streams: Streams, perWho: boolean): TieStreams {
  if (!perWho) {
    const queue = streams.get('queue');
    return () => queue;
  }
  return streamPerName(streams, 'queue');
}

/** `prefix:name`'s stream, with the name looked up once (not a new string per draw). */
function streamPerName(streams: Streams, prefix: string): (name: string) => Rng {
  const byName = new Map<string, Rng>();
  return (name) => {
    let r = byName.get(name);
    if (!r) byName.set(name, (r = streams.get(`${prefix}:${name}`)));
    return r;
  };
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
