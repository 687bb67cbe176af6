// Snapshots: everything a store answers about a fixed set of keys, read
// through every Read kind, so two stores (or a store and the model) can be
// compared with one toEqual. Reads go one after another: calls to a store
// never overlap.
import type { CategoryId, MetaName } from '../../../server/core/model.ts';
import type { AsyncStore } from '../../../server/store/async-store.ts';

/** The keys a snapshot reads: every record of the tests below lives under them. */
export interface Universe {
  uins: readonly number[];
  sids: readonly string[];
  deviceIds: readonly string[];
  clientMsgIds: readonly string[];
  groups: readonly string[];
}

export const METAS: readonly MetaName[] = ['nextUin', 'nextMsgId', 'nextGroupId'];
export const CATS: readonly CategoryId[] = [1, 2];
const ALL = 1_000_000;

/** Everything the store answers for the universe, through every Read kind. */
export async function snapshot(store: AsyncStore, u: Universe): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const uin of u.uins) {
    out[`account ${uin}`] = await store.read({ kind: 'account', uin });
    out[`accountByName user${uin}`] = await store.read({ kind: 'accountByName', userName: `user${uin}` });
    out[`devicesOf ${uin}`] = await store.read({ kind: 'devicesOf', uin });
    for (const deviceId of u.deviceIds) {
      out[`device ${uin} ${deviceId}`] = await store.read({ kind: 'device', uin, deviceId });
    }
    for (const clientMsgId of u.clientMsgIds) {
      out[`dedup ${uin} ${clientMsgId}`] = await store.read({ kind: 'dedup', uin, clientMsgId });
    }
    out[`groupsOf ${uin}`] = await store.read({ kind: 'groupsOf', uin, limit: ALL });
    out[`remarksOf ${uin}`] = await store.read({ kind: 'remarksOf', uin, limit: ALL });
    for (const category of CATS) {
      out[`items ${uin} ${category}`] = await store.read({ kind: 'items', uin, category, afterSeq: 0, limit: ALL });
    }
    for (const other of u.uins) {
      out[`peers ${uin} ${other}`] = await store.read({ kind: 'peers', a: uin, b: other });
      out[`inRoomOf ${uin} ${other}`] = await store.read({ kind: 'inRoomOf', member: uin, owner: other });
    }
  }
  for (const sid of u.sids) out[`session ${sid}`] = await store.read({ kind: 'session', sid });
  for (const userName of u.groups) out[`group ${userName}`] = await store.read({ kind: 'group', userName });
  for (const name of METAS) out[`meta ${name}`] = await store.read({ kind: 'meta', name });
  return out;
}
