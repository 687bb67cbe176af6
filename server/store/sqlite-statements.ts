// The SQL of SqliteStore, prepared once per connection: transactions, the
// reads (raw rows, see sqlite-rows.ts) and the upserts and deletes of writes.
import { mediaStatements, type MediaStatements } from './sqlite-media.ts';
import type Database from 'better-sqlite3';
import {
  ACCOUNT_COLS,
  DEVICE_COLS,
  GROUP_COLS,
  REMARK_COLS,
  SESSION_COLS,
  type AccountRow,
  type DedupRow,
  type DeviceRow,
  type GroupRow,
  type ItemRow,
  type RemarkRow,
  type RemarkedRow,
  type SessionRow,
} from './sqlite-rows.ts';

export interface SqliteStatements {
  media: MediaStatements;
  begin: Database.Statement<[]>;
  commit: Database.Statement<[]>;
  rollback: Database.Statement<[]>;

  account: Database.Statement<[number], AccountRow>;
  accountByName: Database.Statement<[string], AccountRow>;
  accountsAfter: Database.Statement<[number, number], AccountRow>;
  session: Database.Statement<[string], SessionRow>;
  device: Database.Statement<[number, string], DeviceRow>;
  devicesOf: Database.Statement<[number], DeviceRow>;
  dedup: Database.Statement<[number, string], DedupRow>;
  group: Database.Statement<[string], GroupRow>;
  /** A group's members column alone (JSON), to tell whether membership changed. */
  groupMembers: Database.Statement<[string], string>;
  groupsOf: Database.Statement<[number, number], GroupRow>;
  remarksOf: Database.Statement<[number, number], RemarkRow>;
  remark: Database.Statement<[number, string], RemarkRow>;
  roomsAfter: Database.Statement<[number, number, number], GroupRow>;
  peersAfter: Database.Statement<[number, number, number], number>;
  remarkedAfter: Database.Statement<[number, number, number], RemarkedRow>;
  /** Rooms `owner` created that list `member` (names), up to a limit: the staged store's check of inRoomOf. */
  roomsOfOwnerWith: Database.Statement<[number, number, number], string>;
  /** The uins of the two directions (a → b, b → a) that exist. */
  peers: Database.Statement<[number, number, number, number], number>;
  inRoomOf: Database.Statement<[number, number], number>;
  items: Database.Statement<[number, number, number, number], ItemRow>;
  lastSeq: Database.Statement<[number, number], number | null>;
  meta: Database.Statement<[string], number>;

  putAccount: Database.Statement<unknown[]>;
  /** The counters of an account alone. */
  bumpAccount: Database.Statement<[number, number, number, number, number, number, number, number]>;
  putSession: Database.Statement<unknown[]>;
  putDevice: Database.Statement<unknown[]>;
  deleteDevice: Database.Statement<[number, string]>;
  putPeer: Database.Statement<[number, number]>;
  putDedup: Database.Statement<unknown[]>;
  putGroup: Database.Statement<unknown[]>;
  joinGroup: Database.Statement<[number, string, number]>;
  leaveGroup: Database.Statement<[number, string]>;
  putRemark: Database.Statement<unknown[]>;
  appendItem: Database.Statement<[number, number, number, number, string, number, number, number]>;
  pruneItems: Database.Statement<[number, number, number]>;
  pruneDedup: Database.Statement<[number, number]>;
  setMeta: Database.Statement<[string, number]>;
  deleteSession: Database.Statement<[string]>;
  /** One savepoint per apply: a write that fails undoes only its own apply. */
  savepoint: Database.Statement<[]>;
  release: Database.Statement<[]>;
  rollbackToSavepoint: Database.Statement<[]>;
}

