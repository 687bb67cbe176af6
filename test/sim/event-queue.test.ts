// The event queue is the simulation's clock: it must hand events out in
// (time, tie, sequence) order whatever the heap's shape, and keep a
// channel's order among equal times whatever the stream's number.
import { describe, expect, it } from 'vitest';
import type { LinkUpEnvelope } from '../../sim/envelope.ts';
import { EventQueue, SIM_EPOCH_MS } from '../../sim/event-queue.ts';
import { Streams } from '../../sim/rng.ts';

function seededQueue(seed: string): EventQueue {
  const streams = new Streams(seed);
  const q = new EventQueue(() => streams.get('queue'));
  q.now = SIM_EPOCH_MS;
  return q;
}

interface Key {
  at: number;
  tie: number;
  seq: number;
}

const before = (a: Key, b: Key): boolean => a.at < b.at || (a.at === b.at && (a.tie < b.tie || (a.tie === b.tie && a.seq < b.seq)));

describe('event queue', () => {
  it('pops the least queued event by (time, tie, sequence) while events are added between pops', () => {
    for (const seed of ['1', '2', '3']) {
      const q = seededQueue(seed);
      // The same stream the queue draws its tie keys from: the model knows each event's key.
      const ties = new Streams(seed).get('queue');
      const draw = new Streams(seed).get('driver');
      const model: Key[] = [];
      let seq = 0;
      const add = (at: number): void => {
        q.schedule(at, 'timer', 'w', () => {});
        model.push({ at, tie: ties.next(), seq: seq++ });
      };
      // Few distinct times, so that ties decide often.
      for (let i = 0; i < 50; i++) add(SIM_EPOCH_MS + draw.int(0, 5));
      let popped = 0;
      for (let e = q.pop(); e; e = q.pop()) {
        let least = 0;
        for (let i = 1; i < model.length; i++) if (before(model[i]!, model[least]!)) least = i;
        const [expected] = model.splice(least, 1);
        expect({ at: e.at, tie: e.tie, seq: e.seq }).toEqual(expected);
        expect(q.now).toBe(e.at);
        if (++popped < 2000) for (let n = draw.int(0, 2); n > 0; n--) add(q.now + draw.int(0, 3));
      }
      expect(popped).toBeGreaterThan(1000);
      expect(model).toEqual([]);
    }
  });

  it("keeps a channel's order at one instant, for any stream number", () => {
    const up = (stream: number, b: number): LinkUpEnvelope => ({ kind: 'link-up', device: 'd', stream, serverLink: 1, bytes: Uint8Array.of(b) });
    for (const stream of [1, 7, 1_000_000, 2 ** 40]) {
      const q = seededQueue(String(stream));
      const T = SIM_EPOCH_MS + 10;
      for (let i = 0; i < 10; i++) {
        q.post(T, up(stream, i));
        q.post(T, up(stream + 1, 100 + i));
        q.schedule(T, 'timer', 'w', () => {});
      }
      const order: number[] = [];
      for (let e = q.pop(); e; e = q.pop()) if (e.envelope?.kind === 'link-up') order.push(e.envelope.bytes[0]!);
      expect(order.filter((b) => b < 100)).toEqual([...Array(10).keys()]);
      expect(order.filter((b) => b >= 100)).toEqual([...Array(10).keys()].map((i) => 100 + i));
    }
  });

  it('forgets a channel once its last queued event ran: the next one at that instant draws its own tie', () => {
    const streams = new Streams('forget');
    const q = new EventQueue(() => streams.get('queue'));
    q.now = SIM_EPOCH_MS;
    const T = SIM_EPOCH_MS + 5;
    const up = (b: number): LinkUpEnvelope => ({ kind: 'link-up', device: 'd', stream: 3, serverLink: 1, bytes: Uint8Array.of(b) });
    q.post(T, up(1));
    q.post(T, up(2));
    const first = q.pop()!;
    expect(q.pop()!.tie).toBe(first.tie);
    const draws = streams.get('queue').draws;
    q.post(T, up(3));
    const again = q.pop()!;
    expect(streams.get('queue').draws).toBe(draws + 1);
    expect(again.tie).not.toBe(first.tie);
  });
});
