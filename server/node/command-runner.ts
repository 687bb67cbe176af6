// The transactional shell with group commit. Commands run as they arrive,
// inside one open transaction; their answers are held until flush() commits
// the batch, so nothing acknowledged can be lost. Each command's writes go in
// as one all-or-nothing apply (a savepoint), so a command that fails answers
// Ret 1 alone and the rest of its batch commits. A commit that fails answers
// every command of the batch with Ret 1, and the runner goes on with a new
// transaction. A synchronous store answers each read at once; an asynchronous
// store drives the same steps with await (async-runner.ts).
import type { Store } from '../store/store.ts';
import type { Step } from '../store/store-ops.ts';
import type { BugSet } from '../core/planted-bugs.ts';
import { NO_BUGS } from '../core/planted-bugs.ts';
import type { CoreEffect, Plan } from '../core/plan.ts';
import { errorReply, Ret } from '../core/ret.ts';
import { drive, tryDrive, type Done, type Runner, type RunnerStats } from './runner.ts';

export { drive, type Done, type RunnerStats };

interface Held {
  done: Done<any>;
  reply: unknown;
}

export class CommandRunner implements Runner {
  private held: Held[] = [];
  private effects: CoreEffect[] = [];
  private open = false;
  readonly stats: RunnerStats = { commands: 0, commits: 0, failures: 0, writes: 0, itemsRead: 0 };

  constructor(
    private readonly store: Store,
    private readonly bugs: BugSet = NO_BUGS,
    /** Commands per transaction at most; past it the batch is committed at once. */
    private readonly maxBatch = 256,
  ) {}

  /** Commands waiting for the next commit. */
  get pending(): number {
    return this.held.length;
  }

  /** Something for flush() to do: commands to commit, or effects of a batch committed when it filled. */
  get hasWork(): boolean {
    return this.held.length > 0 || this.pendingEffects.length > 0;
  }

  /** Run a command in the open batch; `done` gets its reply after the batch commits. */
  submit<R>(step: Step<Plan<R>>, done: Done<R>): void {
    if (!this.open) {
      this.store.begin();
      this.open = true;
    }
    this.stats.commands++;
    this.hold(done, this.run(step));
    if (this.held.length >= this.maxBatch) this.commitBatch();
  }

  /**
   * Run a step that only reads, at once and outside the batch's answers: it
   * writes nothing, so it waits for no commit. It may see the open batch's
   * writes; what it finds must be checked again by the command it leads to.
   * `done` is called before this returns, with undefined if the step failed.
   */
  query<T>(step: Step<T>, done: (result: T | undefined) => void): void {
    done(tryDrive(this.store, step, this.stats));
  }

  /** A command's reply once its writes are in the batch; Ret 1, with nothing written, if it failed. */
  private run<R>(step: Step<Plan<R>>): unknown {
    const plan = tryDrive(this.store, step, this.stats);
    if (!plan) return errorReply(Ret.ServerError, 'internal error');
    this.stats.writes += plan.writes.length;
    try {
      this.store.apply(plan.writes);
    } catch {
      // The store undid this command's writes; the commands before it stay in the batch.
      this.stats.failures++;
      return errorReply(Ret.ServerError, 'internal error');
    }
    this.effects.push(...plan.effects);
    return plan.reply;
  }

  private hold(done: Done<any>, reply: unknown): void {
    if (this.bugs.has('answer-before-commit')) done(reply);
    else this.held.push({ done, reply });
  }

  /** Commit the batch, then answer its commands; returns the batch's effects. */
  flush(): CoreEffect[] {
    this.commitBatch();
    const e = this.pendingEffects;
    this.pendingEffects = [];
    return e;
  }

  /** Effects of committed batches not yet handed out by flush(). */
  private pendingEffects: CoreEffect[] = [];

  private commitBatch(): void {
    if (this.open) {
      try {
        this.store.commit();
        this.stats.commits++;
      } catch {
        this.abortBatch();
        return;
      }
      this.open = false;
    }
    const held = this.held;
    this.held = [];
    this.pendingEffects.push(...this.effects);
    this.effects = [];
    for (const h of held) h.done(h.reply);
  }

  private abortBatch(): void {
    if (this.open) {
      this.open = false;
      try {
        this.store.rollback();
      } catch {
        // The failed commit took the transaction with it: there is nothing left to roll back.
      }
    }
    const held = this.held;
    this.held = [];
    this.effects = [];
    for (const h of held) h.done(errorReply(Ret.ServerError, 'internal error'));
  }

  /** A crash: the open batch is lost with everything volatile; nobody is answered. */
  crash(): void {
    this.held = [];
    this.effects = [];
    this.pendingEffects = [];
    this.open = false;
  }
}
