// A store that hands every call to another: the base of the wrappers that
// watch or break a real store (the simulator's failing store, the tests'
// counting and failing stores), each overriding only what it changes.
import type { Store } from './store.ts';
import type { Read, ReadResult, Write } from './store-ops.ts';

export class ForwardingStore implements Store {
  constructor(protected readonly inner: Store) {}

  get kind(): Store['kind'] {
    return this.inner.kind;
  }

  begin(): void {
    this.inner.begin();
  }

  read<R extends Read>(r: R): ReadResult[R['kind']] {
    return this.inner.read(r);
  }

  apply(writes: readonly Write[]): void {
    this.inner.apply(writes);
  }

  commit(): void {
    this.inner.commit();
  }

  rollback(): void {
    this.inner.rollback();
  }

  close(): void {
    this.inner.close();
  }
}
