// The transactional shell for a store that commits on another thread. As in
// CommandRunner, commands run as they arrive and their answers are held;
// here flush() seals the batch and hands it to the driver to post, and the
// next batch collects (its reads see the staged writes) while that one
// commits. Answers and effects of a batch leave when the driver reports its
// commit (committed()), in batch order; a batch that wrote nothing still
// waits for the batches before it, whose writes it may have read. A failed
// commit answers Ret 1 to its batch and to every later one, which were
// built on it.
import type { BugSet } from '../core/planted-bugs.ts';
import { NO_BUGS } from '../core/planted-bugs.ts';
import type { CoreEffect, Plan } from '../core/plan.ts';
import { errorReply, Ret } from '../core/ret.ts';
import type { SealedBatch, StagedStore } from '../store/staged-store.ts';
import type { Step } from '../store/store-ops.ts';
import { tryDrive, type Done, type Runner, type RunnerStats } from './runner.ts';

interface Held {
  done: Done<any>;
  reply: unknown;
}

interface Batch {
  /** The store's batch id, or undefined if the batch wrote nothing. */
  id: number | undefined;
  held: Held[];
  effects: CoreEffect[];
}

export interface PipelineStats extends RunnerStats {
  /** Batches sent to be committed and not yet committed. */
  inFlight: number;
}

export class PipelinedRunner implements Runner {
  private open: Batch = { id: undefined, held: [], effects: [] };
  /** Sealed batches, oldest first, waiting for their commit (or for the ones before them). */
  private readonly sealed: Batch[] = [];
  private committedThrough = 0;
  private pendingEffects: CoreEffect[] = [];
  readonly stats: PipelineStats = { commands: 0, commits: 0, failures: 0, writes: 0, itemsRead: 0, inFlight: 0 };

  constructor(
    private readonly store: StagedStore,
    /** Sends a sealed batch to the storage thread. */
    private readonly post: (batch: SealedBatch) => void,
    private readonly bugs: BugSet = NO_BUGS,
    /** Commands per batch at most; past it the batch is sealed at once. */
    private readonly maxBatch = 256,
  ) {}

  get pending(): number {
    return this.open.held.length;
  }

  get hasWork(): boolean {
    return this.open.held.length > 0 || this.pendingEffects.length > 0 || this.releasable();
  }

  /** The oldest sealed batch may be answered: it wrote nothing, or its commit is known. */
  private releasable(): boolean {
    const b = this.sealed[0];
    return b !== undefined && (b.id === undefined || b.id <= this.committedThrough);
  }

  submit<R>(step: Step<Plan<R>>, done: Done<R>): void {
    this.stats.commands++;
    const reply = this.run(step);
    if (this.bugs.has('answer-before-commit')) done(reply as R);
    else this.open.held.push({ done, reply });
    if (this.open.held.length >= this.maxBatch) this.seal();
  }

  query<T>(step: Step<T>, done: (result: T | undefined) => void): void {
    done(tryDrive(this.store, step, this.stats));
  }

  private run<R>(step: Step<Plan<R>>): unknown {
    const plan = tryDrive(this.store, step, this.stats);
    if (!plan) return errorReply(Ret.ServerError, 'internal error');
    this.stats.writes += plan.writes.length;
    this.store.stage(plan.writes);
    for (const e of plan.effects) this.open.effects.push(e);
    return plan.reply;
  }

  flush(): CoreEffect[] {
    this.seal();
    this.release();
    const e = this.pendingEffects;
    this.pendingEffects = [];
    return e;
  }

  private seal(): void {
    const b = this.open;
    if (b.held.length === 0 && b.effects.length === 0) return;
    this.open = { id: undefined, held: [], effects: [] };
    const sealed = this.store.seal();
    if (sealed) {
      b.id = sealed.id;
      this.stats.inFlight++;
      this.post(sealed);
    }
    this.sealed.push(b);
  }

  /** The driver: batches up to `through` are durable. Their answers go now (returns how many); their effects with the next flush or takeEffects(). */
  committed(through: number): number {
    this.committedThrough = Math.max(this.committedThrough, through);
    this.stats.commits++;
    return this.release();
  }

  /** The driver: the commit of batch `id` failed; it and everything after it are lost. */
  failed(): void {
    const lost = [...this.sealed, this.open];
    this.sealed.length = 0;
    this.open = { id: undefined, held: [], effects: [] };
    this.stats.inFlight = 0;
    this.store.failed();
    for (const b of lost) for (const h of b.held) h.done(errorReply(Ret.ServerError, 'internal error'));
  }

  /** Effects of batches made durable since the last flush. */
  takeEffects(): CoreEffect[] {
    const e = this.pendingEffects;
    this.pendingEffects = [];
    return e;
  }

  /** Answers every batch that may go now, in order; returns how many commands it answered. */
  private release(): number {
    let answered = 0;
    while (this.releasable()) {
      const b = this.sealed.shift()!;
      answered += b.held.length;
      if (b.id !== undefined) this.stats.inFlight--;
      for (const e of b.effects) this.pendingEffects.push(e);
      for (const h of b.held) h.done(h.reply);
    }
    return answered;
  }

  crash(): void {
    this.sealed.length = 0;
    this.open = { id: undefined, held: [], effects: [] };
    this.pendingEffects = [];
    this.store.failed();
  }
}
