// A durable store on PostgreSQL (the `pg` package), behind the asynchronous
// store boundary: the same contract as MemoryStore and SqliteStore. One
// connection runs the store's transactions; reads and writes are prepared
// statements by name (postgres-reads.ts, postgres-writes.ts), and one apply
// is a savepoint, released when all its writes succeed and rolled back to
// when one fails, the transaction staying open.
//
// Many server nodes may run on one schema. Each transaction takes one
// advisory lock of the schema right after BEGIN, held until it commits or
// rolls back: the nodes' transactions run one at a time, in one global
// order. Everything the core keeps total then stays total across nodes
// exactly as it does on one node: an account's sequence and log, a room's
// order, MsgId allocation through the meta row (read, then written, in one
// transaction), and ClientMsgId dedup (a retry that lands on another node
// reads the first node's committed record). Row locks on the accounts would
// not buy concurrency: every send moves the one nextMsgId row, so the
// transactions that matter would queue on it anyway, and a lock taken in the
// middle of a transaction can deadlock where one taken first cannot. The
// price is that a transaction's round trips hold the lock: an apply sends
// all its statements at once (pipelined) for that reason.
//
// READ COMMITTED, named explicitly: each statement reads what was committed
// when it started, so after the lock every read sees the previous holder's
// commit. (Under REPEATABLE READ the snapshot would be the lock statement's,
// taken before the wait: stale.)
//
// No cache at all, across transactions or within one: another node may have
// written since, and a cache validated per transaction costs a round trip
// under the lock to learn what the read would have cost. The synchronous
// stores cache because their reads are calls, not round trips.
import pg from 'pg';
import type { AsyncStore } from './async-store.ts';
import { readRecord } from './postgres-reads.ts';
import { PostgresStoreError } from './postgres-rows.ts';
import { LOCK_CLASS, migrate, schemaLockKey } from './postgres-schema.ts';
import { writeStatement, type WriteStatement } from './postgres-writes.ts';
import type { Read, ReadResult, Write } from './store-ops.ts';

export { PostgresStoreError } from './postgres-rows.ts';
export { SCHEMA_VERSION as POSTGRES_SCHEMA_VERSION } from './postgres-schema.ts';

export interface PostgresStoreOptions {
  /** Work in this schema (created if missing) instead of the first schema of the connection's search_path. */
  schema?: string;
  /** How long a transaction waits for the store's lock (another node's transaction) before begin fails; default 10 s. */
  lockTimeoutMs?: number;
  /** A transaction left open this long is ended by the server, so that a hung node cannot hold the lock; default 60 s. */
  idleInTransactionTimeoutMs?: number;
}

const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
const DEFAULT_IDLE_IN_TRANSACTION_MS = 60_000;
const INT8_OID = 20;

type State = 'idle' | 'tx' | 'commitFailed' | 'closed';

/** What inOrder answers when nothing failed. */
const NONE = Symbol('none');

/** Connects to `url`, creates or migrates the schema, and answers the store; see PostgresStore for the options. */
export async function openPostgresStore(url: string, o: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const client = new pg.Client(storeClientConfig(url, o));
  // For the client's whole life, the store's own listener aside: a connection that breaks fails the store's calls, never the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await PostgresStore.attach(client, { ...o, end: () => client.end() });
  } catch (e) {
    await client.end().catch(() => undefined);
    throw e;
  }
}

/** The connection a store wants: for a pool of them (`new pg.Pool(storeClientConfig(url))`), or one's own client. */
export function storeClientConfig(url: string, o: PostgresStoreOptions = {}): pg.ClientConfig {
  return {
    connectionString: url,
    // An apply's statements go out together, not one round trip each.
    pipeline: true,
    lock_timeout: o.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    idle_in_transaction_session_timeout: o.idleInTransactionTimeoutMs ?? DEFAULT_IDLE_IN_TRANSACTION_MS,
    fallback_application_name: 'synckey',
  };
}

export class PostgresStore implements AsyncStore {
  readonly kind = 'postgres' as const;
  /** Commits so far, like MemoryStore.commits. */
  commits = 0;
  private state: State = 'idle';
  /** Why the connection is gone, once it is. */
  private lost: Error | undefined;
  private readonly lock: readonly [number, number];
  /** Whether statements sent together go out together (the client's pipeline mode); otherwise they are sent one by one. */
  private readonly pipelined: boolean;

