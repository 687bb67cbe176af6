import { BASE_WORKLOAD, CALM_FAULTS, type Scenario } from './scenario.ts';

/** The server crashes again and again; group commit delays widen the window for loss. */
export const serverCrashLoop: Scenario = {
  name: 'server-crash-loop',
  description: 'server crashes every few seconds (uncommitted batches lost), restarts after a moment',
  workload: { ...BASE_WORKLOAD, sendsPerSecond: 8 },
  faults: {
    ...CALM_FAULTS,
    latencyMs: [1, 30],
    serverCrashMeanIntervalMs: 3_000,
    serverDowntimeMeanMs: 800,
    commitDelayMs: [0, 20],
  },
  // Retention by acknowledgement runs during the run, so a wrong acknowledgement loses items.
  core: { minRetentionMs: 2_000, pruneIntervalMs: 1_000 },
  livenessBoundMs: 120_000,
};
