import { BASE_WORKLOAD, CALM_FAULTS, type Scenario } from './scenario.ts';

/** Devices lose the network (both ways or one way) for seconds at a time. */
export const partitionHeal: Scenario = {
  name: 'partition-heal',
  description: 'symmetric and one-way partitions of devices, healed after a few seconds',
  workload: { ...BASE_WORKLOAD, devicesPerAccount: [1, 3] },
  faults: {
    ...CALM_FAULTS,
    latencyMs: [2, 40],
    partitionMeanIntervalMs: 2_000,
    partitionMeanDurationMs: 4_000,
    partitionOneWayProbability: 0.4,
  },
  // Retention by acknowledgement runs during the run, so a wrong acknowledgement loses items.
  core: { minRetentionMs: 2_000, pruneIntervalMs: 1_000 },
  livenessBoundMs: 120_000,
};
