// A plain model of a store: maps that apply Writes the obvious way, and a
// snapshot of them in the same shape as snapshot() reads from a real store.
import type {
  Account,
  DedupRecord,
  Device,
  Group,
  LogItem,
  MetaName,
  Remark,
  Session,
} from '../../../server/core/model.ts';
import type { Write } from '../../../server/store/store-ops.ts';
import { CATS, METAS, type Universe } from './snapshot.ts';

/** A plain model of a store: what it must answer after the writes it applied. */
export interface Model {
  accounts: Map<number, Account>;
  sessions: Map<string, Session>;
  /** `${uin} ${deviceId}`, in insertion order. */
  devices: Map<string, Device>;
  /** `${uin} ${clientMsgId}`. */
  dedups: Map<string, DedupRecord>;
  groups: Map<string, Group>;
  /** Groups of a member in join order. */
  joins: Map<number, string[]>;
  /** `${uin} ${target}`, in insertion order. */
  remarks: Map<string, Remark>;
  /** `${uin} ${category}`: retained items, oldest first. */
  items: Map<string, LogItem[]>;
  /** `${uin} ${category}`: the highest seq ever appended (pruned or not). */
  lastSeq: Map<string, number>;
  meta: Map<MetaName, number>;
  /** `${uin} ${peer}`: uin sent peer a direct message. */
  peers: Set<string>;
}

export function emptyModel(): Model {
  return {
    accounts: new Map(),
    sessions: new Map(),
    devices: new Map(),
    dedups: new Map(),
    groups: new Map(),
    joins: new Map(),
    remarks: new Map(),
    items: new Map(),
    lastSeq: new Map(),
    meta: new Map(),
    peers: new Set(),
  };
}

export function modelApply(m: Model, w: Write): void {
  switch (w.kind) {
    case 'putAccount':
      m.accounts.set(w.account.uin, w.account);
      return;
    case 'putSession':
      m.sessions.set(w.session.sid, w.session);
      return;
    case 'deleteSession':
      m.sessions.delete(w.sid);
      return;
    case 'putDevice':
      m.devices.set(`${w.device.uin} ${w.device.deviceId}`, w.device);
      return;
    case 'deleteDevice':
      m.devices.delete(`${w.uin} ${w.deviceId}`);
      return;
    case 'putPeer':
      m.peers.add(`${w.uin} ${w.peer}`);
      return;
    case 'putDedup':
      m.dedups.set(`${w.dedup.uin} ${w.dedup.clientMsgId}`, w.dedup);
      return;
    case 'putGroup': {
      const prev = m.groups.get(w.group.userName);
      m.groups.set(w.group.userName, w.group);
      for (const uin of w.group.members) {
        if (prev?.members.includes(uin)) continue;
        m.joins.set(uin, [...(m.joins.get(uin) ?? []), w.group.userName]);
      }
      return;
    }
    case 'putRemark':
      m.remarks.set(`${w.remark.uin} ${w.remark.target}`, w.remark);
      return;
    case 'appendItem': {
      const key = `${w.item.uin} ${w.item.category}`;
      m.items.set(key, [...(m.items.get(key) ?? []), w.item]);
      m.lastSeq.set(key, w.item.seq);
      return;
    }
    case 'pruneItems': {
      const key = `${w.uin} ${w.category}`;
      m.items.set(key, (m.items.get(key) ?? []).filter((i) => i.seq > w.throughSeq));
      return;
    }
    case 'pruneDedup':
      for (const [k, d] of [...m.dedups]) if (d.uin === w.uin && d.createdAt < w.before) m.dedups.delete(k);
      return;
    case 'setMeta':
      m.meta.set(w.name, w.value);
      return;
  }
}

export function modelSnapshot(m: Model, u: Universe): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const uin of u.uins) {
    const acc = m.accounts.get(uin);
    out[`account ${uin}`] = acc;
    out[`accountByName user${uin}`] = acc;
    out[`devicesOf ${uin}`] = [...m.devices.values()].filter((d) => d.uin === uin);
    for (const deviceId of u.deviceIds) out[`device ${uin} ${deviceId}`] = m.devices.get(`${uin} ${deviceId}`);
    for (const clientMsgId of u.clientMsgIds) {
      out[`dedup ${uin} ${clientMsgId}`] = m.dedups.get(`${uin} ${clientMsgId}`);
    }
    out[`groupsOf ${uin}`] = (m.joins.get(uin) ?? []).map((n) => m.groups.get(n));
    out[`remarksOf ${uin}`] = [...m.remarks.values()].filter((r) => r.uin === uin);
    for (const category of CATS) out[`items ${uin} ${category}`] = m.items.get(`${uin} ${category}`) ?? [];
    for (const other of u.uins) {
      out[`peers ${uin} ${other}`] = { aToB: m.peers.has(`${uin} ${other}`), bToA: m.peers.has(`${other} ${uin}`) };
      out[`inRoomOf ${uin} ${other}`] = (m.joins.get(uin) ?? []).some((g) => m.groups.get(g)!.ownerUin === other);
    }
  }
  for (const sid of u.sids) out[`session ${sid}`] = m.sessions.get(sid);
  for (const userName of u.groups) out[`group ${userName}`] = m.groups.get(userName);
  for (const name of METAS) out[`meta ${name}`] = m.meta.get(name) ?? 0;
  return out;
}
