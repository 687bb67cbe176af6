// Rows of SqliteStore's tables as its reads return them, and their decoding
// into records. Reads run in raw mode (rows as arrays, in the column order of
// the SELECT): it is measurably cheaper than keyed row objects.
import type { Account, CategoryId, DedupRecord, Device, Group, LogItem, Remark, Session, SessionState } from '../core/model.ts';
import type { RemarkedUser } from './store-ops.ts';

export type AccountRow = [
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
  lastEvictedAt: number,
];
export type SessionRow = [
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
export type DeviceRow = [
  uin: number,
  deviceId: string,
  sid: string,
  acked1: number,
  acked2: number,
  createdAt: number,
  lastSeenAt: number,
  prevSid: string,
  retiredSids: string,
];
export type DedupRow = [uin: number, clientMsgId: string, msgId: number, localId: string, createdAt: number];
export type GroupRow = [userName: string, topic: string, ownerUin: number, members: string, seq: number, createdAt: number];
export type RemarkRow = [uin: number, target: string, remarkName: string, pinned: number];
/** A remark of a user, after the user's uin. */
export type RemarkedRow = [targetUin: number, ...remark: RemarkRow];
export type ItemRow = [seq: number, createdAt: number, data: string];

export const ACCOUNT_COLS =
  'uin, user_name, nick_name, password_hash, created_at, seq, floor1, floor2, count1, count2, last_pruned_at, last_evicted_at';
export const SESSION_COLS = 'sid, uin, device_id, state, skey, prev_skey, skey_at, created_at, login_id';
export const DEVICE_COLS = 'uin, device_id, sid, acked1, acked2, created_at, last_seen_at, prev_sid, retired_sids';
export const GROUP_COLS = 'user_name, topic, owner_uin, members, seq, created_at';
export const REMARK_COLS = 'uin, target, remark_name, pinned';

export function toAccount(r: AccountRow): Account {
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
    lastEvictedAt: r[11],
  };
}

export function toSession(r: SessionRow): Session {
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

export function toDevice(r: DeviceRow): Device {
  const retiredSids = r[8] === '' ? [] : r[8].split(' ');
  return { uin: r[0], deviceId: r[1], sid: r[2], acked: { 1: r[3], 2: r[4] }, createdAt: r[5], lastSeenAt: r[6], prevSid: r[7], retiredSids };
}

/** Retired Sid fingerprints as their column holds them (fingerprints hold no space). */
export function retiredSidsColumn(d: Device): string {
  return d.retiredSids.join(' ');
}

export function toDedup(r: DedupRow): DedupRecord {
  return { uin: r[0], clientMsgId: r[1], msgId: r[2], localId: r[3], createdAt: r[4] };
}

export function toGroup(r: GroupRow): Group {
  return {
    userName: r[0],
    topic: r[1],
    ownerUin: r[2],
    members: JSON.parse(r[3]) as number[],
    seq: r[4],
    createdAt: r[5],
  };
}

export function toRemark(r: RemarkRow): Remark {
  // `pinned` only when set: a record of an unpinned contact reads back as it was written.
  return r[3] ? { uin: r[0], target: r[1], remarkName: r[2], pinned: true } : { uin: r[0], target: r[1], remarkName: r[2] };
}

export function toRemarked(r: RemarkedRow): RemarkedUser {
  const [uin, ...remark] = r;
  return { uin, remark: toRemark(remark) };
}

export function toItem(uin: number, category: CategoryId, r: ItemRow): LogItem {
  return { uin, category, seq: r[0], createdAt: r[1], data: JSON.parse(r[2]) } as LogItem;
}
