// One simulation run: set up the world from a scenario and a seed, run the
// safety phase with every fault, heal, run the liveness phase until every
// device has converged (or the bound passes), and check every guarantee.
import type { BugSet } from '../server/core/planted-bugs.ts';
import { NO_BUGS } from '../server/core/planted-bugs.ts';
import { scenarioByName } from '../scenarios/index.ts';
import { CALM_FAULTS, type Scenario } from '../scenarios/scenario.ts';
import { laggard } from './convergence.ts';
import type { MultiNodeStats } from './multi-node.ts';
import { FaultScheduler } from './fault-scheduler.ts';
import type { NetStats } from './network.ts';
import type { WorldCounters } from './observer.ts';
import type { RunSpec } from './run-spec.ts';
import { checkRunSpec } from './run-spec-check.ts';
import { simStore, type SimStoreKind } from './sim-store.ts';
import { Violation } from './violation.ts';
import { WorkloadDriver } from './workload.ts';
import { World, type WorldOptions } from './world.ts';

export interface RunOptions {
  store?: SimStoreKind;
  bugs?: BugSet;
  /** Keep every trace line (for --trace). */
  keepTrace?: boolean;
  /** Stop after this many events and report the world's state. */
  untilEvent?: number;
  /** Freeze the memory store's records (default true; see simStore). */
  freeze?: boolean;
  /**
   * Handed the world once it is built, before anything runs: how a picture's
   * recorder (sim/picture/) watches a run. It must only watch: draw nothing
   * from the world's streams and schedule nothing, or the trace changes.
   */
  watch?: (world: World) => void;
  /** Test only (a planted bug), with several nodes: the shared store stops serializing their batches (sim/shared-store.ts). */
  unserializedStore?: boolean;
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
  /** With several server nodes: how devices moved and what the cross-node notices did. */
  nodes?: MultiNodeStats;
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

/** The scenario a spec runs under: the named one's server config, the spec's network and phase length. */
export function scenarioForSpec(spec: RunSpec): Scenario {
  const base = scenarioByName(spec.scenario);
  const { commitDelayMs, ...net } = spec.net;
  const s: Scenario = {
    ...base,
    workload: { ...base.workload, accounts: spec.accounts.length, durationMs: spec.durationMs },
    faults: { ...CALM_FAULTS, ...net, latencyMs: [...net.latencyMs], commitDelayMs: [...commitDelayMs] },
  };
  if (spec.livenessBoundMs !== undefined) s.livenessBoundMs = spec.livenessBoundMs;
  delete s.maxDeliveryMs;
  if (spec.maxDeliveryMs !== undefined) s.maxDeliveryMs = spec.maxDeliveryMs;
  return s;
}

/** Run a spec: the same spec and options give the same trace hash. */
export function runSpec(spec: RunSpec, opts: RunOptions = {}): RunResult {
  checkRunSpec(spec);
  const scenario = scenarioForSpec(spec);
  return runWorld(
    scenario,
    spec.seed,
    opts,
    (world) => ({
      workload: new WorkloadDriver(world, world.streams.get('workload'), scenario.workload, spec),
      faults: new FaultScheduler(world, world.streams.get('faults'), scenario.faults, spec.faults),
    }),
    // Each device's network draws are its own: dropping a device from a spec leaves the rest alone.
    { netStreamPerDevice: true },
  );
}

/** One run of a scenario's world under the given drivers. */
export function runWorld(
  scenario: Scenario,
  seed: string,
  opts: RunOptions,
  drivers: (world: World) => Drivers,
  worldOptions: Pick<WorldOptions, 'netStreamPerDevice'> = {},
): RunResult {
  const store = simStore(opts.store ?? 'memory', { freeze: opts.freeze ?? true });
  const world = new World({ scenario, seed, store, bugs: opts.bugs ?? NO_BUGS, keepTrace: opts.keepTrace ?? false, seededTies: true, ...worldOptions, ...(opts.unserializedStore ? { unserializedStore: true } : {}) });
  opts.watch?.(world);
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
        world.checkers.final(accountDevices(world), (a) => world.oracle.log(a), (g) => world.oracle.members(g));
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
      recent: world.trace.recentFor(e.who, ...world.servers.map((h) => h.name)).slice(-24),
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
    counts: { ...world.checkers.counts, crashes: world.servers.reduce((n, h) => n + h.crashes, 0), ...world.counters },
    net: { ...world.net.stats },
  };
  if (world.multi) result.nodes = world.multi.stats();
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
  for (const [a, ds] of world.registry.accounts) m.set(a, ds.map((d) => d.name));
  return m;
}

function dumpState(world: World): string {
  const lines = [`event ${world.events} at ${world.elapsed} ms; ${world.servers.map((h) => `${h.name} ${h.up ? 'up' : 'down'}`).join(', ')}`];
  for (const h of world.servers) if (h.node) lines.push(`${h.name}: ${JSON.stringify(h.node.stats())}`);
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

