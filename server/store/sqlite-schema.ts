// The SQLite schema of SqliteStore and its migrations. Records are spread
// over plain columns; only item data and group members are JSON.
import type Database from 'better-sqlite3';

/** The schema this code writes, kept in `PRAGMA user_version`. */
export const SCHEMA_VERSION = 5;

const SCHEMA_V1 = `
CREATE TABLE accounts (
  uin INTEGER PRIMARY KEY,
  user_name TEXT NOT NULL UNIQUE,
  nick_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  floor1 INTEGER NOT NULL,
  floor2 INTEGER NOT NULL,
  count1 INTEGER NOT NULL,
  count2 INTEGER NOT NULL,
  last_pruned_at INTEGER NOT NULL
);
CREATE TABLE sessions (
  sid TEXT PRIMARY KEY,
  uin INTEGER NOT NULL,
  device_id TEXT NOT NULL,
  state TEXT NOT NULL,
  skey TEXT NOT NULL,
  prev_skey TEXT NOT NULL,
  skey_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  login_id TEXT NOT NULL
) WITHOUT ROWID;
-- A rowid table: devicesOf returns devices in insertion order (ORDER BY rowid;
-- an upsert keeps the rowid).
CREATE TABLE devices (
  uin INTEGER NOT NULL,
  device_id TEXT NOT NULL,
  sid TEXT NOT NULL,
  acked1 INTEGER NOT NULL,
  acked2 INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  prev_sid TEXT NOT NULL,
  PRIMARY KEY (uin, device_id)
);
CREATE TABLE dedup (
  uin INTEGER NOT NULL,
  client_msg_id TEXT NOT NULL,
  msg_id INTEGER NOT NULL,
  local_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (uin, client_msg_id)
) WITHOUT ROWID;
CREATE INDEX dedup_by_time ON dedup (uin, created_at);
CREATE TABLE "groups" (
  user_name TEXT PRIMARY KEY,
  topic TEXT NOT NULL,
  owner_uin INTEGER NOT NULL,
  members TEXT NOT NULL,
  seq INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
-- ord: the member's join order (1, 2, ... per uin); groupsOf follows it.
CREATE TABLE group_members (
  uin INTEGER NOT NULL,
  user_name TEXT NOT NULL,
  ord INTEGER NOT NULL,
  PRIMARY KEY (uin, user_name)
) WITHOUT ROWID;
CREATE UNIQUE INDEX group_members_by_order ON group_members (uin, ord);
-- A rowid table: remarksOf returns remarks in insertion order.
CREATE TABLE remarks (
  uin INTEGER NOT NULL,
  target TEXT NOT NULL,
  remark_name TEXT NOT NULL,
  PRIMARY KEY (uin, target)
);
CREATE TABLE items (
  uin INTEGER NOT NULL,
  category INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (uin, category, seq)
) WITHOUT ROWID;
CREATE TABLE meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`;

/**
 * Version 2: who sent whom a direct message (strangers are told apart by it),
 * each device's retired Sid fingerprints (space-separated), and when the log
 * bound last dropped an account's item.
 */
const MIGRATE_1_TO_2 = `
ALTER TABLE accounts ADD COLUMN last_evicted_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN retired_sids TEXT NOT NULL DEFAULT '';
CREATE TABLE peers (
  uin INTEGER NOT NULL,
  peer INTEGER NOT NULL,
  PRIMARY KEY (uin, peer)
) WITHOUT ROWID;
`;

/**
 * Version 3: log items in a rowid table (insertion order) with the log's key
 * as its index, instead of clustered by (uin, category, seq). A room message
 * to 500 members wrote 500 items into 500 leaf pages of the clustered table
 * (each member's items filling pages of their own); now the rows go to the
 * table's end, a few pages, and only the small index entries are spread
 * (consecutive members share index pages). Measured on this machine: 9.4
 * against 39 ms per 500-member message, at about 20% more per paged read
 * (which the log tail cache mostly spares).
 */
const MIGRATE_2_TO_3 = `
CREATE TABLE items_v3 (
  uin INTEGER NOT NULL,
  category INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (uin, category, seq)
);
INSERT INTO items_v3 (uin, category, seq, created_at, data)
  SELECT uin, category, seq, created_at, data FROM items ORDER BY created_at, uin, category, seq;
DROP TABLE items;
ALTER TABLE items_v3 RENAME TO items;
`;

/**
 * Version 4: the records of finished media uploads (server/media/). A MediaId
 * is one account's upload; (owner, ClientMediaId) is unique so that a retried
 * last chunk finds the MediaId it got; the content is stored by its SHA-256.
 */
const MIGRATE_3_TO_4 = `
CREATE TABLE media (
  media_id TEXT PRIMARY KEY,
  owner_uin INTEGER NOT NULL,
  client_media_id TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  md5 TEXT NOT NULL,
  size INTEGER NOT NULL,
  name TEXT NOT NULL,
  media_type TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (owner_uin, client_media_id)
) WITHOUT ROWID;
`;

/**
 * Version 5: a contact pinned to the top of the chat list (webwxoplog CmdId
 * 3) is a flag of the caller's record for that contact, beside its remark.
 */
const MIGRATE_4_TO_5 = `
ALTER TABLE remarks ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
`;

/** A file that says version 4 but holds the column (put back to 4 by hand) needs none added. */
function migrate4To5(db: Database.Database): void {
  const cols = db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('remarks')").all();
  if (!cols.some((c) => c.name === 'pinned')) db.exec(MIGRATE_4_TO_5);
}

/** Creates the schema in a fresh file, or migrates an older one; refuses a file written by a newer version. */
export function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  if (version > SCHEMA_VERSION) {
    throw new Error(`SqliteStore: schema version ${version} is newer than this code (${SCHEMA_VERSION})`);
  }
  db.exec('BEGIN IMMEDIATE');
  try {
    // Re-read under the write lock: another connection may have created it meanwhile.
    const now = db.pragma('user_version', { simple: true }) as number;
    if (now > SCHEMA_VERSION) throw new Error(`SqliteStore: schema version ${now} is newer than this code`);
    if (now === 0) db.exec(SCHEMA_V1);
    if (now < 2) db.exec(MIGRATE_1_TO_2);
    if (now < 3) db.exec(MIGRATE_2_TO_3);
    if (now < 4) db.exec(MIGRATE_3_TO_4);
    if (now < 5) migrate4To5(db);
    // Later versions: `if (now < 6) db.exec(MIGRATE_5_TO_6);` and so on.
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  }
}
