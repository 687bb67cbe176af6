// Growing waits after failures, per key (an address, a user name): the first
// freeFailures cost nothing; after them each next attempt must wait
// baseDelayMs × 2^n (n: failures past the free ones, from 0), at most
// maxDelayMs, counted from the last failure. Failures are forgotten
// memoryMs after the last one. The table is bounded (BoundedTable).
import { BoundedTable } from './bounded-table.ts';

export interface BackoffRule {
  /** Failures that cost no wait. */
  freeFailures: number;
  /** The first wait, in ms; it doubles with each further failure. */
  baseDelayMs: number;
  /** The longest wait, in ms. */
  maxDelayMs: number;
  /** Failures are forgotten this long after the last one, in ms. */
  memoryMs: number;
}

interface Failures {
  count: number;
  /** When the last one was. */
  at: number;
}

/** 2^52 × any base is past every cap: the exponent stops there. */
const MAX_DOUBLINGS = 52;

export class FailureBackoff {
  private readonly table: BoundedTable<Failures>;

  constructor(
    private readonly rule: BackoffRule,
    maxEntries: number,
  ) {
    this.table = new BoundedTable(maxEntries);
  }

  /** Keys held (for tests of the bound). */
  get size(): number {
    return this.table.size;
  }

  /** Milliseconds until `key` may try again (0: now). */
  wait(key: string, now: number): number {
    const f = this.live(key, now);
    const { freeFailures, baseDelayMs, maxDelayMs } = this.rule;
    if (!f || f.count < freeFailures) return 0;
    const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(f.count - freeFailures, MAX_DOUBLINGS));
    // A clock that went back makes no wait longer than the rule's.
    return Math.max(0, Math.min(delay, f.at + delay - now));
  }

  /** An attempt of `key` failed. */
  failed(key: string, now: number): void {
    this.table.set(key, { count: (this.live(key, now)?.count ?? 0) + 1, at: now });
  }

  /** Forget `key`'s failures (its owner got in). */
  forget(key: string): void {
    this.table.delete(key);
  }

  private live(key: string, now: number): Failures | undefined {
    const f = this.table.get(key);
    if (f && now - f.at >= this.rule.memoryMs) {
      this.table.delete(key);
      return undefined;
    }
    return f;
  }
}
