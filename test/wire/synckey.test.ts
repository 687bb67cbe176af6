import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  MAX_SYNCKEY_PAIRS,
  formatSyncKeyQuery,
  parseSyncKeyJson,
  parseSyncKeyQuery,
  syncKeyEquals,
  syncKeyFromEntries,
  syncKeyVal,
  toSyncKeyJson,
} from '../../server/wire/synckey.ts';
import type { SyncKeyMap } from '../../server/wire/synckey.ts';
import { WireError } from '../../server/wire/wire-error.ts';

function thrown(f: () => unknown): WireError {
  try {
    f();
  } catch (e) {
    if (e instanceof WireError) return e;
    throw e;
  }
  throw new Error('expected a WireError, nothing was thrown');
}

function pairs(m: SyncKeyMap): Array<[number, number]> {
  return [...m].sort((a, b) => a[0] - b[0]);
}

function json(list: unknown[], count: unknown = list.length): unknown {
  return { Count: count, List: list };
}

const keyArb = fc.integer({ min: 1, max: 0xffffffff });
const valArb = fc.oneof(fc.constantFrom(0, 1, Number.MAX_SAFE_INTEGER), fc.maxSafeNat());
const syncKeyArb = fc
  .uniqueArray(fc.tuple(keyArb, valArb), { maxLength: MAX_SYNCKEY_PAIRS, selector: ([k]) => k })
  .map((entries) => new Map(entries) as SyncKeyMap);

