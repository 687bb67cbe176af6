// The faults of a chaos run, from the scenario's fault profile and the seed.
// Two kinds:
//
// - A schedule, drawn up front as the simulator's fault scheduler draws it
//   (sim/fault-scheduler.ts): server crashes with their downtimes, app kills
//   (torn or not) with theirs, partitions of a device (both ways or one way),
//   session replacements, resets of a device's long links, and the comings
//   and goings of young devices (Scenario.lifetimes). It is a RunSpec's
//   fault list, so the simulator can play the same one.
// - Rates the proxy draws from as traffic passes (chaos/fault-dice.ts): per
//   chunk of a stream a delay, a split, a merge; per connection half-open
//   stalls; per HTTP exchange a lost request, a lost answer, a duplicate.
//   The profile's latency, tail, drop and duplicate figures are these; the
//   splits and merges are on in every scenario (TCP cuts and joins writes on
//   any network), and stalls come with the scenario's link resets.
import type { FaultProfile, Scenario } from '../scenarios/scenario.ts';
import type { Rng } from '../sim/rng.ts';
import { deviceName, type FaultSpec, type RunSpecAccount } from '../sim/run-spec.ts';
import type { ProxyRates } from './fault-dice.ts';

export interface FaultPart {
  faults: FaultSpec[];
  /** Indexes into `faults` of kills after which the app comes back as a new install (nothing it persisted survives). */
  reinstalls: number[];
}

/** Splits and merges of every stream, in every scenario. */
const SPLIT_PROBABILITY = 0.3;
const MERGE_PROBABILITY = 0.3;
/** A half-open stall lasts this long on average (ms). */
const STALL_MEAN_MS = 1_500;

export function proxyRates(f: FaultProfile): ProxyRates {
  return {
    link: {
      latencyMs: [...f.latencyMs],
      tailProbability: f.latencyTailProbability,
      tailMs: f.latencyTailMs,
      splitProbability: SPLIT_PROBABILITY,
      maxPieces: 4,
      mergeProbability: MERGE_PROBABILITY,
      mergeHoldMs: [2, 15],
      // As often as the profile resets a link, half of that one stalls instead.
      stallPerSecond: f.linkResetPerSecond / 2,
      stallMeanMs: STALL_MEAN_MS,
    },
    httpStream: {
      latencyMs: [0, 0],
      tailProbability: 0,
      tailMs: 0,
      splitProbability: SPLIT_PROBABILITY,
      maxPieces: 3,
      mergeProbability: MERGE_PROBABILITY,
      mergeHoldMs: [1, 5],
      stallPerSecond: 0,
      stallMeanMs: 0,
    },
    http: {
      latencyMs: [...f.latencyMs],
      tailProbability: f.latencyTailProbability,
      tailMs: f.latencyTailMs,
      // The simulator loses a request and its answer each with this probability.
      dropRequestProbability: f.dropProbability,
      dropResponseProbability: f.dropProbability,
      duplicateProbability: f.duplicateProbability,
      // A lost request or answer: half the time the client waits it out (its timeout), half the time its connection is reset.
      lossHangsProbability: 0.5,
    },
  };
}

/** The schedule of a run `durationMs` long; `rng` is the 'faults' stream, `lifetimes` the 'lifetimes' one. */
export function planFaults(s: Scenario, rng: Rng, lifetimes: Rng, accounts: readonly RunSpecAccount[], durationMs: number): FaultPart {
  const f = s.faults;
  const all = accounts.flatMap((a) => a.devices.map((d, k) => ({ name: deviceName(a.name, k), transport: d.transport })));
  const names = all.map((d) => d.name);
  const longLinked = all.filter((d) => d.transport !== 'http').map((d) => d.name);
  const planned: Array<{ spec: FaultSpec; reinstall: boolean }> = [];
  const push = (spec: FaultSpec, reinstall = false): void => void planned.push({ spec, reinstall });
  const every = (meanMs: number, f: (at: number) => void): void => {
    if (!(meanMs > 0)) return;
    for (let t = rng.exp(meanMs); t < durationMs; t += rng.exp(meanMs)) f(Math.round(t));
  };
  every(f.serverCrashMeanIntervalMs, (at) => push({ at, kind: 'crash', downMs: Math.round(rng.exp(f.serverDowntimeMeanMs)) }));
  if (names.length > 0) {
    every(f.appKillMeanIntervalMs, (at) =>
      push({ at, kind: 'kill', device: rng.pick(names), torn: rng.chance(f.appKillTornWriteProbability), downMs: Math.round(rng.exp(f.appDowntimeMeanMs)) }),
    );
    every(f.partitionMeanIntervalMs, (at) => {
      const device = rng.pick(names);
      const oneWay = rng.chance(f.partitionOneWayProbability);
      const up = !oneWay || rng.chance(0.5);
      const dir = oneWay ? (up ? 'up' : 'down') : 'both';
      push({ at, kind: 'partition', device, dir, durationMs: Math.round(rng.exp(f.partitionMeanDurationMs)) });
    });
    every(f.sessionReplaceMeanIntervalMs, (at) => push({ at, kind: 'replace', device: rng.pick(names) }));
  }
  if (f.linkResetPerSecond > 0 && longLinked.length > 0) every(1000 / f.linkResetPerSecond, (at) => push({ at, kind: 'reset', device: rng.pick(longLinked) }));
  const l = s.lifetimes;
  if (l) {
    for (const a of accounts) {
      for (let k = l.oldDevicesPerAccount; k < a.devices.length; k++) {
        const device = deviceName(a.name, k);
        for (let t = lifetimes.between(l.presentMs[0], l.presentMs[1]); t < durationMs; ) {
          const reinstall = lifetimes.chance(l.reinstallProbability);
          const away = Math.round(lifetimes.between(l.awayMs[0], l.awayMs[1]));
          push({ at: Math.round(t), kind: 'kill', device, torn: false, downMs: away }, reinstall);
          t += away + lifetimes.between(l.presentMs[0], l.presentMs[1]);
        }
      }
    }
  }
  // Stable: faults due at the same ms keep the order they were drawn in.
  planned.sort((a, b) => a.spec.at - b.spec.at);
  return { faults: planned.map((p) => p.spec), reinstalls: planned.flatMap((p, i) => (p.reinstall ? [i] : [])) };
}
