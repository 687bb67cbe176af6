// The writes that the storage thread has not yet committed, kept on the main
// thread so that reads there see them: while batch N commits on the other
// thread, batch N+1's commands read through this overlay onto the database
// (which holds everything up to the last commit). Each entry remembers the
// batch that wrote it last; when a batch's commit is known, every entry it
// wrote last is dropped, since the database now answers the same.
//
// Merges assume what the core does (docs/architecture.md, "storage thread"):
// log items are appended in seq order and pruned from the front; remarks and
// peers are only ever put. A group's members may be added and removed
// (webwxupdatechatroom): a read that involves a staged group goes by its
// staged members.
import type { Account, CategoryId, DedupRecord, Device, Group, LogItem, MetaName, Remark, Session } from '../core/model.ts';
import type { Write } from './store-ops.ts';

interface Entry<T> {
  value: T;
  batch: number;
}

/** A device put after a delete went to the end of its account's list (a new row), as in the database. */
interface DeviceEntry extends Entry<Device | null> {
  moved: boolean;
}

interface ItemLog {
  items: Array<Entry<LogItem>>;
  /** Items of the database with seq <= floor are pruned. */
  floor: Entry<number> | undefined;
}

export class PendingOverlay {
  readonly accounts = new Map<number, Entry<Account>>();
  readonly uinByName = new Map<string, Entry<number>>();
  readonly sessions = new Map<string, Entry<Session | null>>();
  readonly devices = new Map<number, Map<string, DeviceEntry>>();
  readonly dedup = new Map<number, Map<string, Entry<DedupRecord>>>();
  /** Dedup records of the database created before this are pruned. */
  readonly dedupFloor = new Map<number, Entry<number>>();
  readonly groups = new Map<string, Entry<Group>>();
  /** The rooms each account joined, in the order it joined them (the order groupsOf answers in). */
  readonly joins = new Map<number, Array<Entry<string>>>();
  readonly remarks = new Map<number, Map<string, Entry<Remark>>>();
  readonly peers = new Map<string, Entry<true>>();
  readonly itemLogs = new Map<string, ItemLog>();
  readonly meta = new Map<MetaName, Entry<number>>();
  /** Writes held, for the gauge (entries may be fewer: a later write replaces an earlier one). */
  writes = 0;

  /** `membersBefore` tells a room's members in the database, for a room the overlay does not hold yet. */
  stage(batch: number, writes: readonly Write[], membersBefore: (userName: string) => readonly number[]): void {
    for (const w of writes) this.stageOne(batch, w, membersBefore);
    this.writes += writes.length;
  }

  private stageOne(batch: number, w: Write, membersBefore: (userName: string) => readonly number[]): void {
    switch (w.kind) {
      case 'putAccount': {
        const prev = this.accounts.get(w.account.uin);
        if (prev && prev.value.userName !== w.account.userName) this.uinByName.delete(prev.value.userName);
        this.accounts.set(w.account.uin, { value: w.account, batch });
        this.uinByName.set(w.account.userName, { value: w.account.uin, batch });
        return;
      }
      case 'putSession':
        this.sessions.set(w.session.sid, { value: w.session, batch });
        return;
      case 'deleteSession':
        this.sessions.set(w.sid, { value: null, batch });
        return;
      case 'putDevice': {
        const of = inner(this.devices, w.device.uin);
        const prev = of.get(w.device.deviceId);
        of.set(w.device.deviceId, { value: w.device, batch, moved: prev !== undefined && (prev.moved || prev.value === null) });
        return;
      }
      case 'deleteDevice':
        inner(this.devices, w.uin).set(w.deviceId, { value: null, batch, moved: false });
        return;
      case 'putPeer':
        this.peers.set(peerKey(w.uin, w.peer), { value: true, batch });
        return;
      case 'putDedup':
        inner(this.dedup, w.dedup.uin).set(w.dedup.clientMsgId, { value: w.dedup, batch });
        return;
      case 'pruneDedup': {
        const of = this.dedup.get(w.uin);
        if (of) for (const [k, e] of of) if (e.value.createdAt < w.before) of.delete(k);
        const prev = this.dedupFloor.get(w.uin);
        if (!prev || prev.value <= w.before) this.dedupFloor.set(w.uin, { value: w.before, batch });
        return;
      }
      case 'putGroup': {
        const name = w.group.userName;
        const before = this.groups.get(name)?.value.members ?? membersBefore(name);
        for (const uin of w.group.members) {
          if (before.includes(uin)) continue;
          let of = this.joins.get(uin);
          if (!of) this.joins.set(uin, (of = []));
          of.push({ value: name, batch });
        }
        this.groups.set(name, { value: w.group, batch });
        return;
      }
      case 'putRemark':
        inner(this.remarks, w.remark.uin).set(w.remark.target, { value: w.remark, batch });
        return;
      case 'appendItem':
        this.itemLog(w.item.uin, w.item.category).items.push({ value: w.item, batch });
        return;
      case 'pruneItems': {
        const log = this.itemLog(w.uin, w.category);
        log.items = log.items.filter((e) => e.value.seq > w.throughSeq);
        if (!log.floor || log.floor.value <= w.throughSeq) log.floor = { value: w.throughSeq, batch };
        return;
      }
      case 'setMeta':
        this.meta.set(w.name, { value: w.value, batch });
        return;
    }
  }

