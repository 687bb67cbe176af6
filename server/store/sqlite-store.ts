// A durable store over SQLite (better-sqlite3, synchronous). Same contract as
// MemoryStore: reads inside a transaction see its earlier writes, nothing is
// durable until commit returns (WAL + synchronous=FULL by default), and a
// crash or rollback drops everything since begin.
import { putMedia } from './sqlite-media.ts';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { fenceIdentities } from './identity-fence.ts';
import { RecordCache } from './record-cache.ts';
import { retiredSidsColumn } from './sqlite-rows.ts';
import { readRecord } from './sqlite-reads.ts';
import { lockExclusively, StoreLockedError } from './file-lock.ts';
import { migrate } from './sqlite-schema.ts';
import { prepareStatements, type SqliteStatements } from './sqlite-statements.ts';
import type { Store } from './store.ts';
import type { Read, ReadResult, Write } from './store-ops.ts';

export interface SqliteStoreOptions {
  /** FULL (default): a commit survives power loss. NORMAL: it survives a process crash. */
  synchronous?: 'FULL' | 'NORMAL';
  /** How long to wait for another connection's lock, in ms (default 5000). */
  busyTimeoutMs?: number;
  /**
   * Hold the file for this connection alone until close (default true): a
   * second server on the same file would hand out the same MsgIds, so it
   * must refuse to start. SQLite's own lock does it (locking_mode
   * EXCLUSIVE, taken by a write at open): the OS drops it when the process
   * dies, so no stale lock outlives a crash.
   */
  exclusive?: boolean;
}

