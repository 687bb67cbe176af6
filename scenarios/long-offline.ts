import { BASE_WORKLOAD, CALM_FAULTS, type Scenario } from './scenario.ts';

/** Devices offline beyond retention: their keys fall below what is kept, and they get 1200 and resync. */
export const longOffline: Scenario = {
  name: 'long-offline',
  description: 'short retention, long partitions and long silences: the Ret 1200 resync path, never a silent gap',
  workload: { ...BASE_WORKLOAD, durationMs: 40_000, silence: { everyMs: 20_000, durationMs: 8_000 } },
  faults: {
    ...CALM_FAULTS,
    latencyMs: [2, 30],
    partitionMeanIntervalMs: 4_000,
    partitionMeanDurationMs: 12_000,
    partitionOneWayProbability: 0,
  },
  // The background sweep prunes accounts whose devices are all away, not just those that sync.
  core: { minRetentionMs: 1_000, maxRetentionMs: 8_000, pruneIntervalMs: 500, sessionTtlMs: 20_000, lastSeenGranularityMs: 500, sweepAccountIntervalMs: 3_000 },
  // The long poll must be shorter than the session lifetime, or every idle poll would expire its session.
  node: { holdMs: 5_000 },
  livenessBoundMs: 120_000,
};