  /** Batches up to `batch` are committed: the database answers for what they wrote. */
  committedThrough(batch: number, writes: number): void {
    this.writes = Math.max(0, this.writes - writes);
    dropFlat(this.accounts, batch);
    dropFlat(this.uinByName, batch);
    dropFlat(this.sessions, batch);
    dropNested(this.devices, batch);
    dropNested(this.dedup, batch);
    dropFlat(this.dedupFloor, batch);
    dropFlat(this.groups, batch);
    for (const [uin, of] of this.joins) {
      let i = 0;
      while (i < of.length && of[i]!.batch <= batch) i++;
      if (i === of.length) this.joins.delete(uin);
      else if (i > 0) this.joins.set(uin, of.slice(i));
    }
    dropNested(this.remarks, batch);
    dropFlat(this.peers, batch);
    dropFlat(this.meta, batch);
    for (const [k, log] of this.itemLogs) {
      // Appends come in batch order: the committed ones are at the front.
      let i = 0;
      while (i < log.items.length && log.items[i]!.batch <= batch) i++;
      if (i > 0) log.items = log.items.slice(i);
      if (log.floor && log.floor.batch <= batch) log.floor = undefined;
      if (log.items.length === 0 && !log.floor) this.itemLogs.delete(k);
    }
  }

  /** A failed commit: nothing staged can be trusted. */
  clear(): void {
    for (const m of [this.accounts, this.uinByName, this.sessions, this.devices, this.dedup, this.dedupFloor, this.groups, this.joins, this.remarks, this.peers, this.itemLogs, this.meta]) m.clear();
    this.writes = 0;
  }

  get empty(): boolean {
    return this.writes === 0;
  }

  // ---- reads: undefined means "ask the database" ----

  itemLogOf(uin: number, category: CategoryId): ItemLog | undefined {
    return this.itemLogs.get(itemKey(uin, category));
  }

  private itemLog(uin: number, category: CategoryId): ItemLog {
    const k = itemKey(uin, category);
    let log = this.itemLogs.get(k);
    if (!log) {
      log = { items: [], floor: undefined };
      this.itemLogs.set(k, log);
    }
    return log;
  }

  hasPeer(uin: number, peer: number): boolean {
    return this.peers.has(peerKey(uin, peer));
  }

  /** The accounts `uin` sent a direct message to in staged writes (a scan: the overlay holds a few batches). */
  peersOf(uin: number): number[] {
    const prefix = `${uin}>`;
    const out: number[] = [];
    for (const k of this.peers.keys()) if (k.startsWith(prefix)) out.push(Number(k.slice(prefix.length)));
    return out;
  }
}

function inner<K, V>(m: Map<number, Map<K, V>>, key: number): Map<K, V> {
  let of = m.get(key);
  if (!of) {
    of = new Map();
    m.set(key, of);
  }
  return of;
}

function dropFlat<K>(m: Map<K, { batch: number }>, batch: number): void {
  for (const [k, e] of m) if (e.batch <= batch) m.delete(k);
}

function dropNested<K>(m: Map<number, Map<K, { batch: number }>>, batch: number): void {
  for (const [k, of] of m) {
    dropFlat(of, batch);
    if (of.size === 0) m.delete(k);
  }
}

function peerKey(uin: number, peer: number): string {
  return `${uin}>${peer}`;
}

function itemKey(uin: number, category: CategoryId): string {
  return `${uin}:${category}`;
}
