// An in-memory store with a crash model: what was committed survives a crash,
// nothing else. Writes apply in place and push an undo step; commit forgets
// the undo log, rollback and crash replay it backwards, and an apply that
// throws replays it back to where that apply began (a savepoint).
//
// Run as synchronous NORMAL (keepUnsynced), it also models a power cut: the
// last commits stay "unsynced", their undo logs kept, until later ones push
// them out; powerLoss replays them backwards, and the store, reopened, fences
// its identities as SqliteStore does after such a shutdown (identity-fence.ts).
import type { Account, DedupRecord, Device, Group, MetaName, Remark, Session } from '../core/model.ts';
import { deepFreeze } from './deep-freeze.ts';
import { fenceIdentities } from './identity-fence.ts';
import { indexMembers, peersAfter, remarkedAfter, roomsAfter } from './memory-contacts.ts';
import { firstAbove, ItemLog } from './memory-item-log.ts';
import { MemoryMediaTable, logHasMedia, logMedia } from './memory-media.ts';
import type { Store } from './store.ts';
import type { Read, ReadResult, Write } from './store-ops.ts';

/** A commit that a power cut can still take back: its undo log, and its writes (for who asks what was lost). */
interface UnsyncedCommit {
  undo: Array<() => void>;
  writes: Write[];
}

