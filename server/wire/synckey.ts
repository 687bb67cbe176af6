// The SyncKey codec (docs/protocol.md section 3): the JSON form {Count, List:[{Key, Val}]}
// and the query form `1_620943725|2_620943769`, both parsed strictly into one
// internal form. A SyncKey decides what a device has acknowledged, so anything
// doubtful is rejected rather than guessed at.

import { WireError, previewText } from './wire-error.ts';

/** key -> val. Built by the parsers or syncKeyFromEntries, which check the bounds. */
export type SyncKeyMap = Map<number, number>;

export interface SyncKeyJson {
  Count: number;
  List: Array<{ Key: number; Val: number }>;
}

export const MAX_SYNCKEY_PAIRS = 32;
export const MIN_SYNCKEY_KEY = 1;
export const MAX_SYNCKEY_KEY = 0xffffffff;
export const MAX_SYNCKEY_VAL = Number.MAX_SAFE_INTEGER;

// Canonical decimal: no sign, no leading zero, ASCII digits only (\d without /u).
const DECIMAL = /^(?:0|[1-9]\d*)$/;
// MAX_SAFE_INTEGER has 16 digits; longer strings are out of range without parsing.
const MAX_DIGITS = 16;

function describe(v: unknown): string {
  if (typeof v === 'string') return `the string ${previewText(v)}`;
  if (typeof v === 'number') return String(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

function checkKey(key: unknown, where: string): number {
  if (typeof key !== 'number' || !Number.isInteger(key) || key < MIN_SYNCKEY_KEY || key > MAX_SYNCKEY_KEY) {
    throw new WireError(
      'SYNCKEY_BAD_VALUE',
      `${where}: Key must be an integer ${MIN_SYNCKEY_KEY}..${MAX_SYNCKEY_KEY}, got ${describe(key)}`,
    );
  }
  return key;
}

function checkVal(val: unknown, where: string): number {
  if (typeof val !== 'number' || !Number.isInteger(val) || val < 0 || val > MAX_SYNCKEY_VAL) {
    throw new WireError(
      'SYNCKEY_BAD_VALUE',
      `${where}: Val must be an integer 0..${MAX_SYNCKEY_VAL}, got ${describe(val)}`,
    );
  }
  return val;
}

function tooMany(n: number, atLeast = false): WireError {
  return new WireError(
    'SYNCKEY_TOO_MANY_KEYS',
    `SyncKey may hold at most ${MAX_SYNCKEY_PAIRS} pairs, got ${atLeast ? 'more than ' + MAX_SYNCKEY_PAIRS : n}`,
  );
}

function addPair(m: SyncKeyMap, key: number, val: number, where: string): void {
  if (m.has(key)) {
    throw new WireError('SYNCKEY_DUPLICATE_KEY', `${where}: Key ${key} appears more than once`);
  }
  m.set(key, val);
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Parses the JSON form. Unknown extra fields are ignored; `undefined`/`null` is an error. */
export function parseSyncKeyJson(x: unknown): SyncKeyMap {
  if (!isRecord(x)) {
    throw new WireError('SYNCKEY_MALFORMED', `SyncKey must be an object {Count, List}, got ${describe(x)}`);
  }
  const { Count: count, List: list } = x;
  if (!Array.isArray(list)) {
    throw new WireError('SYNCKEY_MALFORMED', `SyncKey.List must be an array, got ${describe(list)}`);
  }
  if (list.length > MAX_SYNCKEY_PAIRS) throw tooMany(list.length);
  if (typeof count !== 'number' || !Number.isInteger(count)) {
    throw new WireError('SYNCKEY_MALFORMED', `SyncKey.Count must be an integer, got ${describe(count)}`);
  }
  if (count !== list.length) {
    throw new WireError(
      'SYNCKEY_COUNT_MISMATCH',
      `SyncKey.Count is ${count} but List has ${list.length} pairs`,
    );
  }
  const m: SyncKeyMap = new Map();
  list.forEach((pair: unknown, i) => {
    const where = `SyncKey.List[${i}]`;
    if (!isRecord(pair)) {
      throw new WireError('SYNCKEY_MALFORMED', `${where} must be an object {Key, Val}, got ${describe(pair)}`);
    }
    addPair(m, checkKey(pair.Key, where), checkVal(pair.Val, where), where);
  });
  return m;
}

function parseDecimal(digits: string, what: 'Key' | 'Val', where: string): number {
  if (digits.length > MAX_DIGITS) {
    // Too long to be in range whatever the digits; quote a preview only.
    throw new WireError(
      'SYNCKEY_BAD_VALUE',
      `${where}: ${what} has ${digits.length} digits, out of range (${previewText(digits)})`,
    );
  }
  const n = Number(digits);
  return what === 'Key' ? checkKey(n, where) : checkVal(n, where);
}

/**
 * Parses the query form `1_620943725|2_620943769` (the caller URL-decodes it first).
 * The empty string is the empty key. Numbers are canonical decimals: one spelling
 * per value, so formatting what was parsed gives back the same string.
 */
export function parseSyncKeyQuery(s: string): SyncKeyMap {
  const m: SyncKeyMap = new Map();
  if (s === '') return m;
  const parts = s.split('|');
  if (parts.length > MAX_SYNCKEY_PAIRS) throw tooMany(parts.length);
  parts.forEach((part, i) => {
    const where = `synckey pair ${i + 1}`;
    const sep = part.indexOf('_');
    const keyText = sep < 0 ? '' : part.slice(0, sep);
    const valText = sep < 0 ? '' : part.slice(sep + 1);
    if (!DECIMAL.test(keyText) || !DECIMAL.test(valText)) {
      throw new WireError(
        'SYNCKEY_MALFORMED',
        `${where} must be <key>_<val> in plain decimal digits, got ${previewText(part)}`,
      );
    }
    addPair(m, parseDecimal(keyText, 'Key', where), parseDecimal(valText, 'Val', where), where);
  });
  return m;
}

/**
 * The pairs as [key, val], sorted by key. An insertion sort: a key holds a
 * few pairs, and Array.prototype.sort costs a scratch copy and a comparator
 * call per step, on every sync of every device.
 */
export function sortedPairs(m: SyncKeyMap): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const pair of m) {
    let i = out.length;
    out.push(pair);
    while (i > 0 && out[i - 1]![0] > pair[0]) {
      out[i] = out[i - 1]!;
      i--;
    }
    out[i] = pair;
  }
  return out;
}

/** The query form, pairs sorted by key. */
export function formatSyncKeyQuery(m: SyncKeyMap): string {
  return sortedPairs(m)
    .map(([k, v]) => `${k}_${v}`)
    .join('|');
}

/** The JSON form, pairs sorted by key so that output is deterministic. */
export function toSyncKeyJson(m: SyncKeyMap): SyncKeyJson {
  const pairs = sortedPairs(m);
  const list: SyncKeyJson['List'] = [];
  for (const [Key, Val] of pairs) list.push({ Key, Val });
  return { Count: list.length, List: list };
}

/** A checked map from pairs; throws WireError like the parsers. */
export function syncKeyFromEntries(entries: Iterable<[number, number]>): SyncKeyMap {
  const m: SyncKeyMap = new Map();
  let i = 0;
  for (const [key, val] of entries) {
    if (i === MAX_SYNCKEY_PAIRS) throw tooMany(i + 1, true);
    const where = `SyncKey entry ${i}`;
    addPair(m, checkKey(key, where), checkVal(val, where), where);
    i++;
  }
  return m;
}

/**
 * Same pairs exactly. `{1: 0}` and `{}` differ here even though they ask for the
 * same items, because a client echoes every pair it was given; compare positions
 * with syncKeyVal.
 */
export function syncKeyEquals(a: SyncKeyMap, b: SyncKeyMap): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    if (b.get(k) !== v) return false;
  }
  return true;
}

/** The value for `key`, 0 when absent (absent means nothing taken yet). */
export function syncKeyVal(m: SyncKeyMap, key: number): number {
  return m.get(key) ?? 0;
}