  private constructor(
    private readonly client: pg.ClientBase,
    /** The schema the store works in. */
    readonly schema: string,
    /** The server process of the connection (pg_stat_activity, pg_terminate_backend). */
    readonly backendPid: number,
    private readonly end: () => Promise<void>,
  ) {
    this.lock = [LOCK_CLASS, schemaLockKey(schema)];
    this.pipelined = (client as { pipeline?: boolean }).pipeline === true;
    client.on('error', this.onError);
    client.on('end', this.onEnd);
  }

  private readonly onError = (e: Error): void => {
    this.lost ??= e;
  };

  private readonly onEnd = (): void => {
    if (this.state !== 'closed') this.lost ??= new Error('the server ended the connection');
  };

  /**
   * The store on a connected client (its own, or one of a pool's): readies
   * the session, creates or migrates the schema, and answers the store.
   * `end` is what close() does last (client.end(), or release to the pool).
   */
  static async attach(client: pg.ClientBase, o: PostgresStoreOptions & { end: () => Promise<void> }): Promise<PostgresStore> {
    // Until the store listens: a connection that breaks while opening fails the open, not the process.
    const early = (): void => undefined;
    client.on('error', early);
    try {
      return await PostgresStore.ready(client, o);
    } finally {
      client.off('error', early);
    }
  }

