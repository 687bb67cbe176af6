// The store boundary for a store that answers later (PostgreSQL): the same
// reads and writes as data (store-ops.ts) and the same transaction contract
// as Store (store.ts), each call a promise. The command runner drives a
// command's steps with await (server/node/async-runner.ts); the synchronous
// stores keep their fast path, and asAsync() lets them stand behind this
// interface where a test wants one shape for all.
import type { Read, ReadResult, Write } from './store-ops.ts';
import type { Store } from './store.ts';

/**
 * Calls never overlap: the runner awaits each before the next. Reads inside
 * a transaction see the writes applied earlier in it; nothing is durable
 * until commit resolves; one apply is all or nothing (a savepoint) and the
 * transaction stays open after a failed one; a commit that rejects leaves
 * nothing of the transaction (rollback after it is harmless). The one
 * exception no networked store can rule out: PostgresStore's connection
 * breaking while COMMIT is on its way (it rejects with code
 * STORE_CONNECTION_LOST, and the transaction may have committed).
 */
export interface AsyncStore {
  readonly kind: 'memory' | 'sqlite' | 'postgres';
  begin(): Promise<void>;
  read<R extends Read>(r: R): Promise<ReadResult[R['kind']]>;
  apply(writes: readonly Write[]): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  close(): Promise<void>;
}

/** A synchronous store behind the asynchronous interface: every call resolves with what the store did, or rejects with what it threw. */
export function asAsync(store: Store): AsyncStore {
  const call = <T>(f: () => T): Promise<T> => {
    try {
      return Promise.resolve(f());
    } catch (e) {
      return Promise.reject(e);
    }
  };
  return {
    kind: store.kind,
    begin: () => call(() => store.begin()),
    read: (r) => call(() => store.read(r)),
    apply: (w) => call(() => store.apply(w)),
    commit: () => call(() => store.commit()),
    rollback: () => call(() => store.rollback()),
    close: () => call(() => store.close()),
  };
}
