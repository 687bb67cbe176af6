import type { Read, ReadResult, Write } from './store-ops.ts';

/**
 * A synchronous transactional store (memory, SQLite). Reads inside a
 * transaction see the writes applied earlier in it; nothing is durable until
 * commit returns; a crash or rollback drops everything since begin.
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