export function prepareStatements(db: Database.Database): SqliteStatements {
  return {
    media: mediaStatements(db),
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    savepoint: db.prepare('SAVEPOINT apply'),
    release: db.prepare('RELEASE apply'),
    rollbackToSavepoint: db.prepare('ROLLBACK TO apply'),

    account: rawRows(db, `SELECT ${ACCOUNT_COLS} FROM accounts WHERE uin = ?`),
    accountByName: rawRows(db, `SELECT ${ACCOUNT_COLS} FROM accounts WHERE user_name = ?`),
    accountsAfter: rawRows(db, `SELECT ${ACCOUNT_COLS} FROM accounts WHERE uin > ? ORDER BY uin LIMIT CAST(? AS INTEGER)`),
    session: rawRows(db, `SELECT ${SESSION_COLS} FROM sessions WHERE sid = ?`),
    device: rawRows(db, `SELECT ${DEVICE_COLS} FROM devices WHERE uin = ? AND device_id = ?`),
    devicesOf: rawRows(db, `SELECT ${DEVICE_COLS} FROM devices WHERE uin = ? ORDER BY rowid`),
    dedup: rawRows(db, 'SELECT uin, client_msg_id, msg_id, local_id, created_at FROM dedup WHERE uin = ? AND client_msg_id = ?'),
    group: rawRows(db, `SELECT ${GROUP_COLS} FROM "groups" WHERE user_name = ?`),
    groupMembers: db.prepare<[string], string>('SELECT members FROM "groups" WHERE user_name = ?').pluck(),
    // `LIMIT CAST(? AS INTEGER)`, not `LIMIT ?`: with a bare bound LIMIT this
    // SQLite build runs such a query about three times slower (measured).
    groupsOf: rawRows(
      db,
      `SELECT g.user_name, g.topic, g.owner_uin, g.members, g.seq, g.created_at
       FROM group_members m JOIN "groups" g ON g.user_name = m.user_name
       WHERE m.uin = ? ORDER BY m.ord LIMIT CAST(? AS INTEGER)`,
    ),
    remarksOf: rawRows(db, `SELECT ${REMARK_COLS} FROM remarks WHERE uin = ? ORDER BY rowid LIMIT CAST(? AS INTEGER)`),
    remark: rawRows(db, `SELECT ${REMARK_COLS} FROM remarks WHERE uin = ? AND target = ?`),
    // A room's id is its name's digits: the member's rooms are read by the key's prefix, then ordered by id.
    roomsAfter: rawRows(
      db,
      `SELECT g.user_name, g.topic, g.owner_uin, g.members, g.seq, g.created_at
       FROM group_members m JOIN "groups" g ON g.user_name = m.user_name
       WHERE m.uin = ? AND CAST(substr(m.user_name, 3) AS INTEGER) > ?
       ORDER BY CAST(substr(m.user_name, 3) AS INTEGER) LIMIT CAST(? AS INTEGER)`,
    ),
    peersAfter: db.prepare<[number, number, number], number>('SELECT peer FROM peers WHERE uin = ? AND peer > ? ORDER BY peer LIMIT CAST(? AS INTEGER)').pluck(),
    remarkedAfter: rawRows(
      db,
      `SELECT a.uin, r.uin, r.target, r.remark_name, r.pinned FROM remarks r JOIN accounts a ON a.user_name = r.target
       WHERE r.uin = ? AND a.uin > ? ORDER BY a.uin LIMIT CAST(? AS INTEGER)`,
    ),
    roomsOfOwnerWith: db
      .prepare<[number, number, number], string>(
        `SELECT m.user_name FROM group_members m JOIN "groups" g ON g.user_name = m.user_name
         WHERE m.uin = ? AND g.owner_uin = ? LIMIT CAST(? AS INTEGER)`,
      )
      .pluck(),
    // Two primary-key lookups: cheaper than one OR (measured).
    peers: db
      .prepare<[number, number, number, number], number>(
        'SELECT uin FROM peers WHERE uin = ? AND peer = ? UNION ALL SELECT uin FROM peers WHERE uin = ? AND peer = ?',
      )
      .pluck(),
    // The member's rooms, each looked up by primary key for its owner.
    inRoomOf: db
      .prepare<[number, number], number>(
        `SELECT 1 FROM group_members m JOIN "groups" g ON g.user_name = m.user_name
         WHERE m.uin = ? AND g.owner_uin = ? LIMIT 1`,
      )
      .pluck(),
    items: rawRows(
      db,
      `SELECT seq, created_at, data FROM items
       WHERE uin = ? AND category = ? AND seq > ? ORDER BY seq LIMIT CAST(? AS INTEGER)`,
    ),
    lastSeq: db.prepare<[number, number], number | null>('SELECT max(seq) FROM items WHERE uin = ? AND category = ?').pluck(),
    meta: db.prepare<[string], number>('SELECT value FROM meta WHERE name = ?').pluck(),

    putAccount: db.prepare(
      `INSERT INTO accounts (${ACCOUNT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (uin) DO UPDATE SET user_name = excluded.user_name, nick_name = excluded.nick_name,
         password_hash = excluded.password_hash, created_at = excluded.created_at, seq = excluded.seq,
         floor1 = excluded.floor1, floor2 = excluded.floor2, count1 = excluded.count1, count2 = excluded.count2,
         last_pruned_at = excluded.last_pruned_at, last_evicted_at = excluded.last_evicted_at`,
    ),
    putSession: db.prepare(
      `INSERT INTO sessions (${SESSION_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (sid) DO UPDATE SET uin = excluded.uin, device_id = excluded.device_id, state = excluded.state,
         skey = excluded.skey, prev_skey = excluded.prev_skey, skey_at = excluded.skey_at,
         created_at = excluded.created_at, login_id = excluded.login_id`,
    ),
    putDevice: db.prepare(
      `INSERT INTO devices (${DEVICE_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (uin, device_id) DO UPDATE SET sid = excluded.sid, acked1 = excluded.acked1,
         acked2 = excluded.acked2, created_at = excluded.created_at, last_seen_at = excluded.last_seen_at,
         prev_sid = excluded.prev_sid, retired_sids = excluded.retired_sids`,
    ),
    deleteDevice: db.prepare('DELETE FROM devices WHERE uin = ? AND device_id = ?'),
    putPeer: db.prepare('INSERT INTO peers (uin, peer) VALUES (?, ?) ON CONFLICT (uin, peer) DO NOTHING'),
    putDedup: db.prepare(
      `INSERT INTO dedup (uin, client_msg_id, msg_id, local_id, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (uin, client_msg_id) DO UPDATE SET msg_id = excluded.msg_id, local_id = excluded.local_id,
         created_at = excluded.created_at`,
    ),
    putGroup: db.prepare(
      `INSERT INTO "groups" (${GROUP_COLS}) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (user_name) DO UPDATE SET topic = excluded.topic, owner_uin = excluded.owner_uin,
         members = excluded.members, seq = excluded.seq, created_at = excluded.created_at`,
    ),
    joinGroup: db.prepare(
      `INSERT INTO group_members (uin, user_name, ord)
       VALUES (?, ?, (SELECT coalesce(max(ord), 0) + 1 FROM group_members WHERE uin = ?))
       ON CONFLICT (uin, user_name) DO NOTHING`,
    ),
    leaveGroup: db.prepare('DELETE FROM group_members WHERE uin = ? AND user_name = ?'),
    putRemark: db.prepare(
      `INSERT INTO remarks (uin, target, remark_name, pinned) VALUES (?, ?, ?, ?)
       ON CONFLICT (uin, target) DO UPDATE SET remark_name = excluded.remark_name, pinned = excluded.pinned`,
    ),
    // Appends only after the newest retained item: 0 changes means out of order.
    appendItem: db.prepare(
      `INSERT INTO items (uin, category, seq, created_at, data)
       SELECT ?, ?, ?, ?, ?
       WHERE NOT EXISTS (SELECT 1 FROM items WHERE uin = ? AND category = ? AND seq >= ?)`,
    ),
    pruneItems: db.prepare('DELETE FROM items WHERE uin = ? AND category = ? AND seq <= ?'),
    pruneDedup: db.prepare('DELETE FROM dedup WHERE uin = ? AND created_at < ?'),
    deleteSession: db.prepare('DELETE FROM sessions WHERE sid = ?'),
    bumpAccount: db.prepare(
      'UPDATE accounts SET seq = ?, floor1 = ?, floor2 = ?, count1 = ?, count2 = ?, last_pruned_at = ?, last_evicted_at = ? WHERE uin = ?',
    ),
    setMeta: db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
  };
}

/** A read statement returning rows as arrays; the caller's field type gives P and R. */
function rawRows<P extends unknown[], R>(db: Database.Database, sql: string): Database.Statement<P, R> {
  return db.prepare<P, R>(sql).raw(true);
}
