// What the server's store holds at the end of a chaos run, read once the
// server has stopped (its database is its own while it runs): each
// account's retained message log, oldest first, as the simulator's oracle
// reads it (sim/oracle.ts).
import { CATEGORIES } from '../server/core/model.ts';
import { SqliteStore } from '../server/store/sqlite-store.ts';

/** Items read per store query while walking an account's log. */
const PAGE = 1000;

export function readFinalLogs(db: string, accounts: readonly string[]): Record<string, number[]> {
  const store = SqliteStore.open(db);
  try {
    const logs: Record<string, number[]> = {};
    for (const name of accounts) {
      const a = store.read({ kind: 'accountByName', userName: name });
      const out: number[] = [];
      if (a) {
        for (let after = 0; ; ) {
          const items = store.read({ kind: 'items', uin: a.uin, category: CATEGORIES[0]!, afterSeq: after, limit: PAGE });
          for (const it of items) out.push((it.data as { MsgId: number }).MsgId);
          if (items.length < PAGE) break;
          after = items[items.length - 1]!.seq;
        }
      }
      logs[name] = out;
    }
    return logs;
  } finally {
    store.close();
  }
}
