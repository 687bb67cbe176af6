import { BASE_WORKLOAD, CALM_FAULTS, type Scenario } from './scenario.ts';

/**
 * Honest users as usual, with app kills and partitions that leave some of
 * their devices behind, beside two hostile accounts that flood strangers,
 * pipeline syncs, guess passwords and spam rooms of strangers. The limits are
 * small enough that the abuse meets them: logs fill (1110), quotas run dry
 * (1111); no honest device may lose anything or be told to resync.
 */
export const hostileUsers: Scenario = {
  name: 'hostile-users',
  description: 'five honest accounts with kills and partitions; two hostile ones flood, pipeline, guess passwords and spam rooms; small logs and quotas',
  workload: {
    ...BASE_WORKLOAD,
    accounts: 5,
    groups: 1,
    groupSize: 4,
    hostile: {
      accounts: 2,
      flood: { everyMs: 3_000, size: 30 },
      pipeline: { everyMs: 4_000, packets: 40 },
      guess: { everyMs: 1_000 },
      groupSpam: { everyMs: 3_000, members: 3, messages: 15 },
    },
  },
  faults: {
    ...CALM_FAULTS,
    latencyMs: [1, 40],
    dropProbability: 0.02,
    duplicateProbability: 0.02,
    partitionMeanIntervalMs: 6_000,
    partitionMeanDurationMs: 4_000,
    appKillMeanIntervalMs: 5_000,
    appDowntimeMeanMs: 4_000,
    commitDelayMs: [0, 10],
  },
  core: {
    // A lagging honest device soon leaves its log full of what it has not consumed.
    maxLogItemsPerCategory: 16,
    sendMessagesPerSec: 10,
    sendMessageBurst: 40,
    strangerMessagesPerSec: 2,
    strangerMessageBurst: 10,
    groupCreatesPerHour: 20,
    groupCreateBurst: 4,
  },
  livenessBoundMs: 180_000,
};
