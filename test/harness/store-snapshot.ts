// Every record reachable through the store's reads, as data: a rejected
// request must leave it exactly as it was.
import type { Account, CategoryId, Device as DeviceRecord, Group, LogItem, Remark, Session } from '../../server/core/model.ts';
import type { Store } from '../../server/store/store.ts';

export interface StoreSnapshot {
  meta: Record<string, number>;
  accounts: Array<Account | undefined>;
  devices: DeviceRecord[][];
  items: LogItem[][];
  remarks: Remark[][];
  groupsOf: Group[][];
  groups: Array<Group | undefined>;
  sessions: Array<Session | undefined>;
  dedup: unknown[];
}

/** Reads have no "list all": sessions and dedup entries are looked up by the Sids and ClientMsgIds the test used. */
export function snapshotStore(s: Store, knownSids: ReadonlySet<string>, clientMsgIds: ReadonlySet<string>): StoreSnapshot {
  const meta = {
    nextUin: s.read({ kind: 'meta', name: 'nextUin' }),
    nextMsgId: s.read({ kind: 'meta', name: 'nextMsgId' }),
    nextGroupId: s.read({ kind: 'meta', name: 'nextGroupId' }),
  };
  const uins: number[] = [];
  for (let u = 1; u <= meta.nextUin + 1; u++) uins.push(u);
  const devices = uins.map((uin) => s.read({ kind: 'devicesOf', uin }));
  const sids = new Set(knownSids);
  for (const ds of devices) for (const d of ds) if (d.sid) sids.add(d.sid);
  const groups: Array<Group | undefined> = [];
  for (let g = 1; g <= meta.nextGroupId + 1; g++) groups.push(s.read({ kind: 'group', userName: `@@${g}` }));
  const cats: CategoryId[] = [1, 2];
  return {
    meta,
    accounts: uins.map((uin) => s.read({ kind: 'account', uin })),
    devices,
    items: uins.flatMap((uin) => cats.map((category) => s.read({ kind: 'items', uin, category, afterSeq: 0, limit: 1e9 }))),
    remarks: uins.map((uin) => s.read({ kind: 'remarksOf', uin, limit: 1e9 })),
    groupsOf: uins.map((uin) => s.read({ kind: 'groupsOf', uin, limit: 1e9 })),
    groups,
    sessions: [...sids].sort().map((sid) => s.read({ kind: 'session', sid })),
    dedup: uins.flatMap((uin) => [...clientMsgIds].sort().flatMap((clientMsgId) => s.read({ kind: 'dedup', uin, clientMsgId }) ?? [])),
  };
}
