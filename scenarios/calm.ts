import { BASE_WORKLOAD, CALM_FAULTS, type Scenario } from './scenario.ts';

/** Nothing goes wrong: the baseline every other scenario is compared with. */
export const calm: Scenario = {
  name: 'calm',
  description: 'four accounts on all three transports, a group, steady sends; no faults',
  // Bursts keep appends arriving while devices set up their next long poll.
  workload: { ...BASE_WORKLOAD, burst: { everyMs: 3_000, size: 5 } },
  // A group-commit window of a few ms: requests that arrive together share a commit.
  faults: { ...CALM_FAULTS, commitDelayMs: [1, 15] },
  livenessBoundMs: 30_000,
  // With no faults a message is on every recipient device well within a second;
  // a notify or a synccheck that misses it waits out the 25 s hold instead.
  maxDeliveryMs: 2_000,
};
