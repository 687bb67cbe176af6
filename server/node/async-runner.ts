// The transactional shell for a store that answers later (PostgreSQL,
// server/store/async-store.ts). Commands queue as they are submitted; one
// batch transaction runs at a time: begin, then each queued command driven
// with its reads awaited and its writes applied as one savepoint, then
// commit. Only then do the batch's answers leave, in order, and its effects
// go to the node (`settled`). While a batch runs the next one collects; it
// starts as soon as the running one is over.
//
// Failures, as in CommandRunner: a command that throws, or whose apply
// fails, answers Ret 1 alone and the batch goes on; a begin, a read or a
// commit that fails is the store's, and answers Ret 1 to the whole batch
// (a read that failed may have broken the transaction). A crash drops
// everything and answers nobody; the store's open transaction is the
// driver's to drop (a dead process's connection takes it with it).
//
// Bounded: at most maxBatch commands in a transaction, and at most maxQueue
// waiting for one; past that a command is answered Ret 2 (Busy) at once,
// with nothing read or written.
import type { CoreEffect, Plan } from '../core/plan.ts';
import type { BugSet } from '../core/planted-bugs.ts';
import { NO_BUGS } from '../core/planted-bugs.ts';
import { errorReply, Ret } from '../core/ret.ts';
import type { AsyncStore } from '../store/async-store.ts';
import type { Step } from '../store/store-ops.ts';
import { driveAsync, type Done, type Runner, type RunnerStats } from './runner.ts';

/** Commands waiting for a transaction, at most (StartOptions.storeMaxQueue, `--store-max-queue`). */
export const DEFAULT_MAX_QUEUE = 10_000;

export interface AsyncRunnerStats extends RunnerStats {
  /** Commands (and queries) in the transaction under way. */
  inFlight: number;
  /** Commands and queries answered Busy because the queue was full. */
  refused: number;
}

export interface AsyncRunnerOptions {
  bugs?: BugSet;
  /** Commands (and queries) per transaction at most. */
  maxBatch?: number;
  /** Commands (and queries) waiting for a transaction at most; one more is answered Ret 2. */
  maxQueue?: number;
  /**
   * A batch is over, committed or failed: its answers have left; `effects`
   * are the committed batch's (none for a failed one), for the node to apply
   * now. Never called after a crash.
   */
  settled: (effects: CoreEffect[]) => void;
  /** A callback of ours threw (a bug): told here, the runner goes on. */
  onError?: (e: unknown) => void;
}

type Entry =
  | { kind: 'command'; step: Step<Plan<unknown>>; done: Done<unknown> }
  | { kind: 'query'; step: Step<unknown>; done: (result: unknown) => void };

interface Held {
  done: Done<any>;
  reply: unknown;
}

/** A read, begin or commit of the store failed: the batch is lost. */
class StoreFailed {
  constructor(readonly cause: unknown) {}
}

const internalError = (): ReturnType<typeof errorReply> => errorReply(Ret.ServerError, 'internal error');

export class AsyncRunner implements Runner {
  private queue: Entry[] = [];
  private running = false;
  /** Bumped by crash(): a batch of an older generation stops at its next await. */
  private generation = 0;
  private readonly bugs: BugSet;
  private readonly maxBatch: number;
  private readonly maxQueue: number;
  readonly stats: AsyncRunnerStats = { commands: 0, commits: 0, failures: 0, writes: 0, itemsRead: 0, inFlight: 0, refused: 0 };

  constructor(
    private readonly store: AsyncStore,
    private readonly o: AsyncRunnerOptions,
  ) {
    this.bugs = o.bugs ?? NO_BUGS;
    this.maxBatch = Math.max(1, o.maxBatch ?? 256);
    this.maxQueue = Math.max(1, o.maxQueue ?? DEFAULT_MAX_QUEUE);
  }

  /** Commands not yet answered: queued, or in the transaction under way. */
  get pending(): number {
    return this.queue.length + this.stats.inFlight;
  }

  /** Commands queued and no transaction under way: flush() starts one. */
  get hasWork(): boolean {
    return !this.running && this.queue.length > 0;
  }

  /** A transaction is under way. */
  get busy(): boolean {
    return this.running;
  }

  submit<R>(step: Step<Plan<R>>, done: Done<R>): void {
    if (this.full()) return done(errorReply(Ret.Busy, 'server busy: too many commands wait for the database; retry later'));
    this.stats.commands++;
    this.queue.push({ kind: 'command', step, done: done as Done<unknown> });
  }

