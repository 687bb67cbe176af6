// PostgresStore on a real PostgreSQL (env SYNCKEY_TEST_PG, else the role and
// database .ci/run creates): the shared store suite, each case in a schema
// no other case uses meanwhile (emptied and handed on after it), a crash
// being the server process of the connection killed with its transaction
// open; then what is PostgreSQL's own: the schema and its
// versions, keys no text column could hold, and several stores (nodes) on
// one schema. If PostgreSQL is not there, this file fails with one line that
// says how to start it.
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openPostgresStore, POSTGRES_SCHEMA_VERSION, PostgresStore, storeClientConfig } from '../../server/store/postgres-store.ts';
import { connectTestPg, testPg, urlWithSchema } from './pg-test-db.ts';
import { account, session } from './suite/fixtures.ts';
import { commitTx } from './suite/harness.ts';
import { runStoreSuite } from './store-suite.ts';

const db = await testPg();

/**
 * Schemas and connections that the suite's cases hand back: a case starts on
 * an emptied schema over a connection already made, a few round trips
 * instead of the schema's DDL and a login. A connection killed by a crash is
 * never handed out again.
 */
class Rig {
  private readonly schemas: string[] = [];
  private readonly spare: pg.Client[] = [];
  private readonly clients = new Set<pg.Client>();

  async schema(): Promise<string> {
    return this.schemas.pop() ?? (await db.newSchema());
  }

  async open(schema: string): Promise<PostgresStore> {
    let client = this.spare.pop();
    if (!client) {
      client = new pg.Client(storeClientConfig(db.url));
      client.on('error', () => undefined);
      await client.connect();
      this.clients.add(client);
    }
    const c = client;
    const store = await PostgresStore.attach(c, { schema, end: async () => void this.spare.push(c) });
    this.byStore.set(store, c);
    return store;
  }

  /** The store's connection ends as a process's would when the process dies: the server rolls back what it left open. */
  async kill(store: PostgresStore): Promise<void> {
    const client = this.byStore.get(store)!;
    await db.terminate(store.backendPid);
    this.clients.delete(client);
    await store.close().catch(() => undefined);
    // close() handed it back: take it out again.
    const at = this.spare.indexOf(client);
    if (at >= 0) this.spare.splice(at, 1);
    await client.end().catch(() => undefined);
  }

  /** Empties the schema's tables (its migrations stay) for the next case. */
  async recycle(schema: string): Promise<void> {
    await db.query(`DO $$ DECLARE t text; BEGIN
      FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = ${pg.escapeLiteral(schema)} AND tablename <> 'synckey_migrations' LOOP
        EXECUTE format('DELETE FROM %I.%I', ${pg.escapeLiteral(schema)}, t);
      END LOOP; END $$`);
    this.schemas.push(schema);
  }

  async end(): Promise<void> {
    for (const c of this.clients) await c.end().catch(() => undefined);
  }

  private readonly byStore = new WeakMap<PostgresStore, pg.Client>();
}

const rig = new Rig();
afterAll(async () => {
  await rig.end();
  await db.end();
});

/** Closes a store whose connection may be dead already. */
async function quietly(s: PostgresStore): Promise<void> {
  await s.close().catch(() => undefined);
}

runStoreSuite(
  'PostgresStore',
  async () => {
    const schema = await rig.schema();
    let current = await rig.open(schema);
    return {
      store: current,
      reopen: async () => {
        await current.close();
        current = await rig.open(schema);
        return current;
      },
      crash: async () => {
        await rig.kill(current);
        current = await rig.open(schema);
        return current;
      },
      commits: () => current.commits,
      cleanup: async () => {
        await quietly(current);
        await rig.recycle(schema);
      },
    };
  },
  // Each transaction is a few round trips and a commit a WAL flush: few runs keep the file short.
  { propertyRuns: 10, agreementRuns: 6, shrink: false },
);

