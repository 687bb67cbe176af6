// A durable store over SQLite (better-sqlite3, synchronous). Same contract as
// MemoryStore: reads inside a transaction see its earlier writes, nothing is
// durable until commit returns (WAL + synchronous=FULL by default), and a
// crash or rollback drops everything since begin. Records are spread over
// plain columns; only item data and group members are JSON.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Account, DedupRecord, Device, Group, LogItem, Remark, Session, SessionState } from '../core/model.ts';
import type { Store } from './store.ts';
import { RecordCache } from './record-cache.ts';
import type { Read, ReadResult, Write } from './store-ops.ts';

/** The schema this code writes, kept in `PRAGMA user_version`. */
export const SCHEMA_VERSION = 1;

export interface SqliteStoreOptions {
  /** FULL (default): a commit survives power loss. NORMAL: it survives a process crash. */
  synchronous?: 'FULL' | 'NORMAL';
  /** How long to wait for another connection's lock, in ms (default 5000). */
  busyTimeoutMs?: number;
}

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

// Reads run in raw mode (rows as arrays, in the column order of the SELECT):
// it is measurably cheaper than keyed row objects.
type AccountRow = [
  uin: number,
  userName: string,
  nickName: string,
  passwordHash: string,
  createdAt: number,
  seq: number,
  floor1: number,
  floor2: number,
  count1: number,
  count2: number,
  lastPrunedAt: number,
];
type SessionRow = [
  sid: string,
  uin: number,
  deviceId: string,
  state: string,
  skey: string,
  prevSkey: string,
  skeyAt: number,
  createdAt: number,
  loginId: string,
];
type DeviceRow = [
  uin: number,
  deviceId: string,
  sid: string,
  acked1: number,
  acked2: number,
  createdAt: number,
  lastSeenAt: number,
  prevSid: string,
];
type DedupRow = [uin: number, clientMsgId: string, msgId: number, localId: string, createdAt: number];
type GroupRow = [userName: string, topic: string, ownerUin: number, members: string, seq: number, createdAt: number];
type RemarkRow = [uin: number, target: string, remarkName: string];
type ItemRow = [seq: number, createdAt: number, data: string];

const ACCOUNT_COLS =
  'uin, user_name, nick_name, password_hash, created_at, seq, floor1, floor2, count1, count2, last_pruned_at';
