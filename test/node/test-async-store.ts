// An asynchronous store for the runner's tests: a synchronous store behind
// asAsync (server/store/async-store.ts), each answer handed back after a
// short real delay, with faults the test plants (an apply, a read, a commit
// that fails), a commit the test holds until it lets it go, and a lock that
// lets several of these share one store as nodes share a PostgreSQL
// database: one transaction at a time, as the global advisory lock that
// every PostgreSQL batch takes after BEGIN makes it.
import { asAsync, type AsyncStore } from '../../server/store/async-store.ts';
import type { Read, ReadResult, Write } from '../../server/store/store-ops.ts';
import type { Store } from '../../server/store/store.ts';

/** One transaction at a time over a shared store, first come first served. */
export class TxLock {
  private held = false;
  private readonly waiting: Array<() => void> = [];

  acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held = false;
  }
}

/** A commit held by the test. */
export interface Hold {
  release: () => void;
  reached: boolean;
  gate: Promise<void>;
}

export interface TestStoreOptions {
  /** Each answer comes back after 0 to this many ms (default 2). */
  maxDelayMs?: number;
  /** Shared by every connection to the same store. */
  lock?: TxLock;
}

export class TestAsyncStore implements AsyncStore {
  readonly kind = 'postgres' as const;
  private readonly inner: AsyncStore;
  private readonly maxDelayMs: number;
  private readonly lock: TxLock | undefined;
  private locked = false;
  private turn = 0;
  begins = 0;
  commits = 0;
  rollbacks = 0;
  /** Every call, in order: begin, read, apply, commit, rollback. */
  readonly calls: string[] = [];
  /** An apply whose writes this picks fails (the store undoes it, as a savepoint would). */
  failApply: ((writes: readonly Write[]) => boolean) | undefined;
  /** The next read (or commit) fails. */
  failNextRead = false;
  failNextCommit = false;
  /** While set, a commit waits until release() is called. */
  private holding: Hold | undefined;
  /** While set, a commit is done (and the lock free) but its answer waits until release(). */
  private holdingAnswer: Hold | undefined;

  constructor(
    readonly store: Store,
    o: TestStoreOptions = {},
  ) {
    this.inner = asAsync(store);
    this.maxDelayMs = o.maxDelayMs ?? 2;
    this.lock = o.lock;
  }

  /** The next commit waits until the returned release(); `reached` says whether it has come. */
  holdCommit(): Hold {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const h: Hold = { release: () => release(), reached: false, gate };
    this.holding = h;
    return h;
  }

  /** The next commit is made at once, but its answer waits until the returned release(). */
  holdCommitAnswer(): Hold {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const h: Hold = { release: () => release(), reached: false, gate };
    this.holdingAnswer = h;
    return h;
  }

  private later<T>(p: Promise<T>): Promise<T> {
    // A varying delay, drawn from a counter (no randomness): answers come back out of step with the caller's turns.
    const ms = this.maxDelayMs === 0 ? 0 : this.turn++ % (this.maxDelayMs + 1);
    // Settled at once (a rejection is never left unhandled), handed back later.
    const outcome = p.then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    return new Promise((resolve, reject) =>
      setTimeout(() => void outcome.then((o) => (o.ok ? resolve(o.value) : reject(o.error))), ms),
    );
  }

  async begin(): Promise<void> {
    if (this.lock) await this.lock.acquire();
    this.locked = this.lock !== undefined;
    this.begins++;
    this.calls.push('begin');
    return this.later(this.inner.begin());
  }

  read<R extends Read>(r: R): Promise<ReadResult[R['kind']]> {
    this.calls.push('read');
    if (this.failNextRead) {
      this.failNextRead = false;
      return this.later(Promise.reject(new Error('planted read failure')));
    }
    return this.later(this.inner.read(r));
  }

  apply(writes: readonly Write[]): Promise<void> {
    this.calls.push('apply');
    if (this.failApply?.(writes)) return this.later(Promise.reject(new Error('planted apply failure')));
    return this.later(this.inner.apply(writes));
  }

  async commit(): Promise<void> {
    this.calls.push('commit');
    const h = this.holding;
    if (h) {
      this.holding = undefined;
      h.reached = true;
      await h.gate;
    }
    if (this.failNextCommit) {
      this.failNextCommit = false;
      await this.later(this.inner.rollback());
      this.unlock();
      throw new Error('planted commit failure');
    }
    this.commits++;
    try {
      await this.later(this.inner.commit());
    } finally {
      this.unlock();
    }
    const answer = this.holdingAnswer;
    if (answer) {
      this.holdingAnswer = undefined;
      answer.reached = true;
      await answer.gate;
    }
  }

  async rollback(): Promise<void> {
    this.calls.push('rollback');
    this.rollbacks++;
    try {
      await this.later(this.inner.rollback());
    } finally {
      this.unlock();
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private unlock(): void {
    if (!this.locked) return;
    this.locked = false;
    this.lock!.release();
  }
}
