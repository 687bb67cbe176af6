// Swarm testing: every fault parameter drawn from the seed, so that many
// seeds explore many different worlds. The drawn values print with the seed.
import type { FaultProfile, Scenario } from '../scenarios/scenario.ts';
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
  // A delivery bound holds only where nothing goes wrong: swarm faults drop it.
  const { maxDeliveryMs: _bound, ...rest } = base;
  return { ...rest, faults, livenessBoundMs: Math.max(base.livenessBoundMs, 180_000) };
}

/** The drawn parameters on one line, rounded for reading. */
export function describeFaults(f: FaultProfile): string {
  return Object.entries(f)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.map(round).join('..') : round(v as number)}`)
    .join(' ');
}

function round(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(3);
}
