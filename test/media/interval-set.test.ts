// The set of received byte ranges, against a model that is obviously right:
// one boolean per byte.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IntervalSet, type Interval } from '../../server/media/interval-set.ts';

const SIZE = 64;

function runs(bits: boolean[], want: boolean, start: number, end: number): Interval[] {
  const out: Interval[] = [];
  for (let i = start; i < end; i++) {
    if (bits[i] !== want) continue;
    const last = out[out.length - 1];
    if (last && last.end === i) out[out.length - 1] = { start: last.start, end: i + 1 };
    else out.push({ start: i, end: i + 1 });
  }
  return out;
}

describe('IntervalSet', () => {
  it('merges overlapping and adjacent ranges', () => {
    const s = new IntervalSet();
    s.add(10, 20);
    s.add(30, 40);
    s.add(20, 25);
    expect(s.intervals).toEqual([{ start: 10, end: 25 }, { start: 30, end: 40 }]);
    s.add(24, 31);
    expect(s.intervals).toEqual([{ start: 10, end: 40 }]);
    expect(s.bytes).toBe(30);
  });

  it('says where to resume: the end of the range starting at 0, else 0', () => {
    const s = new IntervalSet();
    s.add(5, 10);
    expect(s.firstMissing()).toBe(0);
    s.add(0, 5);
    expect(s.firstMissing()).toBe(10);
    expect(s.covers(10)).toBe(true);
    expect(s.covers(11)).toBe(false);
  });

  it('agrees with a byte-per-byte model', () => {
    const op = fc.tuple(fc.integer({ min: 0, max: SIZE }), fc.integer({ min: 0, max: SIZE })).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), op, (adds, [qs, qe]) => {
        const s = new IntervalSet();
        const bits = new Array<boolean>(SIZE).fill(false);
        for (const [a, b] of adds) {
          const predicted = s.countAfterAdding(a, b);
          s.add(a, b);
          for (let i = a; i < b; i++) bits[i] = true;
          expect(s.count).toBe(predicted);
        }
        expect(s.intervals).toEqual(runs(bits, true, 0, SIZE));
        expect(s.bytes).toBe(bits.filter(Boolean).length);
        expect(s.covered(qs, qe)).toEqual(runs(bits, true, qs, qe));
        expect(s.gaps(qs, qe)).toEqual(runs(bits, false, qs, qe));
        expect(s.covers(SIZE)).toBe(bits.every(Boolean));
        const firstFalse = bits.indexOf(false);
        expect(s.firstMissing()).toBe(firstFalse < 0 ? SIZE : firstFalse);
      }),
      { seed: 13, numRuns: 500 },
    );
  });
});
