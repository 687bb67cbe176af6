import { BASE_WORKLOAD, CALM_FAULTS, type Scenario } from './scenario.ts';

/** A bad network: lost, duplicated and slow HTTP halves, resets of long links. */
export const flakyWifi: Scenario = {
  name: 'flaky-wifi',
  description: 'drops, duplicates and slow paths on every HTTP exchange; long links reset',
  workload: { ...BASE_WORKLOAD, sendsPerSecond: 6 },
  faults: {
    ...CALM_FAULTS,
    latencyMs: [5, 80],
    latencyTailProbability: 0.1,
    latencyTailMs: 1500,
    dropProbability: 0.15,
    duplicateProbability: 0.1,
    linkResetPerSecond: 0.2,
  },
  // Retention by acknowledgement runs during the run, so a wrong acknowledgement loses items.
  core: { minRetentionMs: 2_000, pruneIntervalMs: 1_000 },
  livenessBoundMs: 120_000,
};
