// Types of ledger.js for the Node project (test/loadtest/k6-accounting.test.ts),
// which does not read JavaScript; ledger.js checks itself against them.
import type { Plan } from './traffic-plan.js';

export type Parsed =
  | { kind: 'message'; stream: string; n: number; sentAt: number }
  | { kind: 'fin'; stream: string; total: number; unacked: number[]; truncated: boolean };

/** What one item of a sync answer was to this device. */
export type Observation =
  | 'delivered' // first copy, before the drain deadline
  | 'late' // first copy, after it: delivered, but counted apart
  | 'duplicate' // the same message under a second MsgId: stored twice
  | 'repeat' // the same MsgId again (a re-sync): dropped, as a client does
  | 'misrouted' // not meant for this device
  | 'fin'
  | 'fin-duplicate'
  | 'other'; // not a k6 message (a room's contact item, someone else's test)

export interface ObserveResult {
  kind: Observation;
  /** Send (the arrival's due time) to now, for a first copy. */
  latencyMs?: number;
}

export interface Tally {
  delivered: number;
  late: number;
  duplicated: number;
  misrouted: number;
  /** Copies numbered at or past their stream's announced total. */
  beyondTotal: number;
  /** Announced, acknowledged, meant for this device, never came. */
  missing: number;
  /** Absent, from a stream whose fin could not list all its unacknowledged sends. */
  unverified: number;
  fins: number;
  finsDuplicated: number;
  /** Streams heard of (or expected) whose fin never came: their messages are not judged. */
  finsMissing: number;
}

export interface LedgerOptions {
  me: number;
  plan: Plan;
  /** After this (ms), a first copy counts as late. */
  drainDeadline: number;
  /** Streams whose fin must come even if none of their messages does. */
  expectedStreams?: string[];
}

export declare const MAX_UNACKED_CHARS: number;
export declare function messageContent(stream: string, n: number, sentAt: number, bytes: number): string;
export declare function finContent(stream: string, total: number, unacked: number[]): string;
export declare function parseContent(content: string): Parsed | undefined;
/** What a stream sends when it is over: its fin, once, to its cohort's room. */
export declare function endOfRun(plan: Plan, stream: string, total: number, unacked: number[], rooms: string[]): Array<{ to: string; content: string }>;

export declare class Ledger {
  constructor(o: LedgerOptions);
  observe(msgId: number, content: string, nowMs: number): ObserveResult;
  /** Every expected or heard-of stream has its fin, and nothing it announced for this device is absent. */
  complete(): boolean;
  /** Streams heard of without a fin, plus announced messages still absent. */
  outstanding(): number;
  /** The final tally; computed once, later calls return the same object. */
  settle(): Tally;
}
