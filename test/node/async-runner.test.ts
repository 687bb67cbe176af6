// The runner of a store that answers later (server/node/async-runner.ts), on
// a memory store whose answers come back after real delays: answers leave
// only after their commit, in order; one transaction at a time while the
// next batch collects; a failed apply costs its command alone, a failed
// read or commit the whole batch; a crash answers nobody; the queue and the
// batch are bounded.
import { afterEach, describe, expect, it } from 'vitest';
import type { CoreEffect, Plan } from '../../server/core/plan.ts';
import { Ret } from '../../server/core/ret.ts';
import { AsyncRunner, type AsyncRunnerOptions } from '../../server/node/async-runner.ts';
import { MemoryStore } from '../../server/store/memory-store.ts';
import { read, type Step } from '../../server/store/store-ops.ts';
import { TestAsyncStore } from './test-async-store.ts';
import { until } from '../e2e/raw-client/wait.ts';

interface Counted {
  n: number;
  tag: string;
}
type Answer = Counted | { BaseResponse: { Ret: number; ErrMsg: string } };

/** A command that counts: reads the counter, writes it plus one, answers the new value, and says account 1 grew to it. */
function* bump(tag: string): Step<Plan<Counted>> {
  const n = yield* read({ kind: 'meta', name: 'nextMsgId' });
  return {
    writes: [{ kind: 'setMeta', name: 'nextMsgId', value: n + 1 }],
    reply: { n: n + 1, tag },
    effects: [{ kind: 'appended', uin: 1, selector: 2, seq: n + 1 }],
  };
}

function* peek(): Step<number> {
  return yield* read({ kind: 'meta', name: 'nextMsgId' });
}

// eslint-disable-next-line require-yield
function* broken(): Step<Plan<Counted>> {
  throw new Error('a bug in a command');
}

class Rig {
  readonly mem = new MemoryStore();
  readonly store: TestAsyncStore;
  readonly runner: AsyncRunner;
  readonly answers: Array<[string, Answer]> = [];
  readonly settled: CoreEffect[][] = [];
  readonly errors: unknown[] = [];
  private waiters: Array<() => void> = [];

  constructor(o: Partial<AsyncRunnerOptions> = {}, maxDelayMs = 2) {
    this.store = new TestAsyncStore(this.mem, { maxDelayMs });
    this.runner = new AsyncRunner(this.store, {
      ...o,
      settled: (e) => {
        this.settled.push(e);
        for (const w of this.waiters.splice(0)) w();
      },
      onError: (e) => this.errors.push(e),
    });
  }

  submit(tag: string, step: Step<Plan<Counted>> = bump(tag)): void {
    this.runner.submit(step, (r) => this.answers.push([tag, r as Answer]));
  }

  /** Resolves once the runner is idle: nothing queued, no transaction under way. */
  async idle(): Promise<void> {
    while (this.runner.pending > 0) await new Promise<void>((r) => this.waiters.push(r));
  }

  /** The counter as committed. */
  committed(): number {
    return this.mem.read({ kind: 'meta', name: 'nextMsgId' });
  }
}

