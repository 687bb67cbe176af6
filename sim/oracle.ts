// The store oracles: what the server committed, read straight from its
// store, as the checkers and the convergence probe judge the devices by it.
import { CATEGORIES } from '../server/core/model.ts';
import type { ServerHost } from './server-host.ts';

/** Items read per store query while walking an account's log. */
const PAGE = 1000;

export class StoreOracle {
  private readonly groupMembers = new Map<string, string[]>();

  constructor(private readonly server: ServerHost) {}

  /** The group's members by user name (cached once the group exists: membership never changes in a run). */
  members(group: string): string[] {
    let m = this.groupMembers.get(group);
    if (!m) {
      const store = this.server.store;
      const g = store.read({ kind: 'group', userName: group });
      m = (g?.members ?? []).map((uin) => store.read({ kind: 'account', uin })?.userName ?? '');
      if (g) this.groupMembers.set(group, m);
    }
    return m;
  }

  /** Per category, the key a fully synced device holds: the last retained item, or the floor. */
  head(account: string): Map<number, number> {
    const store = this.server.store;
    const a = store.read({ kind: 'accountByName', userName: account });
    const head = new Map<number, number>();
    if (!a) return head;
    for (const cat of CATEGORIES) {
      let at = a.floor[cat];
      for (;;) {
        const items = store.read({ kind: 'items', uin: a.uin, category: cat, afterSeq: at, limit: PAGE });
        if (items.length > 0) at = items[items.length - 1]!.seq;
        if (items.length < PAGE) break;
      }
      head.set(cat, at);
    }
    return head;
  }

  /** Per category, the retention floor: the highest pruned sequence value. */
  floor(account: string): Map<number, number> {
    const a = this.server.store.read({ kind: 'accountByName', userName: account });
    return new Map(CATEGORIES.map((cat) => [cat, a?.floor[cat] ?? 0]));
  }

  /** The account's retained message log in server order (MsgIds). */
  log(account: string): number[] {
    const store = this.server.store;
    const a = store.read({ kind: 'accountByName', userName: account });
    if (!a) return [];
    const out: number[] = [];
    let after = 0;
    for (;;) {
      const items = store.read({ kind: 'items', uin: a.uin, category: CATEGORIES[0]!, afterSeq: after, limit: PAGE });
      for (const it of items) out.push((it.data as { MsgId: number }).MsgId);
      if (items.length < PAGE) return out;
      after = items[items.length - 1]!.seq;
    }
  }
}
