// What the seed fixes in a chaos run, made before anything runs: the users
// and their actions, the fault schedule, and the rates the proxy draws its
// per-chunk and per-request faults from. Same scenario, seed and duration:
// the same plan, to the byte. What the seed cannot fix is the outcome: real
// timing decides which request a drop meets and how a crash cuts a commit.
import { coreConfig } from '../server/core/config.ts';
import { PLANTED_BUGS, type PlantedBug } from '../server/core/planted-bugs.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import { Streams } from '../sim/rng.ts';
import type { RunSpec } from '../sim/run-spec.ts';
import { checkRunSpec } from '../sim/run-spec-check.ts';
import type { ProxyRates } from './fault-dice.ts';
import { planFaults, proxyRates } from './fault-plan.ts';
import { planWorkload } from './workload-plan.ts';

export const PLAN_FORMAT = 'synckey-chaos-plan/1';

export interface ChaosPlan {
  format: typeof PLAN_FORMAT;
  /** The users, their actions and the fault schedule, as the simulator runs them. */
  spec: RunSpec;
  /** Indexes into spec.faults of kills whose app comes back as a new install. */
  reinstalls: number[];
  proxy: ProxyRates;
  /** May a device be told to resync (1200)? As the simulator decides it for the scenario. */
  resyncAllowed: boolean;
  /** What of the scenario a run of the real server cannot play, each said in a line. */
  notPlayed: string[];
  /**
   * Planted bugs (server/core/planted-bugs.ts) the server child and the apps
   * run with, to prove the checkers catch them on the real thing; in the
   * order of PLANTED_BUGS. Absent in histories written before --bug: none.
   */
  bugs?: PlantedBug[];
}

export interface PlanOptions {
  durationMs: number;
  livenessBoundMs: number;
  bugs?: readonly PlantedBug[];
}

/** The planted bugs the app (the client core) takes; the others are the server's. */
export const CLIENT_BUGS: ReadonlySet<PlantedBug> = new Set(['client-no-dedup']);

/**
 * Planted bugs a chaos run does not judge what catches them, and why: said
 * with the plan, so a run that passes with one is not read as a miss.
 */
export const UNJUDGED_BUGS: Partial<Record<PlantedBug, string>> = {
  'synccheck-race': 'it only delays a delivery to the next poll; the prompt-delivery bound that catches it in the simulator is not judged on real timing',
};

/** A plan's bugs, none if it has none. */
export function bugsOf(plan: ChaosPlan): PlantedBug[] {
  return plan.bugs ?? [];
}

export function makePlan(scenario: Scenario, seed: string, o: PlanOptions): ChaosPlan {
  const streams = new Streams(seed);
  const workload = planWorkload(scenario.workload, streams.get('workload'), o.durationMs);
  const faults = planFaults(scenario, streams.get('faults'), streams.get('lifetimes'), workload.accounts, o.durationMs);
  const f = scenario.faults;
  const spec: RunSpec = {
    scenario: scenario.name,
    seed,
    ...workload,
    faults: faults.faults,
    net: {
      latencyMs: [...f.latencyMs],
      latencyTailProbability: f.latencyTailProbability,
      latencyTailMs: f.latencyTailMs,
      dropProbability: f.dropProbability,
      duplicateProbability: f.duplicateProbability,
      commitDelayMs: [...f.commitDelayMs],
    },
    durationMs: o.durationMs,
    livenessBoundMs: o.livenessBoundMs,
  };
  checkRunSpec(spec);
  const core = coreConfig(scenario.core);
  const resyncAllowed = scenario.resyncAllowed ?? Math.min(core.maxRetentionMs, core.sessionTtlMs) < o.durationMs + o.livenessBoundMs;
  const plan: ChaosPlan = { format: PLAN_FORMAT, spec, reinstalls: faults.reinstalls, proxy: proxyRates(f), resyncAllowed, notPlayed: notPlayed(scenario) };
  const bugs = PLANTED_BUGS.filter((b) => o.bugs?.includes(b));
  if (bugs.length > 0) plan.bugs = bugs;
  return plan;
}

function notPlayed(s: Scenario): string[] {
  const out: string[] = [];
  if (s.workload.hostile) out.push('hostile accounts (honest users only)');
  if (s.storage && (s.storage.applyFailProbability > 0 || s.storage.commitFailProbability > 0)) out.push('store faults on the live store (the real SQLite store does not fail on cue)');
  if (s.storage && s.storage.powerLossCommits > 0) out.push('power loss (a SIGKILL keeps what the OS has; NORMAL is run, crashes are process crashes)');
  if (s.faults.commitDelayMs[1] > 2) out.push('drawn commit delays (the real server commits on its own schedule)');
  if (s.maxDeliveryMs !== undefined) out.push('the prompt-delivery bound (real timing on a shared machine is no guarantee)');
  if ((s.nodes ?? 1) > 1) out.push(`${s.nodes} server nodes (one server process here; test/e2e/postgres runs two on PostgreSQL)`);
  return out;
}