const ok = (r: Answer): number => ('n' in r ? r.n : -r.BaseResponse.Ret);
describe('AsyncRunner', () => {
  let rig: Rig;
  afterEach(() => expect(rig.errors).toEqual([]));

  it('answers a batch only after its commit, in submission order, then hands its effects over', async () => {
    rig = new Rig();
    for (const t of ['a', 'b', 'c']) rig.submit(t);
    expect(rig.runner.hasWork).toBe(true);
    const hold = rig.store.holdCommit();
    rig.runner.flush();
    await until(() => hold.reached);
    // Every command ran (their writes are in the transaction), and none is answered.
    expect(rig.answers).toEqual([]);
    expect(rig.settled).toEqual([]);
    hold.release();
    await rig.idle();
    expect(rig.answers.map(([t, r]) => [t, ok(r)])).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
    expect(rig.committed()).toBe(3);
    expect(rig.settled).toEqual([[1, 2, 3].map((seq) => ({ kind: 'appended', uin: 1, selector: 2, seq }))]);
    expect(rig.store.begins).toBe(1);
  });

  it('runs one transaction at a time; the next batch collects meanwhile and starts after it', async () => {
    rig = new Rig();
    rig.submit('a');
    const hold = rig.store.holdCommit();
    rig.runner.flush();
    await until(() => hold.reached);
    rig.submit('b');
    rig.submit('c');
    // While a transaction is under way, there is nothing for the driver to start.
    expect(rig.runner.hasWork).toBe(false);
    rig.runner.flush();
    expect(rig.store.begins).toBe(1);
    hold.release();
    await rig.idle();
    expect(rig.store.calls.filter((c) => c === 'begin' || c === 'commit')).toEqual(['begin', 'commit', 'begin', 'commit']);
    expect(rig.answers.map(([t, r]) => [t, ok(r)])).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
    expect(rig.settled).toHaveLength(2);
  });

  it('answers Ret 1 to a command whose apply fails, and commits the rest of its batch', async () => {
    rig = new Rig();
    let planted = false;
    rig.store.failApply = (w) => !planted && (planted = w[0]?.kind === 'setMeta' && w[0].value === 2);
    for (const t of ['a', 'b', 'c']) rig.submit(t);
    rig.runner.flush();
    await rig.idle();
    // b's write was undone: c counted from a's.
    expect(rig.answers.map(([t, r]) => [t, ok(r)])).toEqual([
      ['a', 1],
      ['b', -Ret.ServerError],
      ['c', 2],
    ]);
    expect(rig.committed()).toBe(2);
    expect(rig.settled[0]!.map((e) => (e.kind === 'appended' ? e.seq : 0))).toEqual([1, 2]);
  });

  it('answers Ret 1 to a command that throws, and the batch goes on', async () => {
    rig = new Rig();
    rig.submit('a');
    rig.submit('bug', broken());
    rig.submit('c');
    rig.runner.flush();
    await rig.idle();
    expect(rig.answers.map(([t, r]) => [t, ok(r)])).toEqual([
      ['a', 1],
      ['bug', -Ret.ServerError],
      ['c', 2],
    ]);
    expect(rig.runner.stats.failures).toBe(1);
  });

  it('answers Ret 1 to the whole batch when its commit fails, stores none of it, and goes on', async () => {
    rig = new Rig();
    rig.store.failNextCommit = true;
    for (const t of ['a', 'b']) rig.submit(t);
    rig.runner.flush();
    await rig.idle();
    expect(rig.answers.map(([t, r]) => [t, ok(r)])).toEqual([
      ['a', -Ret.ServerError],
      ['b', -Ret.ServerError],
    ]);
    expect(rig.committed()).toBe(0);
    expect(rig.settled).toEqual([[]]);
    rig.submit('c');
    rig.runner.flush();
    await rig.idle();
    expect(ok(rig.answers[2]![1])).toBe(1);
    expect(rig.committed()).toBe(1);
  });

  it('answers Ret 1 to the whole batch when a read fails: the store broke, not the command', async () => {
    rig = new Rig();
    rig.submit('a');
    rig.runner.flush();
    await rig.idle();
    rig.submit('b');
    rig.submit('c');
    rig.store.failNextRead = true;
    rig.runner.flush();
    await rig.idle();
    expect(rig.answers.map(([t, r]) => [t, ok(r)])).toEqual([
      ['a', 1],
      ['b', -Ret.ServerError],
      ['c', -Ret.ServerError],
    ]);
    expect(rig.store.rollbacks).toBe(1);
    expect(rig.committed()).toBe(1);
  });

  it('answers nobody after a crash, and a new runner on the same store goes on from what was committed', async () => {
    rig = new Rig();
    rig.submit('a');
    rig.runner.flush();
    await rig.idle();
    rig.submit('b');
    const hold = rig.store.holdCommit();
    rig.runner.flush();
    await until(() => hold.reached);
    rig.submit('queued');
    rig.runner.crash();
    // The process died with its connection: the database drops the open transaction.
    rig.mem.crash();
    hold.release();
    await new Promise((r) => setTimeout(r, 20));
    expect(rig.answers.map(([t]) => t)).toEqual(['a']);
    expect(rig.settled).toHaveLength(1);
    expect(rig.runner.pending).toBe(0);

    const answers: Answer[] = [];
    const next = new AsyncRunner(new TestAsyncStore(rig.mem), { settled: () => {} });
    next.submit(bump('after'), (r) => answers.push(r as Answer));
    next.flush();
    await until(() => answers.length === 1);
    expect(ok(answers[0]!)).toBe(2);
  });

  it('answers a query before its batch commits, with the batch writes before it in view', async () => {
    rig = new Rig();
    const seen: Array<number | undefined> = [];
    rig.submit('a');
    rig.runner.query(peek(), (n) => seen.push(n));
    const hold = rig.store.holdCommit();
    rig.runner.flush();
    await until(() => hold.reached);
    expect(seen).toEqual([1]);
    expect(rig.answers).toEqual([]);
    hold.release();
    await rig.idle();
  });

  it('answers Busy at once past maxQueue, and splits the queue into batches of maxBatch', async () => {
    rig = new Rig({ maxQueue: 5, maxBatch: 2 });
    for (const t of ['a', 'b', 'c', 'd', 'e', 'over']) rig.submit(t);
    const q: Array<number | undefined> = [];
    rig.runner.query(peek(), (n) => q.push(n));
    expect(rig.answers.map(([t, r]) => [t, ok(r)])).toEqual([['over', -Ret.Busy]]);
    expect(q).toEqual([undefined]);
    expect(rig.runner.stats.refused).toBe(2);
    rig.runner.flush();
    await rig.idle();
    expect(rig.answers.slice(1).map(([t, r]) => [t, ok(r)])).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 3],
      ['d', 4],
      ['e', 5],
    ]);
    expect(rig.store.begins).toBe(3);
  });
});