describe('parseSyncKeyJson', () => {
  it('parses the JSON form', () => {
    const m = parseSyncKeyJson({
      Count: 4,
      List: [
        { Key: 1, Val: 620943725 },
        { Key: 2, Val: 620943769 },
        { Key: 3, Val: 620943644 },
        { Key: 1000, Val: 1393554160 },
      ],
    });
    expect(pairs(m)).toEqual([
      [1, 620943725],
      [2, 620943769],
      [3, 620943644],
      [1000, 1393554160],
    ]);
  });

  it('parses an empty key', () => {
    expect(parseSyncKeyJson({ Count: 0, List: [] }).size).toBe(0);
  });

  it('accepts the bounds and ignores unknown fields', () => {
    const m = parseSyncKeyJson({
      Count: 2,
      List: [
        { Key: 0xffffffff, Val: Number.MAX_SAFE_INTEGER, Extra: 'x' },
        { Key: 1, Val: 0 },
      ],
      Other: true,
    });
    expect(pairs(m)).toEqual([
      [1, 0],
      [0xffffffff, Number.MAX_SAFE_INTEGER],
    ]);
  });

  it(`accepts ${MAX_SYNCKEY_PAIRS} pairs`, () => {
    const list = Array.from({ length: 32 }, (_v, i) => ({ Key: i + 1, Val: i }));
    expect(parseSyncKeyJson(json(list)).size).toBe(32);
  });

  const one = { Key: 1, Val: 5 };
  it.each<[string, unknown, string]>([
    ['undefined', undefined, 'SYNCKEY_MALFORMED'],
    ['null', null, 'SYNCKEY_MALFORMED'],
    ['a string', '1_2', 'SYNCKEY_MALFORMED'],
    ['a number', 5, 'SYNCKEY_MALFORMED'],
    ['an array', [one], 'SYNCKEY_MALFORMED'],
    ['no List', { Count: 0 }, 'SYNCKEY_MALFORMED'],
    ['List not an array', { Count: 1, List: { 0: one } }, 'SYNCKEY_MALFORMED'],
    ['no Count', { List: [] }, 'SYNCKEY_MALFORMED'],
    ['Count a string', json([one], '1'), 'SYNCKEY_MALFORMED'],
    ['Count fractional', json([one], 1.5), 'SYNCKEY_MALFORMED'],
    ['Count NaN', json([one], Number.NaN), 'SYNCKEY_MALFORMED'],
    ['Count null', json([one], null), 'SYNCKEY_MALFORMED'],
    ['Count above List length', json([one], 2), 'SYNCKEY_COUNT_MISMATCH'],
    ['Count below List length', json([one, { Key: 2, Val: 1 }], 1), 'SYNCKEY_COUNT_MISMATCH'],
    ['Count negative', json([], -1), 'SYNCKEY_COUNT_MISMATCH'],
    ['pair null', json([null]), 'SYNCKEY_MALFORMED'],
    ['pair a number', json([7]), 'SYNCKEY_MALFORMED'],
    ['pair an array', json([[1, 5]]), 'SYNCKEY_MALFORMED'],
    ['Key 0', json([{ Key: 0, Val: 1 }]), 'SYNCKEY_BAD_VALUE'],
    ['Key negative', json([{ Key: -1, Val: 1 }]), 'SYNCKEY_BAD_VALUE'],
    ['Key fractional', json([{ Key: 1.5, Val: 1 }]), 'SYNCKEY_BAD_VALUE'],
    ['Key NaN', json([{ Key: Number.NaN, Val: 1 }]), 'SYNCKEY_BAD_VALUE'],
    ['Key a string', json([{ Key: '1', Val: 1 }]), 'SYNCKEY_BAD_VALUE'],
    ['Key 2^32', json([{ Key: 2 ** 32, Val: 1 }]), 'SYNCKEY_BAD_VALUE'],
    ['Key missing', json([{ Val: 1 }]), 'SYNCKEY_BAD_VALUE'],
    ['Val negative', json([{ Key: 1, Val: -1 }]), 'SYNCKEY_BAD_VALUE'],
    ['Val -0.5', json([{ Key: 1, Val: -0.5 }]), 'SYNCKEY_BAD_VALUE'],
    ['Val fractional', json([{ Key: 1, Val: 2.5 }]), 'SYNCKEY_BAD_VALUE'],
    ['Val NaN', json([{ Key: 1, Val: Number.NaN }]), 'SYNCKEY_BAD_VALUE'],
    ['Val Infinity', json([{ Key: 1, Val: Number.POSITIVE_INFINITY }]), 'SYNCKEY_BAD_VALUE'],
    ['Val a string', json([{ Key: 1, Val: '620943725' }]), 'SYNCKEY_BAD_VALUE'],
    ['Val null', json([{ Key: 1, Val: null }]), 'SYNCKEY_BAD_VALUE'],
    ['Val 2^53', json([{ Key: 1, Val: 2 ** 53 }]), 'SYNCKEY_BAD_VALUE'],
    ['Val missing', json([{ Key: 1 }]), 'SYNCKEY_BAD_VALUE'],
    ['duplicate key', json([one, { Key: 2, Val: 0 }, { Key: 1, Val: 6 }]), 'SYNCKEY_DUPLICATE_KEY'],
    [
      '33 pairs',
      json(Array.from({ length: 33 }, (_v, i) => ({ Key: i + 1, Val: 1 }))),
      'SYNCKEY_TOO_MANY_KEYS',
    ],
    [
      '33 pairs with a Count that disagrees',
      json(Array.from({ length: 33 }, (_v, i) => ({ Key: i + 1, Val: 1 })), 2),
      'SYNCKEY_TOO_MANY_KEYS',
    ],
  ])('rejects %s', (_name, input, code) => {
    expect(thrown(() => parseSyncKeyJson(input)).code).toBe(code);
  });

  it('says what it expected and what it saw', () => {
    expect(thrown(() => parseSyncKeyJson(json([{ Key: 1, Val: 1 }], 3))).message).toBe(
      'SyncKey.Count is 3 but List has 1 pairs',
    );
    expect(thrown(() => parseSyncKeyJson(json([{ Key: 1, Val: 1 }, { Key: 0, Val: 1 }]))).message).toBe(
      'SyncKey.List[1]: Key must be an integer 1..4294967295, got 0',
    );
    expect(thrown(() => parseSyncKeyJson(json([{ Key: 1, Val: 2 ** 53 }]))).message).toBe(
      'SyncKey.List[0]: Val must be an integer 0..9007199254740991, got 9007199254740992',
    );
    expect(thrown(() => parseSyncKeyJson(json([{ Key: 4, Val: 1 }, { Key: 4, Val: 2 }]))).message).toBe(
      'SyncKey.List[1]: Key 4 appears more than once',
    );
    expect(thrown(() => parseSyncKeyJson(undefined)).message).toBe(
      'SyncKey must be an object {Count, List}, got undefined',
    );
  });

  it('quotes at most 32 characters of a bad string value', () => {
    const long = '9'.repeat(1000);
    const message = thrown(() => parseSyncKeyJson(json([{ Key: 1, Val: long }]))).message;
    expect(message).toContain('"' + '9'.repeat(32) + '"...');
    expect(message).not.toContain('9'.repeat(33));
  });
});

describe('toSyncKeyJson', () => {
  it('sorts pairs by key whatever the insertion order', () => {
    const m: SyncKeyMap = new Map([
      [1000, 4],
      [2, 9],
      [1, 7],
    ]);
    expect(toSyncKeyJson(m)).toEqual({
      Count: 3,
      List: [
        { Key: 1, Val: 7 },
        { Key: 2, Val: 9 },
        { Key: 1000, Val: 4 },
      ],
    });
    expect(JSON.stringify(toSyncKeyJson(m))).toBe(
      '{"Count":3,"List":[{"Key":1,"Val":7},{"Key":2,"Val":9},{"Key":1000,"Val":4}]}',
    );
    expect(toSyncKeyJson(new Map())).toEqual({ Count: 0, List: [] });
  });

  it('round-trips through JSON text', () => {
    fc.assert(
      fc.property(syncKeyArb, (m) => {
        const back = parseSyncKeyJson(JSON.parse(JSON.stringify(toSyncKeyJson(m))));
        expect(syncKeyEquals(back, m)).toBe(true);
        expect(pairs(back)).toEqual(pairs(m));
      }),
    );
  });
});

