// The real server on PostgreSQL (StartOptions.storeUrl): the store, opened
// through a dynamic import so that a server on SQLite never loads `pg`; its
// transactions timed for the stall monitor; and the cross-node notice bus
// (pg-change-bus.ts) that wakes this node when another one commits.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { RemoteChanges } from '../node/change-bus.ts';
import type { Logger } from '../observability/log.ts';
import type { AsyncStore } from '../store/async-store.ts';
import type { Read, ReadResult, Write } from '../store/store-ops.ts';
import type { ChangeBusStats, PgChangeBus } from './pg-change-bus.ts';

export interface PostgresNode {
  /** The store, timed: what the node runs on. */
  readonly store: AsyncStore;
  /** The URL without its password: what the server reports as its database. */
  readonly label: string;
  /** Starts listening for the other nodes' notices; what this node commits is published through the same bus. */
  listen(onChanges: (changes: RemoteChanges) => void): Promise<void>;
  publish: PgChangeBus['publish'];
  busStats(): ChangeBusStats | undefined;
  close(): Promise<void>;
}

/** `url` without its password. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** Whether `url` names a PostgreSQL database (postgres:// or postgresql://). */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\/./i.test(url);
}

/**
 * Opens the store at `url` (creating or migrating its schema). `committed` is
 * told of each transaction that committed: the commands it carried and its
 * time from BEGIN (lock wait included) to the end of COMMIT.
 */
export async function openPostgresNode(url: string, o: { logger?: Logger; committed?: (commands: number, ms: number) => void } = {}): Promise<PostgresNode> {
  const { openPostgresStore } = await import('../store/postgres-store.ts');
  const { PgChangeBus } = await import('./pg-change-bus.ts');
  const pgStore = await openPostgresStore(url);
  const store = timed(pgStore, o.committed ?? (() => {}));
  // A name for this node on the channel: its own notices come back to it and are skipped by it.
  const origin = `n${randomBytes(9).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x')}`;
  let bus: PgChangeBus | undefined;
  return {
    store,
    label: redactedUrl(url),
    async listen(onChanges) {
      bus = await PgChangeBus.open({ url, schema: pgStore.schema, origin, onChanges, ...(o.logger ? { logger: o.logger } : {}) });
    },
    publish: (changes) => bus?.publish(changes),
    busStats: () => (bus ? { ...bus.stats } : undefined),
    async close() {
      await bus?.close();
      await pgStore.close();
    },
  };
}

/** The store with each transaction timed; every call goes straight through. */
function timed(inner: AsyncStore, committed: (commands: number, ms: number) => void): AsyncStore {
  let applies = 0;
  let t0 = 0;
  return {
    kind: inner.kind,
    begin: () => {
      applies = 0;
      t0 = performance.now();
      return inner.begin();
    },
    read: <R extends Read>(r: R): Promise<ReadResult[R['kind']]> => inner.read(r),
    apply: (writes: readonly Write[]) => {
      applies++;
      return inner.apply(writes);
    },
    commit: async () => {
      await inner.commit();
      committed(applies, performance.now() - t0);
    },
    rollback: () => inner.rollback(),
    close: () => inner.close(),
  };
}
