// A Store that measures the group commit from outside the sans-IO runner:
// how many commands each transaction carried (one apply per command) and how
// long its commit took (for SQLite, the fsync). Every call goes straight to
// the store underneath; only begin, apply and commit count anything.
import { performance } from 'node:perf_hooks';
import type { Read, ReadResult, Write } from '../store/store-ops.ts';
import type { Store } from '../store/store.ts';

/** Told after each commit that succeeded: the commands it carried, and its time in seconds. */
export type CommitListener = (commands: number, seconds: number) => void;

export class StoreProbe implements Store {
  readonly kind: Store['kind'];
  private applies = 0;

  constructor(
    private readonly inner: Store,
    private readonly committed: CommitListener,
  ) {
    this.kind = inner.kind;
  }

  begin(): void {
    this.applies = 0;
    this.inner.begin();
  }

  read<R extends Read>(r: R): ReadResult[R['kind']] {
    return this.inner.read(r);
  }

  apply(writes: readonly Write[]): void {
    this.applies++;
    this.inner.apply(writes);
  }

  commit(): void {
    const t0 = performance.now();
    this.inner.commit();
    this.committed(this.applies, (performance.now() - t0) / 1000);
    this.applies = 0;
  }

  rollback(): void {
    this.applies = 0;
    this.inner.rollback();
  }

  close(): void {
    this.inner.close();
  }
}
