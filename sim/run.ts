// One simulation run: set up the world from a scenario and a seed, run the
// safety phase with every fault, heal, run the liveness phase until every
// device has converged (or the bound passes), and check every guarantee.
import type { BugSet } from '../server/core/planted-bugs.ts';
import { NO_BUGS } from '../server/core/planted-bugs.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import { FaultScheduler } from './fault-scheduler.ts';
import { simStore, type SimStoreKind } from './sim-store.ts';
import { Violation } from './violation.ts';
import { WorkloadDriver } from './workload.ts';
import { World, type WorldCounters, type WorldOptions } from './world.ts';
import type { NetStats } from './network.ts';

export interface RunOptions {
  store?: SimStoreKind;
  bugs?: BugSet;
  /** Keep every trace line (for --trace). */
  keepTrace?: boolean;
  /** Stop after this many events and report the world's state. */
  untilEvent?: number;
}

export interface RunFailure {
  guarantee: string;
  who: string;
  detail: string;
  event: number;
  simMs: number;
  recent: string[];
}

export interface RunResult {
  scenario: string;
  seed: string;
  ok: boolean;
  failure?: RunFailure;
  events: number;
  simMs: number;
  traceHash: string;
  /** Simulated ms from healing until every device converged. */
  convergedAfterMs?: number;
  stoppedAtEvent?: boolean;
  stateDump?: string;
  counts: { sends: number; acked: number; applied: number; crashes: number } & WorldCounters;
  net: NetStats;
  trace?: string;
}

const PROBE_MS = 250;

/** The users and the faults of a run: Poisson processes drawn from the seed, or explicit lists (sim/run-spec.ts). */
export interface Drivers {
  workload: WorkloadDriver;
  faults: FaultScheduler;
}

export function runScenario(scenario: Scenario, seed: string, opts: RunOptions = {}): RunResult {
  return runWorld(scenario, seed, opts, (world) => ({
    workload: new WorkloadDriver(world, world.streams.get('workload'), scenario.workload),
    faults: new FaultScheduler(world, world.streams.get('faults'), scenario.faults),
  }));
}

/** One run of a scenario's world under the given drivers. */
export function runWorld(
  scenario: Scenario,
  seed: string,
  opts: RunOptions,
  drivers: (world: World) => Drivers,
  worldOptions: Pick<WorldOptions, 'netStreamPerDevice'> = {},
): RunResult {
  const store = simStore(opts.store ?? 'memory');
  const world = new World({ scenario, seed, store, bugs: opts.bugs ?? NO_BUGS, keepTrace: opts.keepTrace ?? false, ...worldOptions });
  const { workload, faults } = drivers(world);
  const stopAt = opts.untilEvent ?? Infinity;
  let failure: RunFailure | undefined;
  let convergedAfterMs: number | undefined;
  let stopped = false;
  try {
    workload.setup();
    workload.start();
    faults.start();
    world.runUntil(scenario.workload.durationMs, stopAt);
    stopped = world.events >= stopAt;
    if (!stopped) {
      workload.stop();
      faults.stop();
      world.healEverything();
      const healedAt = world.elapsed;
      const deadline = healedAt + scenario.livenessBoundMs;
      let lagging: string | undefined = 'not probed';
      while (world.elapsed < deadline) {
        world.runUntil(Math.min(world.elapsed + PROBE_MS, deadline), stopAt);
        if ((stopped = world.events >= stopAt)) break;
        lagging = laggard(world);
        if (!lagging) break;
      }
      if (!stopped) {
        if (lagging) throw new Violation('liveness', lagging.split(':')[0]!, `not converged ${scenario.livenessBoundMs} ms after healing: ${lagging}`);
        convergedAfterMs = world.elapsed - healedAt;
        world.checkers.final(accountDevices(world), (a) => world.log(a), (g) => world.members(g));
      }
    }
  } catch (e) {
    if (!(e instanceof Violation)) throw e;
    failure = {
      guarantee: e.guarantee,
      who: e.who,
      detail: e.detail,
      event: world.events,
      simMs: world.elapsed,
      recent: world.trace.recentFor(e.who, 'server').slice(-24),
    };
  } finally {
    store.dispose();
  }
  const result: RunResult = {
    scenario: scenario.name,
    seed,
    ok: failure === undefined,
    events: world.events,
    simMs: world.elapsed,
    traceHash: world.trace.digest(),
    counts: { ...world.checkers.counts, crashes: world.server.crashes, ...world.counters },
    net: { ...world.net.stats },
  };
  if (failure) result.failure = failure;
  if (convergedAfterMs !== undefined) result.convergedAfterMs = convergedAfterMs;
  if (stopped) {
    result.stoppedAtEvent = true;
    result.stateDump = dumpState(world);
  }
  if (opts.keepTrace) result.trace = world.trace.jsonLines();
  return result;
}

function accountDevices(world: World): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const [a, ds] of world.accounts) m.set(a, ds.map((d) => d.name));
  return m;
}

/** The first device that has not converged, with why; undefined when all have. */
function laggard(world: World): string | undefined {
  if (!world.server.up) return 'server: down';
  for (const [account, devices] of world.accounts) {
    const log = world.log(account);
    for (const d of devices) {
      const inst = d.current;
      if (!inst) return `${d.name}: app not running`;
      const core = inst.core;
      if (core.state !== 'ready') return `${d.name}: client ${core.state}`;
      const pending = core.outbox().filter((e) => e.state !== 'failed').length;
      if (pending > 0 || inst.failed.size > 0) return `${d.name}: ${pending} sends unanswered, ${inst.failed.size} failed`;
      const inbox = core.inbox();
      const have = new Set(inbox.map((m) => m.MsgId));
      const missing = log.filter((id) => !have.has(id));
      if (missing.length > 0) return `${d.name}: missing ${missing.length} of ${log.length} messages (first MsgId ${missing[0]})`;
      // Holding every retained message is not enough: its key must have reached the head
      // (a device below the floor has yet to hear 1200 and resync).
      // A key of 0 asks for everything retained: with nothing retained in that category
      // (the head is the floor) nothing will move it, and it is level with the head once
      // the device holds every acknowledged message for it (none is still on its way).
      const key = new Map(core.syncKey());
      const floor = world.floor(account);
      for (const [cat, at] of world.head(account)) {
        const k = key.get(cat) ?? 0;
        if (k >= at) continue;
        if (k === 0 && at === floor.get(cat) && world.checkers.holdsEveryAcked(d.name, (g) => world.members(g))) continue;
        return `${d.name}: key ${cat}_${k} behind the head ${at}`;
      }
    }
  }
  return undefined;
}

function dumpState(world: World): string {
  const lines = [`event ${world.events} at ${world.elapsed} ms; server ${world.server.up ? 'up' : 'down'}`];
  if (world.server.node) lines.push(`server: ${JSON.stringify(world.server.node.stats())}`);
  for (const d of world.devices) {
    const c = d.current?.core;
    lines.push(
      c
        ? `${d.name} (${d.transport}) ${c.state} key ${c.syncKey().map(([k, v]) => `${k}_${v}`).join('|')} inbox ${c.inbox().length} outbox ${c.outbox().length}${d.ghosts.length ? ` ghosts ${d.ghosts.length}` : ''}`
        : `${d.name} (${d.transport}) app not running`,
    );
  }
  return lines.join('\n');
}

