import { BASE_WORKLOAD, CALM_FAULTS, type Scenario } from './scenario.ts';

/** Nothing goes wrong: the baseline every other scenario is compared with. */
export const calm: Scenario = {
  name: 'calm',
  description: 'four accounts on all three transports, a group, steady sends; no faults',
  workload: { ...BASE_WORKLOAD },
  faults: { ...CALM_FAULTS },
  livenessBoundMs: 30_000,
};
