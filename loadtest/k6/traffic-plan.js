// @ts-check
// Who sends to whom in the k6 scripts, and when. Plain JavaScript that imports
// nothing from k6, so that vitest checks it too (test/loadtest/k6-accounting.test.ts).
//
// Accounts are split into cohorts of at most COHORT (account i in cohort
// i % cohorts), and messages stay inside a cohort: a sender's one end-of-run
// message (its fin, to its cohort's chat room) then reaches every account it
// sent to, so the end of a run costs one send per sender and cohort-size
// deliveries each: linear in the accounts, where a fin per sender per other
// account grew with their square.
/** @typedef {import('./traffic-plan.js').Plan} Plan */
/** @typedef {import('./traffic-plan.js').Stream} Stream */
/** @typedef {import('./traffic-plan.js').Arrival} Arrival */
/** @typedef {InstanceType<typeof import('./traffic-plan.js').Arrivals>} ArrivalsShape */

/** Below 3 a cohort could be left with one account and nobody to send to. */
export const MIN_COHORT = 3;
/** The server's default `maxGroupMembers`: a cohort is one chat room. */
export const MAX_COHORT = 500;

/** @type {typeof import('./traffic-plan.js').makePlan} */
export const makePlan = (accounts, cohortSize) => {
  if (!(accounts >= 2)) throw new Error(`a plan needs at least 2 accounts, got ${accounts}`);
  const size = Math.min(MAX_COHORT, Math.max(MIN_COHORT, Math.floor(cohortSize)));
  // ceil keeps every cohort at or under `size`; dealing accounts out i % cohorts
  // keeps sizes within one of each other, so none falls below 2.
  return { accounts, cohortSize: size, cohorts: Math.ceil(accounts / size) };
};

/** @type {typeof import('./traffic-plan.js').cohortOf} */
export const cohortOf = (plan, account) => account % plan.cohorts;

/** @type {typeof import('./traffic-plan.js').cohortSizeOf} */
export const cohortSizeOf = (plan, cohort) => Math.floor((plan.accounts - 1 - cohort) / plan.cohorts) + 1;

/** @type {typeof import('./traffic-plan.js').cohortMembers} */
export const cohortMembers = (plan, cohort) => {
  /** @type {number[]} */
  const out = [];
  for (let a = cohort; a < plan.accounts; a += plan.cohorts) out.push(a);
  return out;
};

/** @type {typeof import('./traffic-plan.js').accountStream} */
export const accountStream = (account) => `a${account}`;

/** @type {typeof import('./traffic-plan.js').vuStream} */
export const vuStream = (cohort, vu) => `c${cohort}v${vu}`;

/** @type {typeof import('./traffic-plan.js').parseStream} */
export const parseStream = (plan, id) => {
  const a = /^a(\d+)$/.exec(id);
  if (a) {
    const account = Number(a[1]);
    if (account >= plan.accounts) return undefined;
    const cohort = cohortOf(plan, account);
    return { id, cohort, size: cohortSizeOf(plan, cohort), sender: account };
  }
  const c = /^c(\d+)v(\d+)$/.exec(id);
  if (c) {
    const cohort = Number(c[1]);
    if (cohort >= plan.cohorts) return undefined;
    return { id, cohort, size: cohortSizeOf(plan, cohort), sender: undefined };
  }
  return undefined;
};

/**
 * Message n of a stream: an account's stream sends to the other members in
 * turn; a cohort stream takes the members as senders in turn, each sending to
 * the others in turn, so S·(S-1) messages cover every ordered pair once.
 * @type {typeof import('./traffic-plan.js').route}
 */
export const route = (plan, stream, n) => {
  const S = stream.size;
  const member = (/** @type {number} */ p) => stream.cohort + p * plan.cohorts;
  const from = stream.sender !== undefined ? stream.sender : member(n % S);
  const k = stream.sender !== undefined ? n : Math.floor(n / S);
  const pos = Math.floor(from / plan.cohorts);
  return { from, to: member((pos + 1 + (k % (S - 1))) % S) };
};

/**
 * k6's arrival-rate executors take a whole number of iterations per timeUnit:
 * per minute keeps a rate like 0.1/s × 3 accounts exact enough.
 * @type {typeof import('./traffic-plan.js').arrivalRateOption}
 */
export const arrivalRateOption = (perSecond) => ({ rate: Math.max(1, Math.round(perSecond * 60)), timeUnit: '1m' });

/** @implements {ArrivalsShape} */
export class Arrivals {
  /**
   * @param {number} startMs
   * @param {number} endMs arrivals due at or after this never come
   * @param {number} ratePerSec
   * @param {number} phase in [0, 1): spreads senders that start together
   */
  constructor(startMs, endMs, ratePerSec, phase) {
    this.startMs = startMs;
    this.endMs = endMs;
    this.intervalMs = 1000 / ratePerSec;
    this.phase = phase;
    this.taken = 0;
  }

  /** @param {number} n */
  dueAt(n) {
    return this.startMs + (this.phase + n) * this.intervalMs;
  }

  /**
   * Every arrival due by now that was not taken yet, however long since the
   * last call (a link that was down catches up with the arrivals it missed).
   * @param {number} nowMs
   * @returns {Arrival[]}
   */
  take(nowMs) {
    /** @type {Arrival[]} */
    const out = [];
    for (;;) {
      const dueAt = this.dueAt(this.taken);
      if (dueAt > nowMs || dueAt >= this.endMs) break;
      out.push({ n: this.taken, dueAt });
      this.taken++;
    }
    return out;
  }

  /** @returns {number | undefined} */
  nextDueAt() {
    const t = this.dueAt(this.taken);
    return t < this.endMs ? t : undefined;
  }

  done() {
    return this.nextDueAt() === undefined;
  }
}