describe('PostgresStore specifics', () => {
  async function fresh(): Promise<{ schema: string; open: () => Promise<PostgresStore> }> {
    const schema = await db.newSchema();
    return { schema, open: () => openPostgresStore(db.url, { schema }) };
  }

  it('creates its tables and records the schema version; the hot reads have an index', async () => {
    const { schema, open } = await fresh();
    const s = await open();
    expect(s.kind).toBe('postgres');
    expect(s.schema).toBe(schema);
    const tables = await db.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [schema]);
    expect(tables.rows.map((r: { table_name: string }) => r.table_name)).toEqual([
      'accounts', 'dedup', 'devices', 'group_members', 'groups', 'items', 'media', 'meta', 'peers', 'remarks', 'sessions', 'synckey_migrations',
    ]);
    const versions = await db.query(`SELECT version FROM ${schema}.synckey_migrations`);
    expect(versions.rows.map((r: { version: number }) => r.version)).toEqual([POSTGRES_SCHEMA_VERSION]);
    // With scans and sorts priced out, a plan that still scans or sorts has no index to use.
    const plan = async (sql: string): Promise<string> => {
      await db.query('BEGIN');
      try {
        await db.query(`SET LOCAL search_path TO ${schema}`);
        for (const knob of ['enable_seqscan', 'enable_bitmapscan', 'enable_sort']) await db.query(`SET LOCAL ${knob} = off`);
        const res = await db.query(`EXPLAIN ${sql}`);
        return res.rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
      } finally {
        await db.query('ROLLBACK');
      }
    };
    expect(await plan('SELECT seq, data FROM items WHERE uin = 1 AND category = 1 AND seq > 5 ORDER BY seq LIMIT 10')).not.toMatch(/Seq Scan|Sort/);
    expect(await plan('SELECT max(seq) FROM items WHERE uin = 1 AND category = 1')).not.toMatch(/Seq Scan/);
    expect(await plan('DELETE FROM dedup WHERE uin = 1 AND created_at < 5')).toMatch(/dedup_by_time/);
    expect(await plan('SELECT rec FROM remarks WHERE uin = 1 ORDER BY ord LIMIT 5')).not.toMatch(/Seq Scan|Sort/);
    expect(await plan('SELECT rec FROM devices WHERE uin = 1 ORDER BY ord')).not.toMatch(/Seq Scan|Sort/);
    expect(await plan('SELECT user_name FROM group_members WHERE uin = 1 ORDER BY ord LIMIT 5')).not.toMatch(/Seq Scan|Sort/);
    expect(await plan("SELECT rec FROM accounts WHERE user_name = 'x'")).toMatch(/accounts_user_name_key/);
    expect(await plan("SELECT 1 FROM items WHERE uin = 1 AND category = 1 AND media_id = 'x'")).toMatch(/items_by_media/);
    await s.close();
    await s.close();
  });

  it('refuses a schema that a newer server wrote, and opens again once it is gone', async () => {
    const { schema, open } = await fresh();
    await (await open()).close();
    await db.query(`INSERT INTO ${schema}.synckey_migrations (version, description) VALUES ($1, 'from the future')`, [POSTGRES_SCHEMA_VERSION + 1]);
    const refused = await open().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toMatchObject({ code: 'STORE_SCHEMA_NEWER' });
    expect(String((refused as Error).message)).toMatch(new RegExp(`version ${POSTGRES_SCHEMA_VERSION + 1}, newer than this server knows \\(${POSTGRES_SCHEMA_VERSION}\\)`));
    await db.query(`DELETE FROM ${schema}.synckey_migrations WHERE version > $1`, [POSTGRES_SCHEMA_VERSION]);
    await (await open()).close();
  });

  it('nodes that start together on a new schema migrate it once', async () => {
    const { schema, open } = await fresh();
    const stores = await Promise.all([open(), open(), open()]);
    const versions = await db.query(`SELECT version FROM ${schema}.synckey_migrations`);
    expect(versions.rowCount).toBe(1);
    for (const s of stores) await s.close();
  });

  it('keeps keys apart that a text column would merge: NUL, lone surrogates, backslashes', async () => {
    const { open } = await fresh();
    const s = await open();
    const sids = ['a\u0000b', 'a\\u0000b', 'a\ud800', 'a\ud801', 'a\ufffd', 'a\\', 'a😀', 'a'];
    await commitTx(s, [
      ...sids.map((sid, i) => ({ kind: 'putSession' as const, session: session(sid, i + 1) })),
      { kind: 'putAccount', account: account(1, { userName: 'x\u0000', nickName: '\u0000\ud800' }) },
      { kind: 'putAccount', account: account(2, { userName: 'x\\u0000' }) },
    ]);
    for (const [i, sid] of sids.entries()) expect(await s.read({ kind: 'session', sid })).toEqual(session(sid, i + 1));
    expect(await s.read({ kind: 'accountByName', userName: 'x\u0000' })).toEqual(account(1, { userName: 'x\u0000', nickName: '\u0000\ud800' }));
    expect((await s.read({ kind: 'accountByName', userName: 'x\\u0000' }))?.uin).toBe(2);
    await s.close();
  });

  it('a second account with a taken user name is refused with its code', async () => {
    const { open } = await fresh();
    const s = await open();
    await commitTx(s, [{ kind: 'putAccount', account: account(1, { userName: 'alice' }) }]);
    await expect(commitTx(s, [{ kind: 'putAccount', account: account(2, { userName: 'alice' }) }])).rejects.toMatchObject({ code: 'STORE_NAME_TAKEN' });
    await s.close();
  });

  it('a connection killed under the store: every call says so with its code, rollback after a failed commit is harmless, close still resolves', async () => {
    const { open } = await fresh();
    const s = await open();
    await s.begin();
    await s.apply([{ kind: 'setMeta', name: 'nextUin', value: 5 }]);
    await db.terminate(s.backendPid);
    await expect(s.commit()).rejects.toMatchObject({ code: 'STORE_CONNECTION_LOST' });
    await s.rollback();
    await expect(s.read({ kind: 'meta', name: 'nextUin' })).rejects.toMatchObject({ code: 'STORE_CONNECTION_LOST' });
    await expect(s.begin()).rejects.toMatchObject({ code: 'STORE_CONNECTION_LOST' });
    await s.close();
    const again = await open();
    expect(await again.read({ kind: 'meta', name: 'nextUin' })).toBe(0);
    await again.close();
  });

  it('works in the schema of the connection’s search_path when given none', async () => {
    const { schema } = await fresh();
    const s = await openPostgresStore(urlWithSchema(db.url, schema));
    expect(s.schema).toBe(schema);
    await commitTx(s, [{ kind: 'setMeta', name: 'nextMsgId', value: 7 }]);
    await s.close();
    const meta = await db.query(`SELECT value FROM ${schema}.meta`);
    expect(meta.rows).toEqual([{ value: '7' }]);
  });
});

