// One read of the store's kinds from SQLite, through the write-through cache
// of hot records. Shared by SqliteStore (one connection that reads and
// writes) and the storage thread's reader on the main thread.
import type { RecordCache } from './record-cache.ts';
import { toAccount, toDedup, toDevice, toGroup, toItem, toRemark, toRemarked, toSession } from './sqlite-rows.ts';
import type { SqliteStatements } from './sqlite-statements.ts';
import type { Read, ReadResult } from './store-ops.ts';
import { isMediaRead, readMedia } from './sqlite-media.ts';

/**
 * `learn` false: what the database answers may lack writes not yet committed
 * (the storage thread's reader), so the answer must not be cached as the
 * whole truth.
 */
export function readRecord(st: SqliteStatements, c: RecordCache, r: Read, learn = true): ReadResult[Read['kind']] {
  if (isMediaRead(r)) return readMedia(st.media, r);
  switch (r.kind) {
    case 'account': {
      const hit = c.account(r.uin);
      if (hit) return hit;
      const row = st.account.get(r.uin);
      const a = row && toAccount(row);
      if (a) c.putAccount(a);
      return a;
    }
    case 'accountByName': {
      const hit = c.accountByName(r.userName);
      if (hit) return hit;
      const row = st.accountByName.get(r.userName);
      const a = row && toAccount(row);
      if (a) c.putAccount(a);
      return a;
    }
    case 'accountsAfter':
      return st.accountsAfter.all(r.afterUin, r.limit).map(toAccount);
    case 'session': {
      const hit = c.session(r.sid);
      if (hit) return hit;
      const row = st.session.get(r.sid);
      const s = row && toSession(row);
      if (s) c.putSession(s);
      return s;
    }
    case 'device': {
      const hit = c.device(r.uin, r.deviceId);
      if (hit) return hit;
      const row = st.device.get(r.uin, r.deviceId);
      const d = row && toDevice(row);
      if (d) c.putDevice(d);
      return d;
    }
    case 'devicesOf':
      return st.devicesOf.all(r.uin).map(toDevice);
    case 'dedup': {
      const row = st.dedup.get(r.uin, r.clientMsgId);
      return row && toDedup(row);
    }
    case 'group': {
      const row = st.group.get(r.userName);
      return row && toGroup(row);
    }
    case 'groupsOf':
      return st.groupsOf.all(r.uin, r.limit).map(toGroup);
    case 'remarksOf':
      return st.remarksOf.all(r.uin, r.limit).map(toRemark);
    case 'remark': {
      const row = st.remark.get(r.uin, r.target);
      return row && toRemark(row);
    }
    case 'roomsAfter':
      return st.roomsAfter.all(r.uin, r.afterId, r.limit).map(toGroup);
    case 'peersAfter':
      return st.peersAfter.all(r.uin, r.afterUin, r.limit);
    case 'remarkedAfter':
      return st.remarkedAfter.all(r.uin, r.afterUin, r.limit).map(toRemarked);
    case 'peers': {
      const aToB = c.peer(r.a, r.b);
      const bToA = c.peer(r.b, r.a);
      if (aToB !== undefined && bToA !== undefined) return { aToB, bToA };
      const from = st.peers.all(r.a, r.b, r.b, r.a);
      const found = { aToB: aToB ?? from.includes(r.a), bToA: bToA ?? from.includes(r.b) };
      if (learn) {
        c.learnPeer(r.a, r.b, found.aToB);
        c.learnPeer(r.b, r.a, found.bToA);
      }
      return found;
    }
    case 'inRoomOf':
      return st.inRoomOf.get(r.member, r.owner) !== undefined;
    case 'items': {
      const { uin, category } = r;
      const hit = c.tails.read(uin, category, r.afterSeq, r.limit);
      if (hit) return hit;
      const items = st.items.all(uin, category, r.afterSeq, r.limit).map((row) => toItem(uin, category, row));
      // Short of the limit: these are the log's last items, a tail to keep.
      if (learn && items.length < r.limit) c.tails.learn(uin, category, r.afterSeq, items);
      return items;
    }
    case 'meta': {
      const hit = c.metaValue(r.name);
      if (hit !== undefined) return hit;
      const v = st.meta.get(r.name) ?? 0;
      c.putMeta(r.name, v);
      return v;
    }
  }
}