describe('parseSyncKeyQuery / formatSyncKeyQuery', () => {
  it('parses the query form', () => {
    expect(pairs(parseSyncKeyQuery('1_620943725|2_620943769|3_620943644|1000_1393554160'))).toEqual([
      [1, 620943725],
      [2, 620943769],
      [3, 620943644],
      [1000, 1393554160],
    ]);
    expect(pairs(parseSyncKeyQuery('7_0'))).toEqual([[7, 0]]);
    expect(pairs(parseSyncKeyQuery('4294967295_9007199254740991'))).toEqual([[4294967295, 9007199254740991]]);
  });

  it('maps the empty string to the empty key and back', () => {
    expect(parseSyncKeyQuery('').size).toBe(0);
    expect(formatSyncKeyQuery(new Map())).toBe('');
  });

  it('formats sorted by key', () => {
    expect(
      formatSyncKeyQuery(
        new Map([
          [2, 620943769],
          [1, 620943725],
          [201, 0],
        ]),
      ),
    ).toBe('1_620943725|2_620943769|201_0');
  });

  it('round-trips any key: map -> text -> map', () => {
    fc.assert(
      fc.property(syncKeyArb, (m) => {
        expect(pairs(parseSyncKeyQuery(formatSyncKeyQuery(m)))).toEqual(pairs(m));
      }),
    );
  });

  it('round-trips canonical text: text -> map -> text', () => {
    fc.assert(
      fc.property(syncKeyArb, (m) => {
        const text = formatSyncKeyQuery(m);
        expect(formatSyncKeyQuery(parseSyncKeyQuery(text))).toBe(text);
      }),
    );
  });

  it('agrees with the JSON form', () => {
    fc.assert(
      fc.property(syncKeyArb, (m) => {
        const viaQuery = parseSyncKeyQuery(formatSyncKeyQuery(m));
        const viaJson = parseSyncKeyJson(toSyncKeyJson(m));
        expect(syncKeyEquals(viaQuery, viaJson)).toBe(true);
      }),
    );
  });

  it(`accepts ${MAX_SYNCKEY_PAIRS} pairs`, () => {
    const text = Array.from({ length: 32 }, (_v, i) => `${i + 1}_1`).join('|');
    expect(parseSyncKeyQuery(text).size).toBe(32);
  });

  it.each<[string, string]>([
    ['1_', 'SYNCKEY_MALFORMED'],
    ['_1', 'SYNCKEY_MALFORMED'],
    ['_', 'SYNCKEY_MALFORMED'],
    ['1', 'SYNCKEY_MALFORMED'],
    ['1_2|', 'SYNCKEY_MALFORMED'],
    ['|1_2', 'SYNCKEY_MALFORMED'],
    ['1_2||3_4', 'SYNCKEY_MALFORMED'],
    ['|', 'SYNCKEY_MALFORMED'],
    ['a_b', 'SYNCKEY_MALFORMED'],
    [' 1_2', 'SYNCKEY_MALFORMED'],
    ['1_2 ', 'SYNCKEY_MALFORMED'],
    ['1 _2', 'SYNCKEY_MALFORMED'],
    ['1_2\n', 'SYNCKEY_MALFORMED'],
    ['+1_2', 'SYNCKEY_MALFORMED'],
    ['1_+2', 'SYNCKEY_MALFORMED'],
    ['-1_2', 'SYNCKEY_MALFORMED'],
    ['1_-2', 'SYNCKEY_MALFORMED'],
    ['1_2_3', 'SYNCKEY_MALFORMED'],
    ['1__2', 'SYNCKEY_MALFORMED'],
    ['01_2', 'SYNCKEY_MALFORMED'],
    ['1_02', 'SYNCKEY_MALFORMED'],
    ['1.5_2', 'SYNCKEY_MALFORMED'],
    ['1_2.0', 'SYNCKEY_MALFORMED'],
    ['1e3_2', 'SYNCKEY_MALFORMED'],
    ['0x1_2', 'SYNCKEY_MALFORMED'],
    ['１_2', 'SYNCKEY_MALFORMED'],
    ['1_2%7C3_4', 'SYNCKEY_MALFORMED'],
    ['1_2,3_4', 'SYNCKEY_MALFORMED'],
    ['0_5', 'SYNCKEY_BAD_VALUE'],
    ['4294967296_1', 'SYNCKEY_BAD_VALUE'],
    ['1_9007199254740992', 'SYNCKEY_BAD_VALUE'],
    ['1_99999999999999999999', 'SYNCKEY_BAD_VALUE'],
    ['1_2|1_3', 'SYNCKEY_DUPLICATE_KEY'],
    [Array.from({ length: 33 }, (_v, i) => `${i + 1}_1`).join('|'), 'SYNCKEY_TOO_MANY_KEYS'],
  ])('rejects %j', (text, code) => {
    expect(thrown(() => parseSyncKeyQuery(text)).code).toBe(code);
  });

  it('says what it expected and what it saw', () => {
    expect(thrown(() => parseSyncKeyQuery('1_5|a_b')).message).toBe(
      'synckey pair 2 must be <key>_<val> in plain decimal digits, got "a_b"',
    );
    expect(thrown(() => parseSyncKeyQuery('0_5')).message).toBe(
      'synckey pair 1: Key must be an integer 1..4294967295, got 0',
    );
    expect(thrown(() => parseSyncKeyQuery('3_1|3_2')).message).toBe('synckey pair 2: Key 3 appears more than once');
  });

  it('quotes at most 32 characters of the input', () => {
    const pair = `1_${'x'.repeat(500)}`;
    const long = thrown(() => parseSyncKeyQuery(pair)).message;
    expect(long).not.toContain('x'.repeat(33));
    expect(long).toContain('"1_' + 'x'.repeat(30) + '"...');
    const digits = thrown(() => parseSyncKeyQuery(`1_${'7'.repeat(500)}`));
    expect(digits.code).toBe('SYNCKEY_BAD_VALUE');
    expect(digits.message).not.toContain('7'.repeat(33));
  });

  it('rejects any string with a character outside digits, "_" and "|"', () => {
    fc.assert(
      fc.property(
        syncKeyArb.filter((m) => m.size > 0),
        fc.nat(),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => !/[0-9_|]/.test(c)),
        (m, at, c) => {
          const text = formatSyncKeyQuery(m);
          const i = at % (text.length + 1);
          const bad = text.slice(0, i) + c + text.slice(i);
          expect(thrown(() => parseSyncKeyQuery(bad)).code).toBe('SYNCKEY_MALFORMED');
        },
      ),
    );
  });
});

