// The store of the core tests behind a recording wrapper: every write and
// commit is counted and put on a timeline next to what the node emitted, so
// a test can check what happened in which order (a reply only after its
// commit, nothing written by a rejected request).
import type { Store } from '../../server/store/store.ts';
import type { Read, ReadResult, Write } from '../../server/store/store-ops.ts';

export type TimelineEvent =
  | { kind: 'begin' }
  | { kind: 'apply'; writes: number }
  | { kind: 'commit'; n: number }
  | { kind: 'rollback' }
  | { kind: 'respond'; req: number }
  | { kind: 'write'; link: number; op: number }
  | { kind: 'close'; link: number }
  | { kind: 'crash' };

/** Wraps the real store; counts and records every write and commit. The inner store is swapped on a SQLite restart. */
export class RecordingStore implements Store {
  /** Every write applied (also those later rolled back or lost in a crash). */
  readonly writes: Write[] = [];
  commits = 0;
  rollbacks = 0;

  constructor(
    public inner: Store,
    private readonly timeline: TimelineEvent[],
  ) {}

  get kind(): 'memory' | 'sqlite' {
    return this.inner.kind;
  }

  begin(): void {
    this.inner.begin();
    this.timeline.push({ kind: 'begin' });
  }

  read<R extends Read>(r: R): ReadResult[R['kind']] {
    return this.inner.read(r);
  }

  apply(writes: readonly Write[]): void {
    this.inner.apply(writes);
    this.writes.push(...writes);
    this.timeline.push({ kind: 'apply', writes: writes.length });
  }

  commit(): void {
    this.inner.commit();
    this.commits++;
    this.timeline.push({ kind: 'commit', n: this.commits });
  }

  rollback(): void {
    this.inner.rollback();
    this.rollbacks++;
    this.timeline.push({ kind: 'rollback' });
  }

  close(): void {
    this.inner.close();
  }
}
