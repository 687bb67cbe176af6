// The recovery of a store that runs synchronous NORMAL, after a shutdown that
// was not clean. A power cut may have taken its last commits, answered
// though they were: the identities they handed out (MsgIds, sequence values,
// uins, room names and room sequences) may be on devices already. Handed out
// again, a new message would reach a device as one it holds (devices drop a
// MsgId they have seen) or behind a SyncKey already past it (skipped without
// a word), and a SyncKey past the rewound log would be refused as ahead of
// the server for as long as the log took to catch up. So every counter moves
// past anything the lost commits can have handed out, in one transaction,
// before the server answers anything: nothing lost is handed out again, and a
// device that saw a lost item holds a key the server accepts and goes on from
// it with the items that come after. docs/protocol.md section 9.2.
import type { Store } from './store.ts';
import type { MetaName } from '../core/model.ts';

/**
 * How far each counter moves: more than the commits a power cut can take
 * hand out. Under WAL those are the commits since the log was last synced
 * (at the latest at a checkpoint, every 1000 pages by default): a few
 * thousand items, far below this. Uins (at most 2^32) allow thousands of
 * fences; sequence values and MsgIds, billions.
 */
export const FENCE_GAP = 1_000_000;

const COUNTERS: readonly MetaName[] = ['nextUin', 'nextMsgId', 'nextGroupId'];
/** Accounts read per step of the walk. */
const PAGE = 500;
/** Rooms of one account: all of them. */
const ALL = Number.MAX_SAFE_INTEGER;

/** Moves every counter of `store` `gap` past its value, committed; the store must not be in a transaction. */
export function fenceIdentities(store: Store, gap = FENCE_GAP): void {
  store.begin();
  try {
    for (const name of COUNTERS) {
      const value = store.read({ kind: 'meta', name });
      store.apply([{ kind: 'setMeta', name, value: value + gap }]);
    }
    const rooms = new Set<string>();
    let after = 0;
    for (;;) {
      const page = store.read({ kind: 'accountsAfter', afterUin: after, limit: PAGE });
      for (const a of page) {
        store.apply([{ kind: 'putAccount', account: { ...a, seq: a.seq + gap } }]);
        for (const g of store.read({ kind: 'groupsOf', uin: a.uin, limit: ALL })) {
          if (rooms.has(g.userName)) continue;
          rooms.add(g.userName);
          store.apply([{ kind: 'putGroup', group: { ...g, seq: g.seq + gap } }]);
        }
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.uin;
    }
    store.commit();
  } catch (e) {
    store.rollback();
    throw e;
  }
}