export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  private accounts = new Map<number, Account>();
  /** Every account's uin, ascending (accountsAfter walks it). */
  private readonly uins: number[] = [];
  private uinByName = new Map<string, number>();
  private sessions = new Map<string, Session>();
  private devices = new Map<number, Map<string, Device>>();
  private dedups = new Map<number, Map<string, DedupRecord>>();
  private groups = new Map<string, Group>();
  private groupsByMember = new Map<number, string[]>();
  private remarks = new Map<number, Map<string, Remark>>();
  /** Per account, the accounts it sent a direct message to. */
  private peers = new Map<number, Set<number>>();
  /** Per account, its logs indexed by category. */
  private logs = new Map<number, ItemLog[]>();
  private meta = new Map<MetaName, number>();
  private media = new MemoryMediaTable();
  private undo: Array<() => void> = [];
  /** Logs pruned in the open transaction: only they may need compacting. */
  private readonly pruned = new Set<ItemLog>();
  private inTx = false;
  private closed = false;
  /** synchronous NORMAL: how many of the last commits a power cut can take; 0 (FULL): none. */
  private unsyncedWindow = 0;
  /** The commits a power cut can take, oldest first. */
  private unsynced: UnsyncedCommit[] = [];
  /** The open transaction's writes, kept only under NORMAL. */
  private txWrites: Write[] = [];
  /** Crashed since the last open: under NORMAL, the next open fences. */
  private unclean = false;
  /** Commits so far: the simulation reports it, tests assert group commit with it. */
  commits = 0;
  private readonly freeze: boolean;

  /**
   * `freeze` makes every stored record immutable, so that an in-place edit by
   * the core (which would bypass the crash model) throws. Tests turn it on,
   * and so does the simulation unless a sweep asks for speed (sim/sim-store.ts);
   * it costs about a microsecond per record.
   */
  constructor(opts: { freeze?: boolean } = {}) {
    this.freeze = opts.freeze ?? false;
  }

  begin(): void {
    this.assertOpen();
    if (this.inTx) throw new Error('MemoryStore: nested transaction');
    this.inTx = true;
  }

  commit(): void {
    this.assertTx();
    if (this.unsyncedWindow > 0) {
      this.unsynced.push({ undo: this.undo, writes: this.txWrites });
      if (this.unsynced.length > this.unsyncedWindow) this.unsynced.shift();
    }
    this.undo = [];
    this.txWrites = [];
    this.inTx = false;
    this.commits++;
    // An unsynced commit's undo may need the pruned items back: compaction waits until none is left.
    if (this.unsyncedWindow === 0) {
      for (const log of this.pruned) log.compact();
      this.pruned.clear();
    }
  }

  rollback(): void {
    this.assertTx();
    for (let i = this.undo.length - 1; i >= 0; i--) this.undo[i]!();
    this.undo = [];
    this.txWrites = [];
    if (this.unsyncedWindow === 0) this.pruned.clear();
    this.inTx = false;
  }

  /** A crash: everything since the last commit is gone; committed state stays. */
  crash(): void {
    if (this.inTx) this.rollback();
    this.unclean = true;
  }

  close(): void {
    if (this.inTx) this.rollback();
    this.closed = true;
  }

  /**
   * Reopen after close or crash: the "disk" is this object. Under NORMAL,
   * after a crash, the identities are fenced first (identity-fence.ts), and
   * that fence is synced at once, as a real store would make sure of.
   */
  reopen(): this {
    this.closed = false;
    if (this.unclean && this.unsyncedWindow > 0) {
      fenceIdentities(this);
      this.unsynced = [];
    }
    this.unclean = false;
    return this;
  }

  /**
   * synchronous NORMAL from now on: the last `commits` commits (at least 1)
   * can be lost to a power cut. What was committed before is on disk.
   */
  keepUnsynced(commits: number): void {
    if (!(commits >= 1)) throw new RangeError('MemoryStore: keepUnsynced takes at least 1 commit');
    this.unsyncedWindow = Math.floor(commits);
    this.unsynced = [];
  }

  /**
   * A power cut, after a crash: the last `commits` unsynced commits are
   * undone, newest first. Returns their writes, oldest first. What is left
   * reached the disk.
   */
  powerLoss(commits: number): Write[][] {
    if (this.inTx) throw new Error('MemoryStore: a power loss strikes a crashed store (crash first)');
    const lost = this.unsynced.splice(Math.max(0, this.unsynced.length - Math.max(0, Math.floor(commits))));
    for (let c = lost.length - 1; c >= 0; c--) {
      const undo = lost[c]!.undo;
      for (let i = undo.length - 1; i >= 0; i--) undo[i]!();
    }
    this.unsynced = [];
    this.unclean = true;
    return lost.map((c) => c.writes);
  }

  read<R extends Read>(r: R): ReadResult[R['kind']] {
    this.assertOpen();
    return this.readAny(r) as ReadResult[R['kind']];
  }

  private readAny(r: Read): ReadResult[Read['kind']] {
    switch (r.kind) {
      case 'account':
        return this.accounts.get(r.uin);
      case 'accountByName': {
        const uin = this.uinByName.get(r.userName);
        return uin === undefined ? undefined : this.accounts.get(uin);
      }
      case 'accountsAfter': {
        const from = firstAbove(this.uins, r.afterUin);
        return this.uins.slice(from, from + r.limit).map((uin) => this.accounts.get(uin)!);
      }
      case 'session':
        return this.sessions.get(r.sid);
      case 'device':
        return this.devices.get(r.uin)?.get(r.deviceId);
      case 'devicesOf':
        return [...(this.devices.get(r.uin)?.values() ?? [])];
      case 'dedup':
        return this.dedups.get(r.uin)?.get(r.clientMsgId);
      case 'group':
        return this.groups.get(r.userName);
      case 'groupsOf': {
        const names = this.groupsByMember.get(r.uin) ?? [];
        return names.slice(0, r.limit).map((n) => this.groups.get(n)!);
      }
      case 'remarksOf':
        return [...(this.remarks.get(r.uin)?.values() ?? [])].slice(0, r.limit);
      case 'remark':
        return this.remarks.get(r.uin)?.get(r.target);
      case 'roomsAfter':
        return roomsAfter(this.groupsByMember.get(r.uin), this.groups, r.afterId, r.limit);
      case 'peersAfter':
        return peersAfter(this.peers.get(r.uin), r.afterUin, r.limit);
      case 'remarkedAfter':
        return remarkedAfter(this.remarks.get(r.uin), this.uinByName, r.afterUin, r.limit);
      case 'peers':
        return { aToB: this.peers.get(r.a)?.has(r.b) ?? false, bToA: this.peers.get(r.b)?.has(r.a) ?? false };
      case 'inRoomOf':
        return (this.groupsByMember.get(r.member) ?? []).some((n) => this.groups.get(n)!.ownerUin === r.owner);
      case 'items':
        return this.logs.get(r.uin)?.[r.category]?.after(r.afterSeq, r.limit) ?? [];
      case 'meta':
        return this.meta.get(r.name) ?? 0;
      case 'media':
        return this.media.get(r.mediaId);
      case 'mediaByClient':
        return this.media.byClientMediaId(r.uin, r.clientMediaId);
      case 'mediaBytes':
        return this.media.storedBytes(r.uin);
      case 'logMedia':
        return logMedia(this.logs.get(r.uin)?.[1]?.after(0, Infinity) ?? [], r.msgId);
      case 'logHasMedia':
        return logHasMedia(this.logs.get(r.uin)?.[1]?.after(0, Infinity) ?? [], r.mediaId);
    }
  }

  /** All of `writes` or, if one throws, none of them: the transaction stays open with what came before. */
  apply(writes: readonly Write[]): void {
    this.assertTx();
    const mark = this.undo.length;
    try {
      for (const w of writes) this.applyOne(w);
    } catch (e) {
      for (let i = this.undo.length - 1; i >= mark; i--) this.undo[i]!();
      this.undo.length = mark;
      throw e;
    }
    if (this.unsyncedWindow > 0) this.txWrites.push(...writes);
  }

  private applyOne(w: Write): void {
    switch (w.kind) {
      case 'putAccount': {
        const a = this.frozen(w.account);
        const prev = this.accounts.get(a.uin);
        const owner = this.uinByName.get(a.userName);
        if (owner !== undefined && owner !== a.uin) throw new Error(`MemoryStore: user name ${a.userName} is taken`);
        this.accounts.set(a.uin, a);
        this.uinByName.set(a.userName, a.uin);
        const at = prev ? -1 : firstAbove(this.uins, a.uin);
        if (at >= 0) this.uins.splice(at, 0, a.uin);
        const renamedFrom = prev && prev.userName !== a.userName ? prev.userName : undefined;
        if (renamedFrom !== undefined) this.uinByName.delete(renamedFrom);
        this.undo.push(() => {
          if (prev) this.accounts.set(a.uin, prev);
          else {
            this.accounts.delete(a.uin);
            this.uins.splice(at, 1);
          }
          if (owner === undefined) this.uinByName.delete(a.userName);
          if (renamedFrom !== undefined) this.uinByName.set(renamedFrom, a.uin);
        });
        return;
      }
      case 'putSession': {
        const s = this.frozen(w.session);
        this.undoableSet(this.sessions, s.sid, s);
        return;
      }
      case 'deleteSession': {
        const prev = this.sessions.get(w.sid);
        if (!prev) return;
        this.sessions.delete(w.sid);
        this.undo.push(() => void this.sessions.set(w.sid, prev));
        return;
      }
      case 'putDevice': {
        const d = this.frozen(w.device);
        this.undoableSet(inner(this.devices, d.uin), d.deviceId, d);
        return;
      }
      case 'deleteDevice': {
        const m = this.devices.get(w.uin);
        const prev = m?.get(w.deviceId);
        if (!m || !prev) return;
        // Rebuilt rather than re-set on undo: devicesOf answers in insertion order.
        const before = [...m.entries()];
        m.delete(w.deviceId);
        this.undo.push(() => {
          m.clear();
          for (const [k, v] of before) m.set(k, v);
        });
        return;
      }
      case 'putPeer': {
        let set = this.peers.get(w.uin);
        if (!set) this.peers.set(w.uin, (set = new Set()));
        if (set.has(w.peer)) return;
        const s = set;
        s.add(w.peer);
        this.undo.push(() => void s.delete(w.peer));
        return;
      }
      case 'putDedup': {
        const d = this.frozen(w.dedup);
        this.undoableSet(inner(this.dedups, d.uin), d.clientMsgId, d);
        return;
      }
      case 'putGroup': {
        const g = this.frozen(w.group);
        const prev = this.groups.get(g.userName);
        this.undoableSet(this.groups, g.userName, g);
        indexMembers(this.groupsByMember, g, prev, this.undo);
        return;
      }
      case 'putRemark': {
        const r = this.frozen(w.remark);
        this.undoableSet(inner(this.remarks, r.uin), r.target, r);
        return;
      }
      case 'appendItem': {
        let logs = this.logs.get(w.item.uin);
        if (!logs) this.logs.set(w.item.uin, (logs = []));
        let log = logs[w.item.category];
        if (!log) logs[w.item.category] = log = new ItemLog();
        const last = log.items.length > log.start ? log.items[log.items.length - 1] : undefined;
        if (last && last.seq >= w.item.seq) {
          throw new Error(`MemoryStore: append out of order (${w.item.seq} after ${last.seq})`);
        }
        const l = log;
        l.items.push(this.frozen(w.item));
        this.undo.push(() => void l.items.pop());
        return;
      }
      case 'pruneItems': {
        const log = this.logs.get(w.uin)?.[w.category];
        if (!log) return;
        const before = log.start;
        while (log.start < log.items.length && log.items[log.start]!.seq <= w.throughSeq) log.start++;
        this.pruned.add(log);
        this.undo.push(() => {
          log.start = before;
        });
        return;
      }
      case 'pruneDedup': {
        const m = this.dedups.get(w.uin);
        if (!m) return;
        const before = [...m.values()];
        const removed = before.filter((rec) => rec.createdAt < w.before);
        if (removed.length === 0) return;
        for (const rec of removed) m.delete(rec.clientMsgId);
        this.undo.push(() => {
          m.clear();
          for (const rec of before) m.set(rec.clientMsgId, rec);
        });
        return;
      }
      case 'putMedia':
        return this.media.put(this.frozen(w.media), this.undo);
      case 'setMeta': {
        const prev = this.meta.get(w.name);
        this.meta.set(w.name, w.value);
        this.undo.push(() => {
          if (prev === undefined) this.meta.delete(w.name);
          else this.meta.set(w.name, prev);
        });
        return;
      }
    }
  }

  private frozen<T extends object>(r: T): T {
    return this.freeze ? deepFreeze(r) : r;
  }

  private undoableSet<K, V>(map: Map<K, V>, key: K, value: V): void {
    const had = map.has(key);
    const prev = map.get(key);
    map.set(key, value);
    this.undo.push(() => {
      if (had) map.set(key, prev as V);
      else map.delete(key);
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('MemoryStore: closed');
  }

  private assertTx(): void {
    this.assertOpen();
    if (!this.inTx) throw new Error('MemoryStore: no transaction');
  }
}

function inner<K, K2, V>(outer: Map<K, Map<K2, V>>, key: K): Map<K2, V> {
  let m = outer.get(key);
  if (!m) outer.set(key, (m = new Map()));
  return m;
}