const SESSION_COLS = 'sid, uin, device_id, state, skey, prev_skey, skey_at, created_at, login_id';
const DEVICE_COLS = 'uin, device_id, sid, acked1, acked2, created_at, last_seen_at, prev_sid';
const GROUP_COLS = 'user_name, topic, owner_uin, members, seq, created_at';

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  /** Commits so far, like MemoryStore.commits. */
  commits = 0;
  readonly path: string;
  private readonly db: Database.Database;

  /** The hot records, written through; emptied by a rollback. */
  private readonly cache: RecordCache;
  private readonly sBegin: Database.Statement<[]>;
  private readonly sCommit: Database.Statement<[]>;
  private readonly sRollback: Database.Statement<[]>;

  private readonly sAccount: Database.Statement<[number], AccountRow>;
  private readonly sAccountByName: Database.Statement<[string], AccountRow>;
  private readonly sBumpAccount: Database.Statement<[number, number, number, number, number, number, number]>;
  private readonly sAccountsAfter: Database.Statement<[number, number], AccountRow>;
  private readonly sSession: Database.Statement<[string], SessionRow>;
  private readonly sDevice: Database.Statement<[number, string], DeviceRow>;
  private readonly sDevicesOf: Database.Statement<[number], DeviceRow>;
  private readonly sDedup: Database.Statement<[number, string], DedupRow>;
  private readonly sGroup: Database.Statement<[string], GroupRow>;
  private readonly sGroupMembers: Database.Statement<[string], string>;
  private readonly sGroupsOf: Database.Statement<[number, number], GroupRow>;
  private readonly sRemarksOf: Database.Statement<[number, number], RemarkRow>;
  private readonly sItems: Database.Statement<[number, number, number, number], ItemRow>;
  private readonly sLastSeq: Database.Statement<[number, number], number | null>;
  private readonly sMeta: Database.Statement<[string], number>;

  private readonly sPutAccount: Database.Statement<unknown[]>;
  private readonly sPutSession: Database.Statement<unknown[]>;
  private readonly sPutDevice: Database.Statement<unknown[]>;
  private readonly sPutDedup: Database.Statement<unknown[]>;
  private readonly sPutGroup: Database.Statement<unknown[]>;
  private readonly sJoinGroup: Database.Statement<[number, string, number]>;
  private readonly sLeaveGroup: Database.Statement<[number, string]>;
  private readonly sPutRemark: Database.Statement<unknown[]>;
  private readonly sAppendItem: Database.Statement<[number, number, number, number, string, number, number, number]>;
  private readonly sPruneItems: Database.Statement<[number, number, number]>;
  private readonly sPruneDedup: Database.Statement<[number, number]>;
  private readonly sSetMeta: Database.Statement<[string, number]>;
  private readonly sDeleteSession: Database.Statement<[string]>;

  /** Opens (and creates, or migrates) the store at `file`; ':memory:' for a throwaway one. */
  static open(file: string, opts: SqliteStoreOptions = {}): SqliteStore {
    const inMemory = file === ':memory:' || file === '';
    if (!inMemory && !file.startsWith('file:')) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const db = new Database(file);
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
      if (!inMemory) {
        const mode = db.pragma('journal_mode = WAL', { simple: true });
        if (String(mode).toLowerCase() !== 'wal') {
          throw new Error(`SqliteStore: cannot use WAL (journal_mode ${String(mode)})`);
        }
      }
      db.pragma(`synchronous = ${opts.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
      db.pragma('foreign_keys = OFF');
      migrate(db);
      return new SqliteStore(db, file);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  private constructor(db: Database.Database, file: string) {
    this.db = db;
    this.cache = new RecordCache();
    this.path = file;

    this.sBegin = db.prepare('BEGIN IMMEDIATE');
    this.sCommit = db.prepare('COMMIT');
    this.sRollback = db.prepare('ROLLBACK');

    this.sAccount = rawRows(db, `SELECT ${ACCOUNT_COLS} FROM accounts WHERE uin = ?`);
    this.sAccountByName = rawRows(db, `SELECT ${ACCOUNT_COLS} FROM accounts WHERE user_name = ?`);
    this.sAccountsAfter = rawRows(db, `SELECT ${ACCOUNT_COLS} FROM accounts WHERE uin > ? ORDER BY uin LIMIT CAST(? AS INTEGER)`);
    this.sSession = rawRows(db, `SELECT ${SESSION_COLS} FROM sessions WHERE sid = ?`);
    this.sDevice = rawRows(db, `SELECT ${DEVICE_COLS} FROM devices WHERE uin = ? AND device_id = ?`);
    this.sDevicesOf = rawRows(db, `SELECT ${DEVICE_COLS} FROM devices WHERE uin = ? ORDER BY rowid`);
    this.sDedup = rawRows(
      db,
      'SELECT uin, client_msg_id, msg_id, local_id, created_at FROM dedup WHERE uin = ? AND client_msg_id = ?',
    );
    this.sGroup = rawRows(db, `SELECT ${GROUP_COLS} FROM "groups" WHERE user_name = ?`);
    this.sGroupMembers = db.prepare<[string], string>('SELECT members FROM "groups" WHERE user_name = ?').pluck();
    // `LIMIT CAST(? AS INTEGER)`, not `LIMIT ?`: with a bare bound LIMIT this
    // SQLite build runs such a query about three times slower (measured).
    this.sGroupsOf = rawRows(
      db,
      `SELECT g.user_name, g.topic, g.owner_uin, g.members, g.seq, g.created_at
       FROM group_members m JOIN "groups" g ON g.user_name = m.user_name
       WHERE m.uin = ? ORDER BY m.ord LIMIT CAST(? AS INTEGER)`,
    );
    this.sRemarksOf = rawRows(
      db,
      'SELECT uin, target, remark_name FROM remarks WHERE uin = ? ORDER BY rowid LIMIT CAST(? AS INTEGER)',
    );
    this.sItems = rawRows(
      db,
      `SELECT seq, created_at, data FROM items
       WHERE uin = ? AND category = ? AND seq > ? ORDER BY seq LIMIT CAST(? AS INTEGER)`,
    );
    this.sLastSeq = db
      .prepare<[number, number], number | null>('SELECT max(seq) FROM items WHERE uin = ? AND category = ?')
      .pluck();
    this.sMeta = db.prepare<[string], number>('SELECT value FROM meta WHERE name = ?').pluck();

    this.sPutAccount = db.prepare(
      `INSERT INTO accounts (${ACCOUNT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (uin) DO UPDATE SET user_name = excluded.user_name, nick_name = excluded.nick_name,
         password_hash = excluded.password_hash, created_at = excluded.created_at, seq = excluded.seq,
         floor1 = excluded.floor1, floor2 = excluded.floor2, count1 = excluded.count1, count2 = excluded.count2,
         last_pruned_at = excluded.last_pruned_at`,
    );
    this.sPutSession = db.prepare(
      `INSERT INTO sessions (${SESSION_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (sid) DO UPDATE SET uin = excluded.uin, device_id = excluded.device_id, state = excluded.state,
         skey = excluded.skey, prev_skey = excluded.prev_skey, skey_at = excluded.skey_at,
         created_at = excluded.created_at, login_id = excluded.login_id`,
    );
    this.sPutDevice = db.prepare(
      `INSERT INTO devices (${DEVICE_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (uin, device_id) DO UPDATE SET sid = excluded.sid, acked1 = excluded.acked1,
         acked2 = excluded.acked2, created_at = excluded.created_at, last_seen_at = excluded.last_seen_at,
         prev_sid = excluded.prev_sid`,
    );
    this.sPutDedup = db.prepare(
      `INSERT INTO dedup (uin, client_msg_id, msg_id, local_id, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (uin, client_msg_id) DO UPDATE SET msg_id = excluded.msg_id, local_id = excluded.local_id,
         created_at = excluded.created_at`,
    );
    this.sPutGroup = db.prepare(
      `INSERT INTO "groups" (${GROUP_COLS}) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (user_name) DO UPDATE SET topic = excluded.topic, owner_uin = excluded.owner_uin,
         members = excluded.members, seq = excluded.seq, created_at = excluded.created_at`,
    );
    this.sJoinGroup = db.prepare(
      `INSERT INTO group_members (uin, user_name, ord)
       VALUES (?, ?, (SELECT coalesce(max(ord), 0) + 1 FROM group_members WHERE uin = ?))
       ON CONFLICT (uin, user_name) DO NOTHING`,
    );
    this.sLeaveGroup = db.prepare('DELETE FROM group_members WHERE uin = ? AND user_name = ?');
    this.sPutRemark = db.prepare(
      `INSERT INTO remarks (uin, target, remark_name) VALUES (?, ?, ?)
       ON CONFLICT (uin, target) DO UPDATE SET remark_name = excluded.remark_name`,
    );
    // Appends only after the newest retained item: 0 changes means out of order.
    this.sAppendItem = db.prepare(
      `INSERT INTO items (uin, category, seq, created_at, data)
       SELECT ?, ?, ?, ?, ?
       WHERE NOT EXISTS (SELECT 1 FROM items WHERE uin = ? AND category = ? AND seq >= ?)`,
    );
    this.sPruneItems = db.prepare('DELETE FROM items WHERE uin = ? AND category = ? AND seq <= ?');
    this.sPruneDedup = db.prepare('DELETE FROM dedup WHERE uin = ? AND created_at < ?');
    this.sDeleteSession = db.prepare('DELETE FROM sessions WHERE sid = ?');
    this.sBumpAccount = db.prepare(
      'UPDATE accounts SET seq = ?, floor1 = ?, floor2 = ?, count1 = ?, count2 = ?, last_pruned_at = ? WHERE uin = ?',
    );
    this.sSetMeta = db.prepare(
      'INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
    );
  }

  /** A pragma's current value on this connection (diagnostics and tests). */
  pragma(name: string): unknown {
    return this.db.pragma(name, { simple: true });
  }

  /** True between begin and commit/rollback. */
  get inTransaction(): boolean {
    return this.db.inTransaction;
  }

  begin(): void {
    if (this.db.inTransaction) throw new Error('SqliteStore: nested transaction');
    this.sBegin.run();
  }

  commit(): void {
    this.assertTx();
    this.sCommit.run();
    this.commits++;
  }

  rollback(): void {
    this.assertTx();
    this.sRollback.run();
    this.cache.clear();
  }

  close(): void {
    if (!this.db.open) return;
    if (this.db.inTransaction) this.sRollback.run();
    this.db.close();
  }

  read<R extends Read>(r: R): ReadResult[R['kind']] {
    return this.readAny(r) as ReadResult[R['kind']];
  }

  private readAny(r: Read): ReadResult[Read['kind']] {
    const c = this.cache;
    switch (r.kind) {
      case 'account': {
        const hit = c.account(r.uin);
        if (hit) return hit;
        const row = this.sAccount.get(r.uin);
        const a = row && toAccount(row);
        if (a) c.putAccount(a);
        return a;
      }
      case 'accountByName': {
        const hit = c.accountByName(r.userName);
        if (hit) return hit;
        const row = this.sAccountByName.get(r.userName);
        const a = row && toAccount(row);
        if (a) c.putAccount(a);
        return a;
      }
      case 'accountsAfter':
        return this.sAccountsAfter.all(r.afterUin, r.limit).map(toAccount);
      case 'session': {
        const hit = c.session(r.sid);
        if (hit) return hit;
        const row = this.sSession.get(r.sid);
        const s = row && toSession(row);
        if (s) c.putSession(s);
        return s;
      }
      case 'device': {
        const hit = c.device(r.uin, r.deviceId);
        if (hit) return hit;
        const row = this.sDevice.get(r.uin, r.deviceId);
        const d = row && toDevice(row);
        if (d) c.putDevice(d);
        return d;
      }
      case 'devicesOf':
        return this.sDevicesOf.all(r.uin).map(toDevice);
      case 'dedup': {
        const row = this.sDedup.get(r.uin, r.clientMsgId);
        return row && toDedup(row);
      }
      case 'group': {
        const row = this.sGroup.get(r.userName);
        return row && toGroup(row);
      }
      case 'groupsOf':
        return this.sGroupsOf.all(r.uin, r.limit).map(toGroup);
      case 'remarksOf':
        return this.sRemarksOf.all(r.uin, r.limit).map(toRemark);
      case 'items': {
        const { uin, category } = r;
        return this.sItems
          .all(uin, category, r.afterSeq, r.limit)
          .map((row) => ({ uin, category, seq: row[0], createdAt: row[1], data: JSON.parse(row[2]) }) as LogItem);
      }
      case 'meta': {
        const hit = c.metaValue(r.name);
        if (hit !== undefined) return hit;
        const v = this.sMeta.get(r.name) ?? 0;
        c.putMeta(r.name, v);
        return v;
      }
    }
  }

  apply(writes: readonly Write[]): void {
    this.assertTx();
    for (const w of writes) this.applyOne(w);
  }

  private applyOne(w: Write): void {
    switch (w.kind) {
      case 'putAccount': {
        const a = w.account;
        // The hot path (a log append) changes only the counters: a narrow update
        // leaves the user-name index alone.
        const known = this.cache.account(a.uin);
        if (known && known.userName === a.userName && known.nickName === a.nickName && known.passwordHash === a.passwordHash && known.createdAt === a.createdAt) {
          this.sBumpAccount.run(a.seq, a.floor[1], a.floor[2], a.itemCount[1], a.itemCount[2], a.lastPrunedAt, a.uin);
          this.cache.putAccount(a);
          return;
        }
        this.sPutAccount.run(
          a.uin,
          a.userName,
          a.nickName,
          a.passwordHash,
          a.createdAt,
          a.seq,
          a.floor[1],
          a.floor[2],
          a.itemCount[1],
          a.itemCount[2],
          a.lastPrunedAt,
        );
        this.cache.putAccount(a);
        return;
      }
      case 'putSession': {
        const s = w.session;
        this.sPutSession.run(s.sid, s.uin, s.deviceId, s.state, s.skey, s.prevSkey, s.skeyAt, s.createdAt, s.loginId);
        this.cache.putSession(s);
        return;
      }
      case 'putDevice': {
        const d = w.device;
        this.sPutDevice.run(d.uin, d.deviceId, d.sid, d.acked[1], d.acked[2], d.createdAt, d.lastSeenAt, d.prevSid);
        this.cache.putDevice(d);
        return;
      }
      case 'putDedup': {
        const d = w.dedup;
        this.sPutDedup.run(d.uin, d.clientMsgId, d.msgId, d.localId, d.createdAt);
        return;
      }
      case 'putGroup': {
        const g = w.group;
        const members = JSON.stringify(g.members);
        const prevText = this.sGroupMembers.get(g.userName);
        this.sPutGroup.run(g.userName, g.topic, g.ownerUin, members, g.seq, g.createdAt);
        // The hot path (a group message bumps seq) leaves the members alone.
        if (prevText === members) return;
        // Membership follows the member list: a new member joins at the end of
        // its groupsOf order; a removed one no longer lists the group.
        // (MemoryStore never forgets a membership; v1 only ever adds members.)
        const prev: number[] = prevText === undefined ? [] : (JSON.parse(prevText) as number[]);
        for (const uin of g.members) if (!prev.includes(uin)) this.sJoinGroup.run(uin, g.userName, uin);
        for (const uin of prev) if (!g.members.includes(uin)) this.sLeaveGroup.run(uin, g.userName);
        return;
      }
      case 'putRemark': {
        const r = w.remark;
        this.sPutRemark.run(r.uin, r.target, r.remarkName);
        return;
      }
      case 'appendItem': {
        const it = w.item;
        const data = JSON.stringify(it.data);
        const info = this.sAppendItem.run(it.uin, it.category, it.seq, it.createdAt, data, it.uin, it.category, it.seq);
        if (info.changes === 0) {
          const last = this.sLastSeq.get(it.uin, it.category);
          throw new Error(`SqliteStore: append out of order (${it.seq} after ${String(last)})`);
        }
        return;
      }
      case 'pruneItems':
        this.sPruneItems.run(w.uin, w.category, w.throughSeq);
        return;
      case 'pruneDedup':
        this.sPruneDedup.run(w.uin, w.before);
        return;
      case 'deleteSession':
        this.sDeleteSession.run(w.sid);
        this.cache.deleteSession(w.sid);
        return;
      case 'setMeta':
        this.sSetMeta.run(w.name, w.value);
        this.cache.putMeta(w.name, w.value);
        return;
    }
  }

  private assertTx(): void {
    if (!this.db.inTransaction) throw new Error('SqliteStore: no transaction');
  }
}

/** A read statement returning rows as arrays; the caller's field type gives P and R. */
function rawRows<P extends unknown[], R>(db: Database.Database, sql: string): Database.Statement<P, R> {
  return db.prepare<P, R>(sql).raw(true);
}

/** Creates the schema in a fresh file; refuses a file written by a newer version. */
function migrate(db: Database.Database): void {
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
    // Later versions: `if (now < 2) db.exec(MIGRATE_1_TO_2);` and so on.
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  }
}

function toAccount(r: AccountRow): Account {
  return {
    uin: r[0],
    userName: r[1],
    nickName: r[2],
    passwordHash: r[3],
    createdAt: r[4],
    seq: r[5],
    floor: { 1: r[6], 2: r[7] },
    itemCount: { 1: r[8], 2: r[9] },
    lastPrunedAt: r[10],
  };
}

function toSession(r: SessionRow): Session {
  return {
    sid: r[0],
    uin: r[1],
    deviceId: r[2],
    state: r[3] as SessionState,
    skey: r[4],
    prevSkey: r[5],
    skeyAt: r[6],
    createdAt: r[7],
    loginId: r[8],
  };
}

function toDevice(r: DeviceRow): Device {
  return { uin: r[0], deviceId: r[1], sid: r[2], acked: { 1: r[3], 2: r[4] }, createdAt: r[5], lastSeenAt: r[6], prevSid: r[7] };
}

function toDedup(r: DedupRow): DedupRecord {
  return { uin: r[0], clientMsgId: r[1], msgId: r[2], localId: r[3], createdAt: r[4] };
}

function toGroup(r: GroupRow): Group {
  return {
    userName: r[0],
    topic: r[1],
    ownerUin: r[2],
    members: JSON.parse(r[3]) as number[],
    seq: r[4],
    createdAt: r[5],
  };
}

function toRemark(r: RemarkRow): Remark {
  return { uin: r[0], target: r[1], remarkName: r[2] };
}