describe('PostgresStore: several nodes on one schema', () => {
  it('a transaction waits for another node’s to commit, then reads what it wrote', async () => {
    const schema = await db.newSchema();
    const [a, b] = [await openPostgresStore(db.url, { schema }), await openPostgresStore(db.url, { schema })];
    try {
      await a.begin();
      await a.apply([{ kind: 'setMeta', name: 'nextMsgId', value: 41 }]);
      const events: string[] = [];
      const bBegan = b.begin().then(() => events.push('b began'));
      // b is waiting on the store's lock, not merely slow to start.
      for (let i = 0; i < 500; i++) {
        const waiting = await db.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock' AND wait_event = 'advisory'", [b.backendPid]);
        if (waiting.rowCount === 1) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(events).toEqual([]);
      await a.apply([{ kind: 'setMeta', name: 'nextMsgId', value: 42 }]);
      await a.commit();
      events.push('a committed');
      await bBegan;
      expect(events).toEqual(['a committed', 'b began']);
      expect(await b.read({ kind: 'meta', name: 'nextMsgId' })).toBe(42);
      await b.rollback();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('MsgIds allocated by three nodes at once through the meta row are all distinct, and none is lost', async () => {
    const schema = await db.newSchema();
    const nodes = await Promise.all([0, 1, 2].map(() => openPostgresStore(db.url, { schema })));
    const perNode = 15;
    try {
      // Each send: read the counter, write it moved on, record the MsgId against its ClientMsgId.
      await Promise.all(
        nodes.map(async (s, n) => {
          for (let i = 0; i < perNode; i++) {
            await s.begin();
            const msgId = (await s.read({ kind: 'meta', name: 'nextMsgId' })) + 1;
            await s.apply([
              { kind: 'setMeta', name: 'nextMsgId', value: msgId },
              { kind: 'putDedup', dedup: { uin: 1, clientMsgId: `n${n}-${i}`, msgId, localId: '', createdAt: msgId } },
            ]);
            await s.commit();
          }
        }),
      );
      const reader = nodes[0]!;
      expect(await reader.read({ kind: 'meta', name: 'nextMsgId' })).toBe(3 * perNode);
      const ids = new Set<number>();
      for (let n = 0; n < 3; n++) for (let i = 0; i < perNode; i++) ids.add((await reader.read({ kind: 'dedup', uin: 1, clientMsgId: `n${n}-${i}` }))!.msgId);
      expect(ids.size).toBe(3 * perNode);
    } finally {
      for (const s of nodes) await s.close();
    }
  });
});

describe('when PostgreSQL is not there', () => {
  it('a test fails with one line that says how to start it, the password left out', async () => {
    const err = await connectTestPg('postgres://synckey:s3cret@127.0.0.1:1/synckey_test').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toMatch(/^PostgreSQL at postgres:\/\/synckey:\*\*\*@127\.0\.0\.1:1\/synckey_test not reachable \(ECONNREFUSED\): start it with `pg_ctlcluster/);
    expect(err!.message).toMatch(/CREATE ROLE synckey LOGIN PASSWORD 'synckey' CREATEDB/);
    expect(err!.message).not.toMatch(/s3cret|\n/);
    expect(err!.stack).toBe(err!.message);
  });
});
