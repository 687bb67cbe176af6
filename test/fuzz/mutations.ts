// Hostile variations of a valid request: JSON values of the wrong type or
// out of range (huge numbers, lone surrogates, deep nesting, prototype keys),
// fields deleted, replaced or added, and byte-level damage to the encoded
// body (flips, invalid UTF-8, truncation). Mutations are data (indexes into
// whatever the template turns out to be), so fast-check shrinks them and a
// seed replays them against a template built at run time.
import fc from 'fast-check';

/** JSON text written as it is: numbers JSON.stringify cannot produce, deep nesting, duplicate keys. */
export class RawJson {
  constructor(readonly text: string) {}
}

export type JsonLike = null | boolean | number | string | RawJson | JsonLike[] | { [k: string]: JsonLike };

/** Nesting depth of the deep-array value: deep enough to break a recursive parser, small enough for any body limit. */
const DEEP_NESTING = 3000;
/** Longer than any field may be, shorter than the fuzz server's body limit. */
const LONG_STRING = 5000;

/** JSON text of `v`; RawJson pieces go in verbatim. */
export function jsonText(v: JsonLike): string {
  if (v instanceof RawJson) return v.text;
  if (Array.isArray(v)) return `[${v.map(jsonText).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}:${jsonText(x)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

const RAW_NUMBERS = ['-0', '1e999', '-1e999', '123456789012345678901234567890', '1E-400', '9007199254740993', '0.1e1', '4294967296.0'];
const RAW_TEXT = [
  '['.repeat(DEEP_NESTING) + ']'.repeat(DEEP_NESTING),
  '{"__proto__":{"BaseRequest":1,"Uin":1}}',
  '{"a":1,"a":2}',
  '"\\ud800"',
  '"\\udfff\\ud800"',
  '"\\u0000"',
];

/** Values that break assumptions: wrong types, edges of every integer range, odd strings, known names. */
export const hostileValue: fc.Arbitrary<JsonLike> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<JsonLike>(null, true, false, 0, -1, 1, 0.5, 1e308, -1e308, 2 ** 53 - 1, 2 ** 32 - 1, 2 ** 32, -(2 ** 31) - 1, 2 ** 64) },
  { weight: 3, arbitrary: fc.constantFrom(...RAW_NUMBERS, ...RAW_TEXT).map((t): JsonLike => new RawJson(t)) },
  {
    weight: 3,
    arbitrary: fc.constantFrom<JsonLike>(
      '',
      ' ',
      '\u0000',
      '\ud800',
      '💥'.repeat(50),
      'x'.repeat(LONG_STRING),
      '@@1',
      '@@4294967296',
      '@@',
      'peer',
      'fuzz',
      'fuzzlogin',
      'nobody',
      '1_1|2_2',
      '1_0|1_0',
      'e123456789012345',
      '0',
      '-1',
      'true',
      'null',
    ),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.nat({ max: 2 ** 32 + 5 }) },
  { weight: 1, arbitrary: fc.constantFrom<JsonLike>({}, [], [null], [{}], { Count: 1, List: [{ Key: 1, Val: -1 }] }, { Key: 1, Val: 1 }) },
  { weight: 1, arbitrary: fc.array(fc.integer(), { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 3 }) },
);

const KEYS = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'toString', 'BaseRequest', 'Msg', 'SyncKey', 'Count', 'List', 'Uin', 'Sid', 'Skey', 'DeviceID', 'Content', 'extra'),
  fc.string({ maxLength: 8 }),
);

export type Mutation =
  /** The `at`-th entry (by a walk of the template) gets `value`. */
  | { kind: 'replace'; at: number; value: JsonLike }
  | { kind: 'delete'; at: number }
  /** The `at`-th object or array gets a new entry. */
  | { kind: 'insert'; at: number; key: string; value: JsonLike };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: hostileValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), key: KEYS, value: hostileValue }) },
);

/** A third of the time none (the valid request itself, so that inputs also reach past validation), else one to three. */
export const mutations: fc.Arbitrary<Mutation[]> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Mutation[]>([]) },
  { weight: 2, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) },
);

type Container = JsonLike[] | { [k: string]: JsonLike };

function isContainer(v: JsonLike): v is Container {
  return v !== null && typeof v === 'object' && !(v instanceof RawJson);
}

/** Every (container, key) entry and every container, in a fixed walk order. */
function walk(root: JsonLike): { entries: Array<[Container, string | number]>; containers: Container[] } {
  const entries: Array<[Container, string | number]> = [];
  const containers: Container[] = [];
  const visit = (v: JsonLike): void => {
    if (!isContainer(v)) return;
    containers.push(v);
    const kids: Array<[string | number, JsonLike]> = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    for (const [k, x] of kids) {
      entries.push([v, k]);
      visit(x);
    }
  };
  visit(root);
  return { entries, containers };
}

function clone(v: JsonLike): JsonLike {
  if (Array.isArray(v)) return v.map(clone);
  if (isContainer(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)]));
  return v;
}

/** The template with the mutations applied in order (each on the result of the one before). */
export function applyMutations(template: JsonLike, ms: readonly Mutation[]): JsonLike {
  let root = clone(template);
  for (const m of ms) {
    const { entries, containers } = walk(root);
    if (m.kind === 'insert') {
      const c = containers[m.at % Math.max(1, containers.length)];
      if (!c) continue;
      // A copy: fast-check shares generated values, and a value inserted into itself would be a cycle.
      const value = clone(m.value);
      if (Array.isArray(c)) c.push(value);
      // defineProperty: an own "__proto__" key, as JSON.parse would make it, not a prototype change.
      else Object.defineProperty(c, m.key, { value, enumerable: true, writable: true, configurable: true });
      continue;
    }
    if (entries.length === 0) {
      if (m.kind === 'replace') root = clone(m.value);
      continue;
    }
    const [c, k] = entries[m.at % entries.length]!;
    if (m.kind === 'replace') (c as Record<string | number, JsonLike>)[k] = clone(m.value);
    else if (Array.isArray(c)) c.splice(k as number, 1);
    else delete c[k as string];
  }
  return root;
}

// ---- damage to the encoded bytes ----

const INVALID_UTF8: readonly number[][] = [
  [0xff],
  [0xc3, 0x28],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
  [0xc0, 0xaf],
  [0xef, 0xbb, 0xbf],
];

export type ByteMutation =
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'truncate'; at: number }
  | { kind: 'repeat'; at: number; len: number; times: number };

export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.oneof(fc.constantFrom(...INVALID_UTF8).map((b) => Uint8Array.from(b)), fc.uint8Array({ minLength: 1, maxLength: 8 })),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 32 }), times: fc.integer({ min: 2, max: 64 }) }),
);

/** Mostly none: byte damage on top of field mutations is the rarer case. */
export const byteMutations: fc.Arbitrary<ByteMutation[]> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<ByteMutation[]>([]) },
  { weight: 1, arbitrary: fc.array(byteMutation, { minLength: 1, maxLength: 3 }) },
);

export function applyByteMutations(input: Buffer, ms: readonly ByteMutation[]): Buffer {
  let b = input;
  for (const m of ms) {
    const at = m.at % (b.length + 1);
    if (m.kind === 'flip') {
      if (b.length === 0) continue;
      b = Buffer.from(b);
      b[at % b.length] = b[at % b.length]! ^ m.mask;
    } else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
    else if (m.kind === 'truncate') b = b.subarray(0, at);
    else {
      const piece = b.subarray(at, at + m.len);
      b = Buffer.concat([b.subarray(0, at), ...Array<Buffer>(m.times).fill(piece), b.subarray(at)]);
    }
  }
  return b;
}

/** A short, printable account of bytes for a failure message. */
export function preview(b: Uint8Array, max = 160): string {
  const s = Buffer.from(b).toString('utf8');
  const cut = s.length > max;
  return `${JSON.stringify(cut ? s.slice(0, max) : s)}${cut ? `… (${b.length} bytes)` : ''}`;
}
