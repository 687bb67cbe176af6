// One unit of a sweep: a scenario and a seed, run (twice with the determinism
// check), with everything the summary and the failure report need. Plain data
// in and out, so a worker thread can run it.
import { parseBug, type PlantedBug } from '../server/core/planted-bugs.ts';
import { scenarioByName } from '../scenarios/index.ts';
import { runScenario, type RunResult } from './run.ts';
import type { SimStoreKind } from './sim-store.ts';
import { describeFaults, swarm } from './swarm.ts';

export interface SweepSettings {
  swarm: boolean;
  store: SimStoreKind;
  bugs: PlantedBug[];
  checkDeterminism: boolean;
  keepTrace: boolean;
  untilEvent?: number;
  /** Freeze the memory store's records (default true; see simStore). */
  freeze?: boolean;
}

export interface Job {
  index: number;
  scenario: string;
  seed: string;
}

export interface JobResult {
  job: Job;
  result: RunResult;
  /** The second run's hash when it differs (determinism check). */
  divergentHash?: string;
  divergentEvents?: number;
  /** Swarm: the drawn fault parameters. */
  swarmLine?: string;
  wallMs: number;
  /** CPU time of the thread that ran it, where the system tells (see thread-cpu.ts). */
  cpuMs?: number;
}

/** `now` (wall) and `cpuNow` (the thread's CPU) time the run for the report only; neither reaches the run. */
export function runJob(job: Job, s: SweepSettings, now: () => number, cpuNow?: () => number): JobResult {
  const base = scenarioByName(job.scenario);
  const scenario = s.swarm ? swarm(base, job.seed) : base;
  const opts = {
    store: s.store,
    bugs: new Set(s.bugs.map(parseBug)),
    keepTrace: s.keepTrace,
    freeze: s.freeze ?? true,
    ...(s.untilEvent !== undefined ? { untilEvent: s.untilEvent } : {}),
  };
  const c0 = cpuNow?.();
  const t0 = now();
  const result = runScenario(scenario, job.seed, opts);
  const out: JobResult = { job, result, wallMs: now() - t0 };
  if (cpuNow && c0 !== undefined) out.cpuMs = cpuNow() - c0;
  if (s.swarm) out.swarmLine = `SEED=${job.seed} ${describeFaults(scenario.faults)}`;
  if (s.checkDeterminism) {
    const again = runScenario(scenario, job.seed, { ...opts, keepTrace: false });
    if (again.traceHash !== result.traceHash || again.events !== result.events) {
      out.divergentHash = again.traceHash;
      out.divergentEvents = again.events;
    }
  }
  return out;
}

/** The jobs of a sweep: scenarios × seeds, then the shard's slice (1-based I of N). */
export function sweepJobs(scenarios: readonly string[], firstSeed: number, seeds: number, shard?: { index: number; of: number }): Job[] {
  const jobs: Job[] = [];
  let index = 0;
  for (const scenario of scenarios) {
    for (let i = 0; i < seeds; i++) {
      if (!shard || index % shard.of === shard.index - 1) jobs.push({ index, scenario, seed: String(firstSeed + i) });
      index++;
    }
  }
  return jobs;
}
