import { BASE_WORKLOAD, CALM_FAULTS, type Scenario } from './scenario.ts';

/**
 * The server runs synchronous NORMAL and its crashes are power cuts: each
 * may take the last few commits, answered though they were (docs/protocol.md
 * section 9.2). Their messages are excused from no-loss; nothing else is:
 * devices that hold what the server lost (MsgIds, keys past its rewound
 * log) go on without an error, without a resync, and without a MsgId or a
 * sequence value of theirs handed out again. Writes and commits fail too.
 */
export const powerLoss: Scenario = {
  name: 'power-loss',
  description: 'synchronous NORMAL: crashes are power cuts that take the last commits; devices ahead of the rewound server go on',
  workload: { ...BASE_WORKLOAD, sendsPerSecond: 6 },
  faults: {
    ...CALM_FAULTS,
    latencyMs: [1, 30],
    serverCrashMeanIntervalMs: 5_000,
    serverDowntimeMeanMs: 500,
    commitDelayMs: [0, 10],
  },
  storage: { applyFailProbability: 0.02, commitFailProbability: 0.02, transactionLostProbability: 0.5, powerLossCommits: 4 },
  core: { minRetentionMs: 2_000, pruneIntervalMs: 1_000 },
  livenessBoundMs: 120_000,
};
