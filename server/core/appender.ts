// Appending to accounts' logs: every item takes its account's next sequence
// value; a log over maxLogItemsPerCategory loses its oldest item.
import { read, type Step, type Write } from '../store/store-ops.ts';
import type { CoreContext } from './core-context.ts';
import type { CoreEffect } from './plan.ts';
import { Category, selectorOf, withAccount, type Account, type CategoryId, type ContactItem, type LogItem, type MessageItem, type PerCategory } from './model.ts';

/** The next sequence value of an account (a planted bug may use a volatile counter). */
export function nextSeq(ctx: CoreContext, account: Account): number {
  if (ctx.bugs.has('volatile-seq')) {
    const volatileSeq = ctx.bugState.volatileSeq;
    const s = (volatileSeq.get(account.uin) ?? 0) + 1;
    volatileSeq.set(account.uin, s);
    return Math.max(s, 1);
  }
  return account.seq + 1;
}

/**
 * Appends items to accounts' logs within one command, keeping each touched
 * account's latest record (a command's reads do not see its own writes).
 */
export class Appender {
  private readonly accounts = new Map<number, Account>();
  private readonly selectors = new Map<number, number>();

  constructor(
    private readonly ctx: CoreContext,
    private readonly now: number,
    private readonly writes: Write[],
  ) {}

  seed(a: Account): void {
    if (!this.accounts.has(a.uin)) this.accounts.set(a.uin, a);
  }

  *append(uin: number, category: CategoryId, data: MessageItem | ContactItem): Step<void> {
    let a = this.accounts.get(uin) ?? (yield* read({ kind: 'account', uin }));
    if (!a) throw new Error(`account ${uin} vanished`);
    const seq = nextSeq(this.ctx, a);
    const item = { uin, category, seq, createdAt: this.now, data } as LogItem;
    this.writes.push({ kind: 'appendItem', item });
    // Records are built field by field: spreading frozen records is several times slower on this hot path.
    const itemCount: PerCategory = category === Category.Messages ? { 1: a.itemCount[1] + 1, 2: a.itemCount[2] } : { 1: a.itemCount[1], 2: a.itemCount[2] + 1 };
    let floor = a.floor;
    // Bounded log: over the limit, the oldest item goes (devices behind it get 1200).
    if (itemCount[category] > this.ctx.config.maxLogItemsPerCategory) {
      const [oldest] = yield* read({ kind: 'items', uin, category, afterSeq: floor[category], limit: 1 });
      if (oldest) {
        this.writes.push({ kind: 'pruneItems', uin, category, throughSeq: oldest.seq });
        floor = category === Category.Messages ? { 1: oldest.seq, 2: floor[2] } : { 1: floor[1], 2: oldest.seq };
        itemCount[category]--;
      }
    }
    a = withAccount(a, Math.max(a.seq, seq), floor, itemCount, a.lastPrunedAt);
    this.accounts.set(uin, a);
    this.selectors.set(uin, (this.selectors.get(uin) ?? 0) | selectorOf(category));
  }

  /** The account writes go last so each account is written once. */
  effects(): CoreEffect[] {
    const out: CoreEffect[] = [];
    for (const [uin, selector] of this.selectors) {
      const a = this.accounts.get(uin)!;
      this.writes.push({ kind: 'putAccount', account: a });
      out.push({ kind: 'appended', uin, selector, seq: a.seq });
    }
    return out;
  }
}
