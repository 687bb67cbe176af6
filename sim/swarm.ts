// Swarm testing: every fault parameter drawn from the seed, so that many
// seeds explore many different worlds. The drawn values print with the seed.
// A scenario with hostile users has their parameters drawn too, from a
// stream of their own: the faults a seed draws are the same with or without.
// So are the storage faults (a stream of their own as well): failing writes
// and commits, and now and then a store that runs synchronous NORMAL, whose
// crashes are power cuts.
import type { FaultProfile, HostileWorkload, Scenario, StorageFaults } from '../scenarios/scenario.ts';
import { coreConfig } from '../server/core/config.ts';
import { Rng } from './rng.ts';

export function swarm(base: Scenario, seed: string): Scenario {
  const r = new Rng('swarm', seed);
  const on = (p: number): boolean => r.chance(p);
  const lat = r.int(1, 50);
  const faults: FaultProfile = {
    latencyMs: [lat, lat + r.int(0, 200)],
    latencyTailProbability: on(0.5) ? r.between(0, 0.2) : 0,
    latencyTailMs: r.int(100, 3000),
    dropProbability: on(0.6) ? r.between(0, 0.25) : 0,
    duplicateProbability: on(0.5) ? r.between(0, 0.2) : 0,
    linkResetPerSecond: on(0.4) ? r.between(0, 0.5) : 0,
    partitionMeanIntervalMs: on(0.5) ? r.int(1000, 10_000) : 0,
    partitionMeanDurationMs: r.int(500, 8000),
    partitionOneWayProbability: r.between(0, 0.5),
    serverCrashMeanIntervalMs: on(0.4) ? r.int(2000, 15_000) : 0,
    serverDowntimeMeanMs: r.int(100, 3000),
    appKillMeanIntervalMs: on(0.4) ? r.int(1000, 10_000) : 0,
    appDowntimeMeanMs: r.int(100, 3000),
    appKillTornWriteProbability: r.between(0, 0.5),
    sessionReplaceMeanIntervalMs: on(0.3) ? r.int(2000, 15_000) : 0,
    commitDelayMs: [0, r.int(0, 30)],
  };
  const livenessBoundMs = Math.max(base.livenessBoundMs, 180_000);
  // Where sessions live shorter than the run, a replaced install's session may
  // expire, or its device be forgotten with the Sids it retired, before its
  // replacer's login lands: its new login by password is then the protocol at
  // work (docs/protocol.md section 2.2), which the apps would judge as a server
  // that let an old install take its device back. Replacements stay where
  // sessions outlive the run.
  if (coreConfig(base.core).sessionTtlMs < base.workload.durationMs + livenessBoundMs) faults.sessionReplaceMeanIntervalMs = 0;
  // A delivery bound holds only where nothing goes wrong: swarm faults drop it.
  // So does a promise of no resync: a lost request keeps a device silent for
  // its whole timeout, long enough to outlive a short session lifetime.
  const { maxDeliveryMs: _bound, resyncAllowed: _resync, ...rest } = base;
  const workload = base.workload.hostile ? { ...base.workload, hostile: swarmHostile(base.workload.hostile, seed) } : base.workload;
  return { ...rest, workload, faults, storage: swarmStorage(seed), livenessBoundMs };
}

/** Writes and commits that fail, each on or off at a drawn rate; now and then power cuts. */
function swarmStorage(seed: string): StorageFaults {
  const r = new Rng('swarm-storage', seed);
  const on = (p: number): boolean => r.chance(p);
  return {
    applyFailProbability: on(0.4) ? r.between(0, 0.1) : 0,
    commitFailProbability: on(0.4) ? r.between(0, 0.1) : 0,
    transactionLostProbability: r.between(0, 1),
    powerLossCommits: on(0.2) ? r.int(1, 4) : 0,
  };
}

/** The drawn storage faults on one line, or '' for a store that never fails. */
export function describeStorage(s: Scenario): string {
  const f = s.storage;
  if (!f || (f.applyFailProbability === 0 && f.commitFailProbability === 0 && f.powerLossCommits === 0)) return '';
  return `storage: ${describeFaults(f)}`;
}

/** Each hostile behaviour on or off, at a drawn rate and size; the account count stays the scenario's. */
function swarmHostile(base: HostileWorkload, seed: string): HostileWorkload {
  const r = new Rng('swarm-hostile', seed);
  const on = (p: number): boolean => r.chance(p);
  return {
    accounts: base.accounts,
    flood: { everyMs: on(0.7) ? r.int(500, 10_000) : 0, size: r.int(1, 100) },
    pipeline: { everyMs: on(0.5) ? r.int(500, 10_000) : 0, packets: r.int(1, 100) },
    guess: { everyMs: on(0.5) ? r.int(100, 5_000) : 0 },
    groupSpam: { everyMs: on(0.6) ? r.int(500, 10_000) : 0, members: r.int(1, 5), messages: r.int(1, 40) },
  };
}

/** The drawn hostile parameters on one line, or '' without hostile users. */
export function describeHostile(s: Scenario): string {
  const h = s.workload.hostile;
  if (!h) return '';
  return `hostile: accounts=${h.accounts} flood=${h.flood.size}/${h.flood.everyMs}ms pipeline=${h.pipeline.packets}/${h.pipeline.everyMs}ms guess=${h.guess.everyMs}ms rooms=${h.groupSpam.members}x${h.groupSpam.messages}/${h.groupSpam.everyMs}ms`;
}

/** The drawn parameters on one line, rounded for reading. */
export function describeFaults(f: FaultProfile | StorageFaults): string {
  return Object.entries(f)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.map(round).join('..') : round(v as number)}`)
    .join(' ');
}

function round(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(3);
}
