import { BASE_WORKLOAD, CALM_FAULTS, type Scenario } from './scenario.ts';

/**
 * Three server nodes on one store, as on one PostgreSQL database (issue 14):
 * devices spread over them and move on reconnects and requests, the
 * cross-node notice is lost or late, and one node at a time crashes while
 * the others serve.
 */
export const multiNode: Scenario = {
  name: 'multi-node',
  description: 'three nodes on one store; devices move between them; lossy, late cross-node notices; one node crashes at a time',
  workload: { ...BASE_WORKLOAD, sendsPerSecond: 6 },
  faults: {
    ...CALM_FAULTS,
    latencyMs: [1, 30],
    dropProbability: 0.03,
    duplicateProbability: 0.03,
    linkResetPerSecond: 0.1,
    serverCrashMeanIntervalMs: 2_500,
    serverDowntimeMeanMs: 800,
    // Long enough that batches of different nodes overlap, and a crash often finds one open.
    commitDelayMs: [5, 60],
  },
  nodes: 3,
  nodeFaults: { moveProbability: 0.2, noticeLossProbability: 0.2, noticeDelayMs: [0, 300] },
  // Retention by acknowledgement runs during the run, so a wrong acknowledgement loses items.
  core: { minRetentionMs: 2_000, pruneIntervalMs: 1_000 },
  // Notices stay lossy after healing: a link whose notice was lost waits for its client's safety sync (120 s), a poll for its hold to end.
  livenessBoundMs: 180_000,
};