export { StoreLockedError };

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/** The meta row that says a connection under NORMAL has the file open (1) or closed it cleanly (0). */
const OPEN_UNDER_NORMAL = 'openUnderNormal';

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  /** Commits so far, like MemoryStore.commits. */
  commits = 0;
  readonly path: string;
  private readonly db: Database.Database;
  /** The hot records, written through; emptied by a rollback. */
  private readonly cache: RecordCache;
  private readonly st: SqliteStatements;

  /** Opens (and creates, or migrates) the store at `file`; ':memory:' for a throwaway one. */
  static open(file: string, opts: SqliteStoreOptions = {}): SqliteStore {
    const inMemory = file === ':memory:' || file === '';
    if (!inMemory && !file.startsWith('file:')) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const db = new Database(file);
    try {
      if (!inMemory && opts.exclusive !== false) lockExclusively(db, file);
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS))}`);
      if (!inMemory) {
        const mode = db.pragma('journal_mode = WAL', { simple: true });
        if (String(mode).toLowerCase() !== 'wal') {
          throw new Error(`SqliteStore: cannot use WAL (journal_mode ${String(mode)})`);
        }
      }
      db.pragma(`synchronous = ${opts.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
      db.pragma('foreign_keys = OFF');
      // Each apply runs in a savepoint, whose sub-journal would otherwise be a temp file (measured: ~20% of a send).
      db.pragma('temp_store = MEMORY');
      migrate(db);
      const store = new SqliteStore(db, file);
      if (!inMemory && opts.synchronous === 'NORMAL') store.recoverUnderNormal();
      return store;
    } catch (e) {
      db.close();
      throw e;
    }
  }

  private constructor(db: Database.Database, file: string) {
    this.db = db;
    this.cache = new RecordCache();
    this.path = file;
    this.st = prepareStatements(db);
  }

  /**
   * Under NORMAL a power cut can take the last commits, answered though they
   * were; a process that stops without close() may have met one. So an open
   * under NORMAL after such a stop fences the identities first
   * (identity-fence.ts), then marks the file open until close() marks it
   * clean, both synced as FULL would. (An open under FULL does not look: a
   * server that leaves NORMAL after a power cut should open under NORMAL once.)
   */
  private recoverUnderNormal(): void {
    const marked = this.db.prepare<[string], number>('SELECT value FROM meta WHERE name = ?').pluck();
    const mark = this.db.prepare<[string, number]>('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
    this.db.pragma('synchronous = FULL');
    try {
      if (marked.get(OPEN_UNDER_NORMAL) === 1) fenceIdentities(this);
      mark.run(OPEN_UNDER_NORMAL, 1);
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
    this.markClean = () => {
      this.db.pragma('synchronous = FULL');
      mark.run(OPEN_UNDER_NORMAL, 0);
    };
  }

  /** Set under NORMAL: what close() does last. */
  private markClean: (() => void) | undefined;

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
    this.st.begin.run();
  }

  commit(): void {
    this.assertTx();
    try {
      this.st.commit.run();
    } catch (e) {
      // A COMMIT can fail after SQLite rolled the transaction back itself: then
      // the cache holds records the database never kept.
      if (!this.db.inTransaction) this.cache.clear();
      throw e;
    }
    this.commits++;
  }

  rollback(): void {
    this.assertTx();
    try {
      this.st.rollback.run();
    } finally {
      // Even a ROLLBACK that failed leaves nothing the cache may trust.
      this.cache.clear();
    }
  }

  close(): void {
    if (!this.db.open) return;
    try {
      if (this.db.inTransaction) this.st.rollback.run();
      this.markClean?.();
    } finally {
      this.db.close();
    }
  }

  read<R extends Read>(r: R): ReadResult[R['kind']] {
    return readRecord(this.st, this.cache, r) as ReadResult[R['kind']];
  }

  /** All of `writes` or, if one throws, none of them: the transaction stays open with what came before. */
  apply(writes: readonly Write[]): void {
    this.assertTx();
    if (writes.length === 0) return;
    this.st.savepoint.run();
    try {
      for (const w of writes) this.applyOne(w);
    } catch (e) {
      // The cache may hold records of the undone writes.
      this.cache.clear();
      if (this.db.inTransaction) {
        try {
          this.st.rollbackToSavepoint.run();
          this.st.release.run();
        } catch {
          // This apply cannot be undone alone: undo the whole transaction, so that no part of it commits.
          if (this.db.inTransaction) this.st.rollback.run();
        }
      }
      throw e;
    }
    this.st.release.run();
  }

  private applyOne(w: Write): void {
    switch (w.kind) {
      case 'putAccount': {
        const a = w.account;
        // The hot path (a log append) changes only the counters: a narrow update
        // leaves the user-name index alone.
        const known = this.cache.account(a.uin);
        if (known && known.userName === a.userName && known.nickName === a.nickName && known.passwordHash === a.passwordHash && known.createdAt === a.createdAt) {
          this.st.bumpAccount.run(a.seq, a.floor[1], a.floor[2], a.itemCount[1], a.itemCount[2], a.lastPrunedAt, a.lastEvictedAt, a.uin);
          this.cache.putAccount(a);
          return;
        }
        this.st.putAccount.run(
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
          a.lastEvictedAt,
        );
        this.cache.putAccount(a);
        return;
      }
      case 'putSession': {
        const s = w.session;
        this.st.putSession.run(s.sid, s.uin, s.deviceId, s.state, s.skey, s.prevSkey, s.skeyAt, s.createdAt, s.loginId);
        this.cache.putSession(s);
        return;
      }
      case 'putDevice': {
        const d = w.device;
        this.st.putDevice.run(d.uin, d.deviceId, d.sid, d.acked[1], d.acked[2], d.createdAt, d.lastSeenAt, d.prevSid, retiredSidsColumn(d));
        this.cache.putDevice(d);
        return;
      }
      case 'deleteDevice':
        this.st.deleteDevice.run(w.uin, w.deviceId);
        this.cache.deleteDevice(w.uin, w.deviceId);
        return;
      case 'putPeer':
        this.st.putPeer.run(w.uin, w.peer);
        this.cache.putPeer(w.uin, w.peer);
        return;
      case 'putDedup': {
        const d = w.dedup;
        this.st.putDedup.run(d.uin, d.clientMsgId, d.msgId, d.localId, d.createdAt);
        return;
      }
      case 'putGroup': {
        const g = w.group;
        const members = JSON.stringify(g.members);
        const prevText = this.st.groupMembers.get(g.userName);
        this.st.putGroup.run(g.userName, g.topic, g.ownerUin, members, g.seq, g.createdAt);
        // The hot path (a group message bumps seq) leaves the members alone.
        if (prevText === members) return;
        // Membership follows the member list: a new member joins at the end of
        // its groupsOf order; a removed one no longer lists the group (as in MemoryStore).
        const prev: number[] = prevText === undefined ? [] : (JSON.parse(prevText) as number[]);
        for (const uin of g.members) if (!prev.includes(uin)) this.st.joinGroup.run(uin, g.userName, uin);
        for (const uin of prev) if (!g.members.includes(uin)) this.st.leaveGroup.run(uin, g.userName);
        return;
      }
      case 'putRemark': {
        const r = w.remark;
        this.st.putRemark.run(r.uin, r.target, r.remarkName, r.pinned ? 1 : 0);
        return;
      }
      case 'appendItem': {
        const it = w.item;
        const data = JSON.stringify(it.data);
        const info = this.st.appendItem.run(it.uin, it.category, it.seq, it.createdAt, data, it.uin, it.category, it.seq);
        if (info.changes === 0) {
          const last = this.st.lastSeq.get(it.uin, it.category);
          throw new Error(`SqliteStore: append out of order (${it.seq} after ${String(last)})`);
        }
        this.cache.tails.append(it);
        return;
      }
      case 'pruneItems':
        this.st.pruneItems.run(w.uin, w.category, w.throughSeq);
        this.cache.tails.prune(w.uin, w.category, w.throughSeq);
        return;
      case 'pruneDedup':
        this.st.pruneDedup.run(w.uin, w.before);
        return;
      case 'deleteSession':
        this.st.deleteSession.run(w.sid);
        this.cache.deleteSession(w.sid);
        return;
      case 'putMedia':
        putMedia(this.st.media, w.media);
        return;
      case 'setMeta':
        this.st.setMeta.run(w.name, w.value);
        this.cache.putMeta(w.name, w.value);
        return;
    }
  }

  private assertTx(): void {
    if (!this.db.inTransaction) throw new Error('SqliteStore: no transaction');
  }
}
