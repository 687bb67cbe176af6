// The fair queue of held work: one item per key in turn, FIFO within a key,
// a key that comes back later queues behind the keys waiting now.
import { describe, expect, it } from 'vitest';
import { FairQueue } from '../../server/node/fair-queue.ts';

function drain<K, T>(q: FairQueue<K, T>): T[] {
  const out: T[] = [];
  for (let t = q.take(); t !== undefined; t = q.take()) out.push(t);
  return out;
}

describe('FairQueue', () => {
  it('serves keys in turn, each in its own order', () => {
    const q = new FairQueue<string, string>();
    for (const s of ['s1', 's2', 's3', 's4']) q.push('spammer', s);
    q.push('alice', 'a1');
    q.push('bob', 'b1');
    q.push('alice', 'a2');
    expect(q.size).toBe(7);
    expect(drain(q)).toEqual(['s1', 'a1', 'b1', 's2', 'a2', 's3', 's4']);
    expect(q.size).toBe(0);
  });

  it('a key pushed again after its queue emptied waits behind the others', () => {
    const q = new FairQueue<number, number>();
    q.push(1, 10);
    q.push(2, 20);
    expect(q.take()).toBe(10);
    q.push(1, 11);
    expect(drain(q)).toEqual([20, 11]);
    expect(q.take()).toBeUndefined();
  });
});
