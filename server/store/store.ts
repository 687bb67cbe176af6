import type { Read, ReadResult, Write } from './store-ops.ts';

/**
 * A synchronous transactional store (memory, SQLite). Reads inside a
 * transaction see the writes applied earlier in it; nothing is durable until
 * commit returns; a crash or rollback drops everything since begin. One apply
 * is all or nothing: if a write throws, the writes of that apply are undone
 * (a savepoint) and the transaction stays open with the applies before it, so
 * one command's failure does not cost its batch. A commit that throws may
 * leave the transaction open (rollback drops it) or gone already (rollback
 * then throws, as it does outside a transaction).
 */
export interface Store {
  readonly kind: 'memory' | 'sqlite';
  begin(): void;
  read<R extends Read>(r: R): ReadResult[R['kind']];
  apply(writes: readonly Write[]): void;
  commit(): void;
  rollback(): void;
  close(): void;
}
