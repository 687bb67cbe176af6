// Hash slots: at most `size` works run at once, the rest start in order as
// slots free up, and a failing work frees its slot too.
import { describe, expect, it } from 'vitest';
import { HashSlots, defaultHashSlots } from '../../server/transport/hash-slots.ts';

function deferred(): { promise: Promise<number>; resolve: (v: number) => void; reject: (e: Error) => void } {
  let resolve!: (v: number) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<number>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** Lets the slots' own promise callbacks run. */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('HashSlots', () => {
  it('runs at most size works at once, then the waiting ones in order', async () => {
    const slots = new HashSlots(2);
    const works = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const results = works.map((w, i) =>
      slots.run(() => {
        started.push(i);
        return w.promise;
      }),
    );
    expect(started).toEqual([0, 1]);
    works[1]!.reject(new Error('hash failed'));
    await expect(results[1]).rejects.toThrow('hash failed');
    await settled();
    expect(started).toEqual([0, 1, 2]);
    works[0]!.resolve(10);
    expect(await results[0]).toBe(10);
    await settled();
    expect(started).toEqual([0, 1, 2, 3]);
    works[2]!.resolve(12);
    works[3]!.resolve(13);
    expect(await Promise.all([results[2], results[3]])).toEqual([12, 13]);
  });

  it('leaves a core to the event loop, and has at least one slot', () => {
    expect(defaultHashSlots(2)).toBe(1);
    expect(defaultHashSlots(1)).toBe(1);
    expect(defaultHashSlots(8)).toBe(7);
    expect(() => new HashSlots(0)).toThrow(RangeError);
  });
});
