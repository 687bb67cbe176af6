// How PostgresStore puts values into its columns and reads records back: key
// strings made safe for a text column, numbers made safe for a bigint
// parameter, and the store's errors with stable codes.
import { groupIdOf, type LogItem } from '../core/model.ts';

export type PostgresStoreErrorCode =
  /** The schema was written by a newer server. */
  | 'STORE_SCHEMA_NEWER'
  /** The connection to PostgreSQL broke, or the server ended it; the open transaction is lost. */
  | 'STORE_CONNECTION_LOST'
  /** begin/apply/commit/rollback out of turn, or a call after close. */
  | 'STORE_MISUSE'
  /** An append behind the log's newest item. */
  | 'STORE_APPEND_ORDER'
  /** A second account with a user name already taken. */
  | 'STORE_NAME_TAKEN'
  /** COMMIT answered that the transaction was rolled back instead. */
  | 'STORE_COMMIT_FAILED'
  /** The database cannot hold the store (its encoding, or no schema to work in). */
  | 'STORE_UNSUITABLE_DATABASE';

export class PostgresStoreError extends Error {
  readonly code: PostgresStoreErrorCode;

  constructor(code: PostgresStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(`PostgresStore: ${message}`, options);
    this.name = 'PostgresStoreError';
    this.code = code;
  }
}

/**
 * A key string as its text column holds it. PostgreSQL text cannot hold NUL,
 * and the driver would turn a lone surrogate into U+FFFD (two keys, one row):
 * such a string, or one with a backslash, is stored JSON-escaped, which never
 * equals the column text of a plain string (that has neither a backslash nor
 * a surrogate). Equal keys stay equal, distinct keys distinct.
 */
export function keyText(s: string): string {
  return /[\0\\\ud800-\udfff]/.test(s) ? JSON.stringify(s).slice(1, -1) : s;
}

/** A record as its `rec` column holds it: JSON escapes NUL and lone surrogates, so any string survives. */
export function recText(r: object): string {
  return JSON.stringify(r);
}

export function fromRec<T>(text: unknown): T {
  return JSON.parse(text as string) as T;
}

/**
 * A LIMIT as PostgreSQL takes it, answering as Array.slice(0, n) does in
 * MemoryStore: a fraction is cut, nothing or NaN is 0, Infinity is no limit.
 */
export function limitParam(n: number): number | null {
  if (!(n > 0)) return 0;
  if (n === Infinity) return null;
  return Math.min(Math.trunc(n), Number.MAX_SAFE_INTEGER);
}

const INT8_BOUND = 9e18;

/**
 * The largest integer not above `x`, for an integer column compared with `x`
 * (`col > x` is `col > floorParam(x)`, and so is `<=`): a fraction or an
 * infinity from the caller must not fail a bigint parameter.
 */
export function floorParam(x: number): number {
  return Math.max(-INT8_BOUND, Math.min(INT8_BOUND, Math.floor(x)));
}

/** A log row (seq, created_at, data) as the item it was appended as. */
export function toItem(uin: number, category: number, row: unknown[]): LogItem {
  return { uin, category, seq: row[0] as number, createdAt: row[1] as number, data: JSON.parse(row[2] as string) } as LogItem;
}

/** The numeric id a room's membership rows are ordered by: groupIdOf, as MemoryStore compares it; NULL for NaN, which no roomsAfter lists. */
export function groupIdColumn(userName: string): number | null {
  const id = groupIdOf(userName);
  return Number.isNaN(id) ? null : id;
}
