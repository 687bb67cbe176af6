import { describe, expect, it } from 'vitest';
import { Outbox, type OutboxEntry } from '../../client/core/outbox.ts';

function entry(n: number, to: string, over: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    localId: String(n),
    clientMsgId: `d-${n}`,
    to,
    content: `c${n}`,
    type: 1,
    state: 'queued',
    attempts: 0,
    nextAttemptAt: 0,
    createdAt: 0,
    lastRet: 0,
    lastErrMsg: '',
    ...over,
  };
}

describe('Outbox', () => {
  it('offers only the first unfailed entry of each conversation', () => {
    const o = new Outbox();
    o.add(entry(1, 'bob'));
    o.add(entry(2, 'bob'));
    o.add(entry(3, 'carol', { nextAttemptAt: 50 }));
    o.add(entry(4, 'dave', { state: 'failed' }));
    o.add(entry(5, 'dave'));
    expect(o.heads().map((e) => e.localId)).toEqual(['1', '3', '5']);
    expect(o.due(10).map((e) => e.localId)).toEqual(['1', '5']);
    expect(o.due(50).map((e) => e.localId)).toEqual(['1', '3', '5']);
    o.get('1')!.state = 'sending';
    expect(o.due(100).map((e) => e.localId)).toEqual(['3', '5']);
    expect(o.nextDueAt()).toBe(0);
  });

  it('a resent entry goes to the end of the queue with a fresh count', () => {
    const o = new Outbox([entry(1, 'bob', { state: 'failed', attempts: 8 }), entry(2, 'bob', { state: 'sending', attempts: 1 })]);
    // Restored: the attempt in flight when the app stopped is queued again, due at once.
    expect(o.get('2')).toMatchObject({ state: 'queued', nextAttemptAt: 0, attempts: 1 });
    o.requeue('1', 500);
    expect(o.entries().map((e) => [e.localId, e.state, e.attempts, e.nextAttemptAt])).toEqual([
      ['2', 'queued', 1, 0],
      ['1', 'queued', 0, 500],
    ]);
    expect(o.heads().map((e) => e.localId)).toEqual(['2']);
    expect(o.remove('2')?.localId).toBe('2');
    expect(o.heads().map((e) => e.localId)).toEqual(['1']);
    expect(o.nextDueAt()).toBe(500);
    expect(o.remove('nope')).toBeUndefined();
  });

  it('snapshots are copies', () => {
    const o = new Outbox([entry(1, 'bob')]);
    const snap = o.snapshot();
    snap[0]!.content = 'changed';
    expect(o.get('1')!.content).toBe('c1');
  });
});