  private static async ready(client: pg.ClientBase, o: PostgresStoreOptions & { end: () => Promise<void> }): Promise<PostgresStore> {
    // The store's numbers are below 2^53; int8 comes back as a number, not a string.
    client.setTypeParser(INT8_OID, (v: string) => Number(v));
    // A commit is durable when it returns, whatever the database's default.
    await client.query('SET synchronous_commit = on');
    const enc = await client.query<[string]>({ text: 'SHOW server_encoding', rowMode: 'array' });
    if (enc.rows[0]?.[0] !== 'UTF8') {
      throw new PostgresStoreError('STORE_UNSUITABLE_DATABASE', `the database's encoding is ${String(enc.rows[0]?.[0])}: the store needs UTF8 (CREATE DATABASE ... ENCODING 'UTF8')`);
    }
    const schema = o.schema ?? (await currentSchema(client));
    if (o.schema !== undefined) {
      const ident = pg.escapeIdentifier(o.schema);
      // Looked up first: a role that may not create schemas may still use one that exists.
      const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [o.schema]);
      if (exists.rowCount === 0) {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident}`).catch((e: unknown) => {
          // Another node created it at the same moment.
          if (!isPgError(e) || (e.code !== '42P06' && e.code !== '23505')) throw e;
        });
      }
      await client.query(`SET search_path TO ${ident}`);
    }
    await migrate(client, schema);
    const pid = await client.query<[number]>({ text: 'SELECT pg_backend_pid()', rowMode: 'array' });
    return new PostgresStore(client, schema, pid.rows[0]![0], o.end);
  }

  async begin(): Promise<void> {
    this.assertOpen();
    if (this.state === 'tx') throw misuse('nested transaction');
    this.state = 'tx';
    const failure = await this.inOrder([
      () => this.client.query('BEGIN ISOLATION LEVEL READ COMMITTED'),
      () => this.run({ name: 'sk_lock', text: 'SELECT pg_advisory_xact_lock($1, $2)', values: [...this.lock] }),
    ]);
    if (failure !== NONE) {
      this.state = 'idle';
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw this.explain(failure);
    }
  }

  async read<R extends Read>(r: R): Promise<ReadResult[R['kind']]> {
    this.assertOpen();
    try {
      return (await readRecord((name, text, values) => this.run({ name, text, values }), r)) as ReadResult[R['kind']];
    } catch (e) {
      throw this.explain(e);
    }
  }

  /** All of `writes` or, if one fails, none of them: the transaction stays open with what came before. */
  async apply(writes: readonly Write[]): Promise<void> {
    this.assertTx();
    if (writes.length === 0) return;
    // Every parameter is computed before anything is sent: a write that cannot be sent throws here, with nothing to undo.
    const statements = writes.map(writeStatement);
    // After a failure every later statement fails too: the transaction is aborted until the rollback to the savepoint.
    const failure = await this.inOrder([
      () => this.client.query('SAVEPOINT apply'),
      ...statements.map((st) => () => this.run(st)),
      () => this.client.query('RELEASE SAVEPOINT apply'),
    ]);
    if (failure === NONE) return;
    const undone = await this.inOrder([() => this.client.query('ROLLBACK TO SAVEPOINT apply'), () => this.client.query('RELEASE SAVEPOINT apply')]);
    if (undone !== NONE) {
      // This apply cannot be undone alone: undo the whole transaction, so that no part of it commits.
      this.state = 'idle';
      await this.client.query('ROLLBACK').catch(() => undefined);
    }
    throw this.explain(failure);
  }

  async commit(): Promise<void> {
    if (this.lost && this.state === 'tx') {
      // The server dropped the transaction with the connection.
      this.state = 'commitFailed';
      this.assertOpen();
    }
    this.assertTx();
    let res: pg.QueryResult;
    try {
      res = await this.client.query('COMMIT');
    } catch (e) {
      this.state = 'commitFailed';
      throw this.explain(e);
    }
    // COMMIT of a transaction that failed answers ROLLBACK, without an error.
    if (res.command !== 'COMMIT') {
      this.state = 'commitFailed';
      throw new PostgresStoreError('STORE_COMMIT_FAILED', `COMMIT answered ${res.command}: nothing of the transaction was kept`);
    }
    this.state = 'idle';
    this.commits++;
  }

  async rollback(): Promise<void> {
    // After a commit that failed, or with the connection gone, there is nothing left to undo.
    if (this.state === 'commitFailed' || (this.lost && this.state === 'tx')) {
      this.state = 'idle';
      return;
    }
    this.assertTx();
    this.state = 'idle';
    try {
      await this.client.query('ROLLBACK');
    } catch (e) {
      throw this.explain(e);
    }
  }

  /** Rolls back an open transaction and ends the connection; a second close does nothing. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const open = this.state === 'tx';
    this.state = 'closed';
    try {
      if (open && !this.lost) await this.client.query('ROLLBACK');
    } catch {
      // Ending the connection rolls it back as well.
    } finally {
      // A pooled client outlives the store: it must not keep the store's listeners.
      this.client.off('error', this.onError);
      this.client.off('end', this.onEnd);
      await this.end().catch(() => undefined);
    }
  }

  /**
   * Sends the statements in order and answers the first failure (NONE if
   * none failed). In pipeline mode they go out at once, one round trip for
   * all; otherwise one at a time, stopping at the first failure.
   */
  private async inOrder(calls: ReadonlyArray<() => Promise<unknown>>): Promise<unknown> {
    if (this.pipelined) {
      for (const s of await Promise.allSettled(calls.map((c) => c()))) if (s.status === 'rejected') return s.reason as unknown;
      return NONE;
    }
    try {
      for (const c of calls) await c();
      return NONE;
    } catch (e) {
      return e;
    }
  }

  private async run(s: WriteStatement): Promise<unknown[][]> {
    const res = await this.client.query<unknown[]>({ name: s.name, text: s.text, values: s.values, rowMode: 'array' });
    return res.rows;
  }

  /** What a failed statement means to the caller: a store error with a code where one applies, else the driver's error. */
  private explain(e: unknown): unknown {
    if (this.lost) return new PostgresStoreError('STORE_CONNECTION_LOST', `connection lost (${this.lost.message}); the open transaction is gone`, { cause: e });
    if (!isPgError(e)) return e;
    if (e.code === 'SK001') return new PostgresStoreError('STORE_APPEND_ORDER', e.message, { cause: e });
    if (e.code === '23505' && e.constraint === 'accounts_user_name_key') {
      return new PostgresStoreError('STORE_NAME_TAKEN', `user name taken (${e.detail ?? ''})`, { cause: e });
    }
    return e;
  }

  private assertOpen(): void {
    if (this.state === 'closed') throw misuse('closed');
    if (this.lost) throw new PostgresStoreError('STORE_CONNECTION_LOST', `connection lost (${this.lost.message})`);
  }

  private assertTx(): void {
    this.assertOpen();
    if (this.state !== 'tx') throw misuse('no transaction');
  }
}

async function currentSchema(client: pg.ClientBase): Promise<string> {
  const res = await client.query<[string | null]>({ text: 'SELECT current_schema()', rowMode: 'array' });
  const schema = res.rows[0]?.[0];
  if (!schema) {
    throw new PostgresStoreError('STORE_UNSUITABLE_DATABASE', 'no schema of the search_path exists: create one, or open the store with a schema');
  }
  return schema;
}

function misuse(what: string): PostgresStoreError {
  return new PostgresStoreError('STORE_MISUSE', what);
}

function isPgError(e: unknown): e is pg.DatabaseError {
  return e instanceof pg.DatabaseError;
}