  /** A read-only step, run in the next transaction and answered as soon as it is driven (it waits for no commit). Undefined if it failed or the queue is full. */
  query<T>(step: Step<T>, done: (result: T | undefined) => void): void {
    if (this.full()) return done(undefined);
    this.queue.push({ kind: 'query', step, done: done as (result: unknown) => void });
  }

  private full(): boolean {
    if (this.queue.length < this.maxQueue) return false;
    this.stats.refused++;
    return true;
  }

  /** Starts a transaction for the queued commands if none is under way. Effects come through `settled`, never from here. */
  flush(): CoreEffect[] {
    this.kick();
    return [];
  }

  crash(): void {
    this.generation++;
    this.queue = [];
    this.running = false;
    this.stats.inFlight = 0;
  }

  private kick(): void {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const batch = this.queue.splice(0, this.maxBatch);
    this.stats.inFlight = batch.length;
    void this.runBatch(batch, this.generation);
  }

  private async runBatch(batch: Entry[], generation: number): Promise<void> {
    const held: Held[] = [];
    const effects: CoreEffect[] = [];
    let failed = false;
    let next = 0;
    try {
      await this.call(() => this.store.begin());
      if (generation !== this.generation) return;
      for (; next < batch.length; next++) {
        const e = batch[next]!;
        if (e.kind === 'query') {
          const result = await this.drive(e.step);
          if (generation !== this.generation) return;
          this.safely(() => e.done(result));
          continue;
        }
        const reply = await this.run(e.step, effects);
        if (generation !== this.generation) return;
        if (this.bugs.has('answer-before-commit')) this.safely(() => e.done(reply));
        else held.push({ done: e.done, reply });
      }
      await this.call(() => this.store.commit());
      if (generation !== this.generation) return;
      this.stats.commits++;
    } catch (e) {
      if (generation !== this.generation) return;
      if (!(e instanceof StoreFailed)) this.report(e);
      failed = true;
      this.stats.failures++;
      try {
        await this.store.rollback();
      } catch {
        // The failed call took the transaction with it: there is nothing left to roll back.
      }
      if (generation !== this.generation) return;
    }
    this.running = false;
    this.stats.inFlight = 0;
    if (failed) {
      // Queries not yet driven get nothing; commands get Ret 1, none of them stored.
      for (const e of batch.slice(next)) if (e.kind === 'query') this.safely(() => e.done(undefined));
      for (const h of held) this.safely(() => h.done(internalError()));
      for (const e of batch.slice(next)) if (e.kind === 'command') this.safely(() => e.done(internalError()));
    } else {
      for (const h of held) this.safely(() => h.done(h.reply));
    }
    this.safely(() => this.o.settled(failed ? [] : effects));
    this.kick();
  }

  /** A command's reply once its writes are in the transaction; Ret 1, nothing written, if it threw or its apply failed. */
  private async run(step: Step<Plan<unknown>>, effects: CoreEffect[]): Promise<unknown> {
    const plan = await this.drive(step);
    if (plan === undefined) return internalError();
    this.stats.writes += plan.writes.length;
    if (plan.writes.length > 0) {
      try {
        await this.store.apply(plan.writes);
      } catch {
        // The store undid this command's writes (a savepoint); the commands before it stay in the batch.
        this.stats.failures++;
        return internalError();
      }
    }
    for (const e of plan.effects) effects.push(e);
    return plan.reply;
  }

  /** Drive a step; undefined if the step threw (a bug in it: it wrote nothing). A read that fails fails the batch. */
  private async drive<T>(step: Step<T>): Promise<T | undefined> {
    const reader = { read: this.readOrFail };
    try {
      return await driveAsync(reader, step, this.stats);
    } catch (e) {
      if (e instanceof StoreFailed) throw e;
      this.stats.failures++;
      return undefined;
    }
  }

  private readonly readOrFail: AsyncStore['read'] = (r) => this.call(() => this.store.read(r));

  private async call<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw new StoreFailed(e);
    }
  }

  private safely(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.report(e);
    }
  }

  private report(e: unknown): void {
    try {
      this.o.onError?.(e);
    } catch {
      // A logger that throws has nowhere left to report to.
    }
  }
}

/** ServerNodeOptions.asyncStore: a store that answers later, and what its driver hears. */
export interface AsyncStorage {
  store: AsyncStore;
  /**
   * A batch is over (committed or failed); its answers and its effects have
   * left. The driver should flush soon: links paused for their turn, and
   * commands held for the next round, wait for it.
   */
  settled: () => void;
  /** Commands waiting for a transaction at most (default DEFAULT_MAX_QUEUE). */
  maxQueue?: number;
  onError?: (e: unknown) => void;
}