describe('syncKeyFromEntries', () => {
  it('builds a checked map from any iterable', () => {
    function* gen(): Generator<[number, number]> {
      yield [2, 5];
      yield [1, 3];
    }
    expect(pairs(syncKeyFromEntries(gen()))).toEqual([
      [1, 3],
      [2, 5],
    ]);
    expect(syncKeyFromEntries([]).size).toBe(0);
  });

  it.each<[string, Array<[number, number]>, string]>([
    ['key 0', [[0, 1]], 'SYNCKEY_BAD_VALUE'],
    ['negative val', [[1, -1]], 'SYNCKEY_BAD_VALUE'],
    ['val 2^53', [[1, 2 ** 53]], 'SYNCKEY_BAD_VALUE'],
    ['duplicate key', [[1, 1], [1, 2]], 'SYNCKEY_DUPLICATE_KEY'],
    ['33 entries', Array.from({ length: 33 }, (_v, i): [number, number] => [i + 1, 0]), 'SYNCKEY_TOO_MANY_KEYS'],
  ])('rejects %s', (_name, entries, code) => {
    expect(thrown(() => syncKeyFromEntries(entries)).code).toBe(code);
  });

  it('stops at the 33rd entry of an endless iterable', () => {
    function* endless(): Generator<[number, number]> {
      for (let k = 1; ; k++) yield [k, 0];
    }
    expect(thrown(() => syncKeyFromEntries(endless())).code).toBe('SYNCKEY_TOO_MANY_KEYS');
  });
});

describe('syncKeyEquals / syncKeyVal', () => {
  it('compares pairs exactly, ignoring insertion order', () => {
    const a: SyncKeyMap = new Map([
      [1, 5],
      [2, 6],
    ]);
    expect(syncKeyEquals(a, new Map([[2, 6], [1, 5]]))).toBe(true);
    expect(syncKeyEquals(a, new Map([[1, 5], [2, 7]]))).toBe(false);
    expect(syncKeyEquals(a, new Map([[1, 5], [3, 6]]))).toBe(false);
    expect(syncKeyEquals(a, new Map([[1, 5]]))).toBe(false);
    expect(syncKeyEquals(new Map([[1, 0]]), new Map())).toBe(false);
    expect(syncKeyEquals(new Map(), new Map())).toBe(true);
  });

  it('gives 0 for an absent key', () => {
    const m: SyncKeyMap = new Map([[1, 620943725]]);
    expect(syncKeyVal(m, 1)).toBe(620943725);
    expect(syncKeyVal(m, 2)).toBe(0);
  });
});
