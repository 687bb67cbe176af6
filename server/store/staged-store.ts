// The main thread's side of the storage thread: reads from its own SQLite
// connection (WAL lets it read while the storage thread writes), seen
// through the overlay of writes not yet committed; writes are staged into
// numbered batches that the driver posts to the storage thread. Nothing here
// commits: a batch is durable when the storage thread says so, and only then
// may its answers leave (server/node/pipelined-runner.ts).
import { isMediaRead } from './sqlite-media.ts';
import Database from 'better-sqlite3';
import type { LogItem } from '../core/model.ts';
import { PendingOverlay } from './pending-overlay.ts';
import { isContactRead, readContacts, type StagedReaders } from './staged-contact-reads.ts';
import { RecordCache } from './record-cache.ts';
import { readRecord } from './sqlite-reads.ts';
import { prepareStatements, type SqliteStatements } from './sqlite-statements.ts';
import type { Read, ReadResult, Write } from './store-ops.ts';

export interface SealedBatch {
  id: number;
  writes: Write[];
}

export class StagedStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly st: SqliteStatements;
  private readonly cache = new RecordCache();
  readonly overlay = new PendingOverlay();
  private nextBatch = 1;
  private open: Write[] = [];
  /** Writes per sealed batch not yet committed, oldest first. */
  private readonly sealed: Array<{ id: number; writes: number }> = [];

  /** Opens a reading connection on a database the storage thread has created (and migrated). */
  constructor(file: string) {
    this.db = new Database(file, { fileMustExist: true });
    try {
      this.db.pragma('query_only = ON');
      this.st = prepareStatements(this.db);
    } catch (e) {
      this.db.close();
      throw e;
    }
  }

  /** Batches sealed and not yet known committed. */
  get inFlight(): number {
    return this.sealed.length;
  }

  /** Writes staged and not yet known committed. */
  get pendingWrites(): number {
    return this.overlay.writes;
  }

  /** One command's writes, into the open batch: its later reads, and everyone's, see them. */
  stage(writes: readonly Write[]): void {
    if (writes.length === 0) return;
    this.overlay.stage(this.nextBatch, writes, (name) => this.base({ kind: 'group', userName: name })?.members ?? []);
    for (const w of writes) {
      this.open.push(w);
      this.writeThrough(w);
    }
  }

  /** Closes the open batch for the storage thread; undefined if it holds nothing. */
  seal(): SealedBatch | undefined {
    if (this.open.length === 0) return undefined;
    const batch = { id: this.nextBatch++, writes: coalesceCounters(this.open) };
    // The overlay counts every staged write, coalesced or not.
    this.sealed.push({ id: batch.id, writes: this.open.length });
    this.open = [];
    return batch;
  }

  /** The storage thread committed batch `id` (and, in order, every one before it). */
  committed(id: number): void {
    let writes = 0;
    while (this.sealed.length > 0 && this.sealed[0]!.id <= id) writes += this.sealed.shift()!.writes;
    this.overlay.committedThrough(id, writes);
  }

  /** A commit failed: every staged write, sealed or open, is dropped with what was read through it. */
  failed(): void {
    this.overlay.clear();
    this.cache.clear();
    this.sealed.length = 0;
    this.open = [];
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  read<R extends Read>(r: R): ReadResult[R['kind']] {
    return this.readAny(r) as ReadResult[R['kind']];
  }

  /** What the contact reads (staged-contact-reads.ts) read through. */
  private readonly readers: StagedReaders = {
    base: (r) => this.base(r),
    read: (r) => this.read(r),
    roomsOfOwnerWith: (member, owner, limit) => this.st.roomsOfOwnerWith.all(member, owner, limit),
  };

  private base<R extends Read>(r: R): ReadResult[R['kind']] {
    return readRecord(this.st, this.cache, r, this.mayLearn(r)) as ReadResult[R['kind']];
  }

  /**
   * Whether the database's answer is the whole truth, to be cached: not
   * while the overlay holds writes to the same log or peer link, which the
   * database may not have yet (the cache follows them by write-through).
   */
  private mayLearn(r: Read): boolean {
    const o = this.overlay;
    if (r.kind === 'items') return o.itemLogOf(r.uin, r.category) === undefined;
    if (r.kind === 'peers') return !o.hasPeer(r.a, r.b) && !o.hasPeer(r.b, r.a);
    return true;
  }

  private readAny(r: Read): ReadResult[Read['kind']] {
    const o = this.overlay;
    // Media records are answered only once committed (an upload awaits its record's commit), so the database answers them.
    if (o.empty || isMediaRead(r)) return this.base(r);
    if (isContactRead(r)) return readContacts(o, this.readers, r);
    switch (r.kind) {
      case 'account':
        return o.accounts.get(r.uin)?.value ?? this.base(r);
      case 'accountByName': {
        const e = o.uinByName.get(r.userName);
        return e ? o.accounts.get(e.value)?.value ?? this.base({ kind: 'account', uin: e.value }) : this.base(r);
      }
      case 'accountsAfter': {
        const byUin = new Map(this.base(r).map((a) => [a.uin, a]));
        for (const [uin, e] of o.accounts) if (uin > r.afterUin) byUin.set(uin, e.value);
        return [...byUin.values()].sort((a, b) => a.uin - b.uin).slice(0, r.limit);
      }
      case 'session': {
        const e = o.sessions.get(r.sid);
        return e ? (e.value ?? undefined) : this.base(r);
      }
      case 'device': {
        const e = o.devices.get(r.uin)?.get(r.deviceId);
        return e ? (e.value ?? undefined) : this.base(r);
      }
      case 'devicesOf': {
        const of = o.devices.get(r.uin);
        if (!of) return this.base(r);
        const out = [];
        for (const d of this.base(r)) {
          const e = of.get(d.deviceId);
          if (!e) out.push(d);
          else if (e.value && !e.moved) out.push(e.value);
        }
        const listed = new Set(out.map((d) => d.deviceId));
        for (const [id, e] of of) if (e.value && !listed.has(id)) out.push(e.value);
        return out;
      }
      case 'dedup': {
        const e = o.dedup.get(r.uin)?.get(r.clientMsgId);
        if (e) return e.value;
        const found = this.base(r);
        const floor = o.dedupFloor.get(r.uin);
        return found && floor && found.createdAt < floor.value ? undefined : found;
      }
      case 'group':
        return o.groups.get(r.userName)?.value ?? this.base(r);
      case 'groupsOf': {
        if (o.groups.size === 0) return this.base(r);
        // Fetch enough that the groups the overlay takes away cannot leave the page short.
        const asked = r.limit + o.groups.size;
        const fetched = this.base({ ...r, limit: asked });
        const out = [];
        const listed = new Set<string>();
        for (const g of fetched) {
          listed.add(g.userName);
          const now = o.groups.get(g.userName)?.value ?? g;
          if (now.members.includes(r.uin)) out.push(now);
        }
        // Memberships the database lacks come after its own, in the order joined; if the page was full they come later anyway.
        if (fetched.length < asked) {
          for (const j of o.joins.get(r.uin) ?? []) {
            const g = o.groups.get(j.value)?.value;
            if (g && !listed.has(j.value) && g.members.includes(r.uin)) {
              listed.add(j.value);
              out.push(g);
            }
          }
        }
        return out.slice(0, r.limit);
      }
      case 'remarksOf': {
        const of = o.remarks.get(r.uin);
        if (!of) return this.base(r);
        const fetched = this.base(r);
        const out = fetched.map((m) => of.get(m.target)?.value ?? m);
        if (fetched.length < r.limit) {
          const listed = new Set(fetched.map((m) => m.target));
          for (const [target, e] of of) if (!listed.has(target)) out.push(e.value);
        }
        return out.slice(0, r.limit);
      }
      case 'peers': {
        const aToB = o.hasPeer(r.a, r.b);
        const bToA = o.hasPeer(r.b, r.a);
        if (aToB && bToA) return { aToB, bToA };
        const b = this.base(r);
        return { aToB: aToB || b.aToB, bToA: bToA || b.bToA };
      }
      case 'items': {
        const log = o.itemLogOf(r.uin, r.category);
        if (!log) return this.base(r);
        const after = Math.max(r.afterSeq, log.floor?.value ?? -Infinity);
        const out: LogItem[] = this.base({ ...r, afterSeq: after });
        // The database may already hold some staged items (committed, not yet acknowledged here).
        let last = out.length > 0 ? out[out.length - 1]!.seq : after;
        for (const e of log.items) {
          if (out.length >= r.limit) break;
          if (e.value.seq > last) {
            out.push(e.value);
            last = e.value.seq;
          }
        }
        return out;
      }
      case 'meta':
        return o.meta.get(r.name)?.value ?? this.base(r);
    }
  }

  /** The cache of hot records follows every staged write, so it is current when the overlay lets go. */
  private writeThrough(w: Write): void {
    const c = this.cache;
    switch (w.kind) {
      case 'putAccount':
        return c.putAccount(w.account);
      case 'putSession':
        return c.putSession(w.session);
      case 'deleteSession':
        return c.deleteSession(w.sid);
      case 'putDevice':
        return c.putDevice(w.device);
      case 'deleteDevice':
        return c.deleteDevice(w.uin, w.deviceId);
      case 'setMeta':
        return c.putMeta(w.name, w.value);
      case 'putPeer':
        return c.putPeer(w.uin, w.peer);
      case 'appendItem':
        return c.tails.append(w.item);
      case 'pruneItems':
        return c.tails.prune(w.uin, w.category, w.throughSeq);
      default:
        return;
    }
  }
}

/**
 * Counters batched per commit: every send rewrites its two accounts' counters
 * and the MsgId counter, so a batch of 100 sends would write the same rows
 * hundreds of times. Only the last value of an account or a counter can
 * matter, and they are rows of their own (no order among them to keep), so
 * each is written once, where it first appeared. Everything else keeps its
 * order: item appends and prunes, and deletes that move a row.
 */
export function coalesceCounters(writes: Write[]): Write[] {
  const at = new Map<string, number>();
  const out: Write[] = [];
  for (const w of writes) {
    const key = w.kind === 'putAccount' ? `a${w.account.uin}` : w.kind === 'setMeta' ? `m${w.name}` : undefined;
    if (key === undefined) {
      out.push(w);
      continue;
    }
    const i = at.get(key);
    if (i === undefined) {
      at.set(key, out.length);
      out.push(w);
    } else out[i] = w;
  }
  return out;
}
