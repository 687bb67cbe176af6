// A Store that measures the group commit from outside the sans-IO runner:
// how many commands each transaction carried (one apply per command) and how
// long its commit took (for SQLite, the fsync). Every call goes straight to
// the store underneath; only begin, apply and commit count anything. It runs
// in the real server only, so it reads the real clock (the simulator never
// builds one).
import { performance } from 'node:perf_hooks';
import { ForwardingStore } from '../store/forwarding-store.ts';
import type { Write } from '../store/store-ops.ts';
import type { Store } from '../store/store.ts';

/** Told after each commit that succeeded: the commands it carried, and its time in seconds. */
export type CommitListener = (commands: number, seconds: number) => void;

export class StoreProbe extends ForwardingStore {
  private applies = 0;

  constructor(
    inner: Store,
    private readonly committed: CommitListener,
  ) {
    super(inner);
  }

  override begin(): void {
    this.applies = 0;
    this.inner.begin();
  }

  override apply(writes: readonly Write[]): void {
    this.applies++;
    this.inner.apply(writes);
  }

  override commit(): void {
    const t0 = performance.now();
    this.inner.commit();
    this.committed(this.applies, (performance.now() - t0) / 1000);
    this.applies = 0;
  }

  override rollback(): void {
    this.applies = 0;
    this.inner.rollback();
  }
}
