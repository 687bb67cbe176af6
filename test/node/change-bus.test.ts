// The cross-node notice's payload (server/node/change-bus.ts): a batch's
// appended effects merge to one change per account; the payloads stay under
// their byte bound, split into a bounded number, and past it say `*`; what
// cannot be read wakes everyone rather than no one.
import { describe, expect, it } from 'vitest';
import { changesOf, decodeChanges, encodeChanges, type Change } from '../../server/node/change-bus.ts';

describe('cross-node notice payloads', () => {
  it('merges a batch to one change per account: its highest seq, its selectors together', () => {
    expect(
      changesOf([
        { kind: 'appended', uin: 5, selector: 2, seq: 10 },
        { kind: 'sessionEnded', uin: 5, sid: 's', ret: 1101 },
        { kind: 'appended', uin: 6, selector: 2, seq: 3 },
        { kind: 'appended', uin: 5, selector: 4, seq: 12 },
      ]),
    ).toEqual([
      { uin: 5, seq: 12, selector: 6 },
      { uin: 6, seq: 3, selector: 2 },
    ]);
  });

  it('round-trips changes with large numbers', () => {
    const changes: Change[] = [
      { uin: 4_294_967_295, seq: 2 ** 53 - 1, selector: 2 },
      { uin: 1, seq: 0, selector: 6 },
    ];
    const payloads = encodeChanges('node-1', changes);
    expect(payloads).toHaveLength(1);
    expect(decodeChanges(payloads[0]!)).toEqual({ origin: 'node-1', changes });
  });

  it('splits into payloads under the byte bound, and says everyone past the payload bound', () => {
    const many: Change[] = Array.from({ length: 2000 }, (_, i) => ({ uin: 1_000_000 + i, seq: 5_000 + i, selector: 2 }));
    const payloads = encodeChanges('n', many, { maxBytes: 7900, maxPayloads: 8 });
    expect(payloads.length).toBeGreaterThan(1);
    for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(7900);
    expect(payloads.flatMap((p) => decodeChanges(p).changes as Change[])).toEqual(many);
    expect(encodeChanges('n', many, { maxBytes: 7900, maxPayloads: 2 })).toEqual(['1 n *']);
    expect(decodeChanges('1 n *')).toEqual({ origin: 'n', changes: 'everyone' });
    expect(encodeChanges('n', [])).toEqual([]);
  });

  it('reads what it cannot parse as everyone, and refuses an origin it could not write', () => {
    for (const bad of ['', 'hello', '2 n 1.1.2', '1 n 1.1', '1 n 1.1.2,', '1 n -1.1.2', '1 n 1.1.2 extra', '1 bad!origin 1.1.2']) {
      expect(decodeChanges(bad).changes, bad).toBe('everyone');
    }
    // A selector outside the known bits still wakes, with every bit.
    expect(decodeChanges('1 n 1.1.64').changes).toEqual([{ uin: 1, seq: 1, selector: 6 }]);
    expect(() => encodeChanges('no spaces', [{ uin: 1, seq: 1, selector: 2 }])).toThrow(RangeError);
  });
});
