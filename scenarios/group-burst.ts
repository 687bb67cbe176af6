import { BASE_WORKLOAD, CALM_FAULTS, type Scenario } from './scenario.ts';

/** A big group and many concurrent senders in bursts: one order for every member. */
export const groupBurst: Scenario = {
  name: 'group-burst',
  description: 'eight accounts in two groups, most sends to groups, bursts of ten; small sync pages',
  workload: {
    ...BASE_WORKLOAD,
    accounts: 8,
    devicesPerAccount: [1, 2],
    groups: 2,
    groupSize: 8,
    sendsPerSecond: 12,
    groupSendFraction: 0.8,
    burst: { everyMs: 2_000, size: 10 },
  },
  faults: { ...CALM_FAULTS, latencyMs: [1, 50], duplicateProbability: 0.05, dropProbability: 0.05 },
  core: { syncLimit: 7 },
  livenessBoundMs: 120_000,
};
