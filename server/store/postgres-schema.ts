// The PostgreSQL schema of PostgresStore and its migrations. The server
// creates and migrates its own schema: every version applied is a row of
// `synckey_migrations`, and a server that finds a version newer than it knows
// refuses to start rather than write rows an older shape cannot describe.
//
// Records are kept whole as JSON text (`rec`), beside the key columns the
// reads look them up and order them by. Keys that are integers are bigint;
// a number that is only compared (a creation time, a size, a MsgId) is
// double precision, which holds any JS number exactly. JSON text and not jsonb: jsonb
// refuses the escaped NUL (\u0000) that a nickname or a message may hold, and
// text keeps a record exactly as it was written. Key strings go through
// keyText (postgres-rows.ts), so that no key holds a NUL either.
import type { ClientBase } from 'pg';
import { PostgresStoreError } from './postgres-rows.ts';

/** The schema this code writes. */
export const SCHEMA_VERSION = 1;

/** The first key of the store's advisory locks ('SKSY'); the second is the schema's (schemaLockKey). */
export const LOCK_CLASS = 0x534b5359;
/** The first key of the lock that migrations take ('SKMG'): nodes starting at once migrate one after the other. */
export const MIGRATION_LOCK_CLASS = 0x534b4d47;

const SCHEMA_V1 = `
CREATE TABLE accounts (
  uin bigint PRIMARY KEY,
  user_name text NOT NULL CONSTRAINT accounts_user_name_key UNIQUE,
  rec text NOT NULL
);
CREATE TABLE sessions (
  sid text PRIMARY KEY,
  rec text NOT NULL
);
-- ord: insertion order (devicesOf follows it); an upsert keeps the row's ord,
-- a device deleted and put again goes last, as in MemoryStore.
CREATE TABLE devices (
  uin bigint NOT NULL,
  device_id text NOT NULL,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  rec text NOT NULL,
  PRIMARY KEY (uin, device_id)
);
CREATE INDEX devices_by_order ON devices (uin, ord);
CREATE TABLE dedup (
  uin bigint NOT NULL,
  client_msg_id text NOT NULL,
  created_at double precision NOT NULL,
  rec text NOT NULL,
  PRIMARY KEY (uin, client_msg_id)
);
CREATE INDEX dedup_by_time ON dedup (uin, created_at);
-- members: the JSON of the member list, compared whole to skip the
-- membership rows when a room message only bumps the room's seq.
CREATE TABLE "groups" (
  user_name text PRIMARY KEY,
  owner_uin bigint NOT NULL,
  members text NOT NULL,
  rec text NOT NULL
);
-- ord: join order (groupsOf); group_id: the room's numeric id (roomsAfter),
-- NULL for a name without one, which no roomsAfter lists (as in MemoryStore).
CREATE TABLE group_members (
  uin bigint NOT NULL,
  user_name text NOT NULL,
  group_id double precision,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (uin, user_name)
);
CREATE INDEX group_members_by_order ON group_members (uin, ord);
CREATE INDEX group_members_by_id ON group_members (uin, group_id);
CREATE TABLE remarks (
  uin bigint NOT NULL,
  target text NOT NULL,
  ord bigint GENERATED ALWAYS AS IDENTITY,
  rec text NOT NULL,
  PRIMARY KEY (uin, target)
);
CREATE INDEX remarks_by_order ON remarks (uin, ord);
CREATE TABLE peers (
  uin bigint NOT NULL,
  peer bigint NOT NULL,
  PRIMARY KEY (uin, peer)
);
-- The logs page by (uin, category, seq), the primary key. msg_id and
-- media_id are copies of the message's MsgId and MediaId for the media
-- reads, which scan one account's bounded message log as SQLite does;
-- only messages with a MediaId enter the partial index.
CREATE TABLE items (
  uin bigint NOT NULL,
  category smallint NOT NULL,
  seq bigint NOT NULL,
  created_at double precision NOT NULL,
  msg_id double precision,
  media_id text,
  data text NOT NULL,
  PRIMARY KEY (uin, category, seq)
);
CREATE INDEX items_by_media ON items (uin, media_id) WHERE media_id IS NOT NULL;
CREATE TABLE meta (
  name text PRIMARY KEY,
  value bigint NOT NULL
);
CREATE TABLE media (
  media_id text PRIMARY KEY,
  owner_uin bigint NOT NULL,
  client_media_id text NOT NULL,
  size double precision NOT NULL,
  rec text NOT NULL,
  UNIQUE (owner_uin, client_media_id)
);
-- An append behind the log's newest retained item fails as a statement, so
-- that the rest of a pipelined apply fails with it (postgres-writes.ts).
CREATE FUNCTION synckey_out_of_order(p_uin bigint, p_category smallint, p_seq bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  last bigint;
BEGIN
  SELECT max(seq) INTO last FROM items WHERE uin = p_uin AND category = p_category;
  RAISE EXCEPTION 'append out of order (% after %)', p_seq, last USING ERRCODE = 'SK001';
END
$$;
`;

/** Each version's DDL, applied in order: MIGRATIONS[v - 1] takes the schema from v - 1 to v. */
const MIGRATIONS: readonly { description: string; sql: string }[] = [{ description: 'the records of schema version 1', sql: SCHEMA_V1 }];

/** A 32-bit key of the schema's name (FNV-1a, as a signed int4): stores on one schema share its locks, stores on two do not. */
export function schemaLockKey(schema: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(schema, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/**
 * Creates the schema's tables in a fresh schema, or migrates an older one,
 * in one transaction under the migration lock; refuses a schema written by a
 * newer version. Returns the version found before.
 */
export async function migrate(client: ClientBase, schema: string): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [MIGRATION_LOCK_CLASS, schemaLockKey(schema)]);
    // Under the lock: a node that started at the same time has finished, or not begun.
    await client.query(`CREATE TABLE IF NOT EXISTS synckey_migrations (
      version integer PRIMARY KEY,
      description text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const found = await client.query<[number | null]>({ text: 'SELECT max(version) FROM synckey_migrations', rowMode: 'array' });
    const version = Number(found.rows[0]?.[0] ?? 0);
    if (version > SCHEMA_VERSION) {
      throw new PostgresStoreError(
        'STORE_SCHEMA_NEWER',
        `schema "${schema}" is at version ${version}, newer than this server knows (${SCHEMA_VERSION}): run a newer server, or point this one at another schema`,
      );
    }
    for (let v = version + 1; v <= SCHEMA_VERSION; v++) {
      const m = MIGRATIONS[v - 1]!;
      await client.query(m.sql);
      await client.query('INSERT INTO synckey_migrations (version, description) VALUES ($1, $2)', [v, m.description]);
    }
    await client.query('COMMIT');
    return version;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
