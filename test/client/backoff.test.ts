import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { backoffMs } from '../../client/core/backoff.ts';

describe('backoffMs', () => {
  it('doubles from the base and stops at the cap', () => {
    const r = (): number => 0.5;
    expect([1, 2, 3, 4, 5, 6, 50, 5000].map((n) => backoffMs(n, 1_000, 10_000, r))).toEqual([
      750, 1_500, 3_000, 6_000, 7_500, 7_500, 7_500, 7_500,
    ]);
  });

  it('jitters between half and all of the ceiling', () => {
    expect(backoffMs(3, 1_000, 60_000, () => 0)).toBe(2_000);
    expect(backoffMs(3, 1_000, 60_000, () => 0.999999)).toBe(3_999);
    // A random source out of [0, 1) is treated as 0, never as a longer wait.
    expect(backoffMs(3, 1_000, 60_000, () => 1)).toBe(2_000);
    expect(backoffMs(3, 1_000, 60_000, () => Number.NaN)).toBe(2_000);
  });

  it('is an integer in [c/2, c] for every attempt count', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 0, max: 1_000_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (n, base, extra, r) => {
        const max = base + extra;
        const c = Math.min(max, base * 2 ** Math.min(n - 1, 1023));
        const d = backoffMs(n, base, max, () => r);
        return Number.isInteger(d) && d >= Math.floor(c / 2) && d <= c;
      }),
    );
  });
});
