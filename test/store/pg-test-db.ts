// The PostgreSQL that tests run on: its URL (env SYNCKEY_TEST_PG, else the
// role and database .ci/run creates), a one-line failure that says how to
// start it when it cannot be reached (never a silent skip), and schemas of
// their own for tests, so that test files running in parallel never meet.
import crypto from 'node:crypto';
import pg from 'pg';

export const DEFAULT_TEST_PG = 'postgres://synckey:synckey@127.0.0.1:5432/synckey_test';

/** The URL tests connect to. */
export const TEST_PG_URL = process.env.SYNCKEY_TEST_PG || DEFAULT_TEST_PG;

/** Schemas that tests create are named t_<unix seconds>_<random>; ones older than this are left over from a killed run. */
const STALE_SCHEMA_S = 3600;

/** `url` without its password, for messages. */
export function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** The one line a test prints when PostgreSQL is not there or refuses the role: what failed, and the commands that fix it. */
export function unreachableMessage(url: string, e: unknown): string {
  const code = (e as { code?: string }).code;
  const why = code ?? (e instanceof Error ? e.message : String(e));
  const setup =
    `su postgres -c "psql -c \\"CREATE ROLE synckey LOGIN PASSWORD 'synckey' CREATEDB\\"" && su postgres -c "createdb -O synckey synckey_test"`;
  const start = 'start it with `pg_ctlcluster <version> main start` (the version from pg_lsclusters; Debian: apt-get install postgresql)';
  const where = `PostgreSQL at ${redacted(url)}`;
  // 28P01/28000: the role or its password is wrong; 3D000: no such database.
  if (code === '28P01' || code === '28000' || code === '3D000') {
    return `${where} refused the test role or database (${why}): create them with ${setup}, or set SYNCKEY_TEST_PG to a URL that works (.ci/run does both)`;
  }
  return `${where} not reachable (${why}): ${start}, then create the role and database: ${setup}; or set SYNCKEY_TEST_PG (.ci/run does all of it)`;
}

/** A client on the test database, or an error whose message is that one line (its stack is the line alone, so the report stays one line). */
export async function connectTestPg(url = TEST_PG_URL): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (e) {
    await client.end().catch(() => undefined);
    const err = new Error(unreachableMessage(url, e));
    err.stack = err.message;
    throw err;
  }
}

/**
 * Fresh schemas for one test file, on one admin connection. Call at the top
 * of the file (`const db = await testPg()`): if PostgreSQL is not there, the
 * file fails to load with the one-line message.
 */
export interface TestPg {
  url: string;
  /** A new, empty schema; dropped by drop() or end(). */
  newSchema(): Promise<string>;
  drop(schema: string): Promise<void>;
  /** Ends a server process as a crash would (its open transaction is lost), and waits until it is gone. */
  terminate(pid: number): Promise<void>;
  /** Runs SQL on the admin connection (search_path: public). */
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  /** Drops every schema it made and closes the admin connection. */
  end(): Promise<void>;
}

export async function testPg(url = TEST_PG_URL): Promise<TestPg> {
  const admin = await connectTestPg(url);
  const made = new Set<string>();
  await dropStaleSchemas(admin);
  return {
    url,
    async newSchema() {
      const name = `t_${Math.floor(Date.now() / 1000)}_${crypto.randomBytes(5).toString('hex')}`;
      await admin.query(`CREATE SCHEMA ${pg.escapeIdentifier(name)}`);
      made.add(name);
      return name;
    },
    async drop(schema) {
      await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
      made.delete(schema);
    },
    async terminate(pid) {
      await admin.query('SELECT pg_terminate_backend($1, 5000)', [pid]);
    },
    query: (text, values) => admin.query(text, values),
    async end() {
      try {
        for (const s of [...made]) await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(s)} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** `url` with its search_path set to `schema` (for a server process started on a test's schema). */
export function urlWithSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

async function dropStaleSchemas(admin: pg.Client): Promise<void> {
  const res = await admin.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname ~ '^t_[0-9]+_[0-9a-f]+$'");
  const now = Date.now() / 1000;
  for (const { nspname } of res.rows) {
    if (now - Number(nspname.split('_')[1]) > STALE_SCHEMA_S) {
      await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(nspname)} CASCADE`).catch(() => undefined);
    }
  }
}
