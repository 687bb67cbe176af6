// Types of traffic-plan.js for the Node project (test/loadtest/k6-accounting.test.ts),
// which does not read JavaScript; traffic-plan.js checks itself against them.

/** The accounts of a run, split into cohorts: messages never leave a cohort. */
export interface Plan {
  accounts: number;
  /** The most accounts in one cohort (one chat room each). */
  cohortSize: number;
  cohorts: number;
}

/** A stream's id parsed: `a<i>` is account i's own sends, `c<c>v<vu>` a web sending VU's over cohort c. */
export interface Stream {
  id: string;
  cohort: number;
  /** Accounts in the cohort. */
  size: number;
  /** The one sending account, or undefined: every member of the cohort in turn. */
  sender: number | undefined;
}

export interface Route {
  from: number;
  to: number;
}

export interface Arrival {
  n: number;
  dueAt: number;
}

export declare const MIN_COHORT: number;
export declare const MAX_COHORT: number;
export declare function makePlan(accounts: number, cohortSize: number): Plan;
export declare function cohortOf(plan: Plan, account: number): number;
export declare function cohortSizeOf(plan: Plan, cohort: number): number;
export declare function cohortMembers(plan: Plan, cohort: number): number[];
export declare function accountStream(account: number): string;
export declare function vuStream(cohort: number, vu: number): string;
export declare function parseStream(plan: Plan, id: string): Stream | undefined;
export declare function route(plan: Plan, stream: Stream, n: number): Route;
export declare function arrivalRateOption(perSecond: number): { rate: number; timeUnit: string };

/** An open model: arrival n is due at start + (phase + n) / rate, whatever became of the ones before. */
export declare class Arrivals {
  constructor(startMs: number, endMs: number, ratePerSec: number, phase: number);
  readonly taken: number;
  take(nowMs: number): Arrival[];
  nextDueAt(): number | undefined;
  done(): boolean;
}
