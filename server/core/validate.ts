// Field validation for request bodies. A failure throws InputError, which the
// core turns into Ret 1102 with a message naming the field; nothing is written.
import { Ret, type RetCode } from './ret.ts';

export class InputError extends Error {
  constructor(
    message: string,
    readonly ret: RetCode = Ret.BadRequest,
  ) {
    super(message);
  }
}

export type Obj = Record<string, unknown>;

export function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function obj(x: unknown, what: string): Obj {
  if (!isObj(x)) throw new InputError(`${what} must be a JSON object`);
  return x;
}

export interface StrRule {
  min?: number;
  max: number;
  pattern?: RegExp;
  patternText?: string;
}

export function str(o: Obj, field: string, rule: StrRule): string {
  const v = o[field];
  if (typeof v !== 'string') throw new InputError(`${field} is missing or not a string`);
  if (v.length < (rule.min ?? 1)) throw new InputError(`${field} is shorter than ${rule.min ?? 1}`);
  if (v.length > rule.max) throw new InputError(`${field} is longer than ${rule.max}`);
  if (rule.pattern && !rule.pattern.test(v)) throw new InputError(`${field} must match ${rule.patternText ?? rule.pattern.source}`);
  return v;
}

export function optStr(o: Obj, field: string, rule: StrRule, dflt: string): string {
  return o[field] === undefined || o[field] === null ? dflt : str(o, field, rule);
}

export function int(o: Obj, field: string, min: number, max: number): number {
  const v = o[field];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new InputError(`${field} is missing or not an integer`);
  if (v < min || v > max) throw new InputError(`${field} must be between ${min} and ${max}`);
  return v;
}

export function optInt(o: Obj, field: string, min: number, max: number, dflt: number): number {
  return o[field] === undefined || o[field] === null ? dflt : int(o, field, min, max);
}

/**
 * The ErrMsg code of an id sent as a JSON number past 2^53 - 1: JSON.parse
 * has already rounded it to another number, so taking it would store an id
 * the client never sent. The web client's ids (about 17 digits from the
 * clock in ms) pass it as digit strings, never as numbers.
 */
export const ID_UNSAFE_INTEGER = 'ID_UNSAFE_INTEGER';

/** Ids that clients send as numbers or digit strings (ClientMsgId, LocalID). */
export function idString(o: Obj, field: string, required: boolean): string | undefined {
  const v = o[field];
  if (v === undefined || v === null) {
    if (required) throw new InputError(`${field} is missing`);
    return undefined;
  }
  if (typeof v === 'number') {
    if (v > Number.MAX_SAFE_INTEGER) {
      throw new InputError(`${ID_UNSAFE_INTEGER}: ${field} is a JSON number past 2^53 - 1, which JSON cannot carry exactly; send it as a digit string`);
    }
    if (!Number.isSafeInteger(v) || v < 0) throw new InputError(`${field} must be a non-negative integer or an id string`);
    return String(v);
  }
  if (typeof v === 'string' && ID_RE.test(v)) return v;
  throw new InputError(`${field} must be a non-negative integer or 1-64 characters of [A-Za-z0-9_-]`);
}

const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** UTF-8 length without allocating. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
