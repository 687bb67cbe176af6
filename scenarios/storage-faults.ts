import { BASE_WORKLOAD, CALM_FAULTS, type Scenario } from './scenario.ts';

/**
 * The server's disk fails under it: a command's writes fail part-way, a
 * batch's commit fails, half the time taking the whole transaction with it,
 * and the server crashes now and then (synchronous FULL: nothing committed
 * is lost). Failed commands are answered Ret 1 and retried; nothing that was
 * answered may be lost, and nothing rolled back may leak into a later answer
 * (its MsgId, its sequence values, its session are handed out again).
 */
export const storageFaults: Scenario = {
  name: 'storage-faults',
  description: 'applies and commits fail (I/O errors, a full disk), with and without the transaction; crashes now and then; nothing answered is lost',
  workload: { ...BASE_WORKLOAD, sendsPerSecond: 6, burst: { everyMs: 4_000, size: 4 } },
  faults: {
    ...CALM_FAULTS,
    latencyMs: [1, 30],
    dropProbability: 0.01,
    serverCrashMeanIntervalMs: 8_000,
    serverDowntimeMeanMs: 500,
    appKillMeanIntervalMs: 8_000,
    appDowntimeMeanMs: 1_000,
    commitDelayMs: [0, 10],
  },
  storage: { applyFailProbability: 0.04, commitFailProbability: 0.06, transactionLostProbability: 0.5, powerLossCommits: 0 },
  // Retention runs during the run: a prune or an acknowledgement that a rollback undid must not count.
  core: { minRetentionMs: 2_000, pruneIntervalMs: 1_000 },
  livenessBoundMs: 120_000,
};
