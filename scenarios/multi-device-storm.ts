import { BASE_WORKLOAD, CALM_FAULTS, type Scenario } from './scenario.ts';

/** Many devices per account, apps killed and relaunched, sessions replaced by new logins. */
export const multiDeviceStorm: Scenario = {
  name: 'multi-device-storm',
  description: 'up to five devices per account, app kills and restarts, session replacement',
  workload: { ...BASE_WORKLOAD, accounts: 3, devicesPerAccount: [3, 5], sendsPerSecond: 8 },
  faults: {
    ...CALM_FAULTS,
    latencyMs: [2, 40],
    dropProbability: 0.03,
    appKillMeanIntervalMs: 1_500,
    appDowntimeMeanMs: 1_000,
    appKillTornWriteProbability: 0.3,
    sessionReplaceMeanIntervalMs: 3_000,
  },
  // Retention by acknowledgement runs during the run, so a wrong acknowledgement loses items.
  core: { minRetentionMs: 2_000, pruneIntervalMs: 1_000 },
  livenessBoundMs: 120_000,
};
