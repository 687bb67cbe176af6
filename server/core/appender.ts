// Appending to accounts' logs: every item takes its account's next sequence
// value. A log at maxLogItemsPerCategory makes room only by dropping its
// oldest item, and only if every live device has consumed it; otherwise the
// append is refused (the command answers 1110): what a sender was told is
// stored is never dropped for lack of room while a device of the recipient
// still holds it. (An account with no live device holds nothing back: its
// full log drops its oldest item, so a member gone for good cannot block a
// room; its devices hear 1200 if they come back.)
import { read, type Step, type Write } from '../store/store-ops.ts';
import type { CoreContext } from './core-context.ts';
import { isLive } from './devices.ts';
import type { CoreEffect } from './plan.ts';
import { Category, selectorOf, withAccount, type Account, type CategoryId, type ContactDeletion, type ContactItem, type LogItem, type MessageItem, type PerCategory } from './model.ts';

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

  /**
   * Appends to `uin`'s log; false, with nothing appended, when the log is full
   * of items some live device has not consumed yet.
   */
  *append(uin: number, category: CategoryId, data: MessageItem | ContactItem | ContactDeletion): Step<boolean> {
    let a = this.accounts.get(uin) ?? (yield* read({ kind: 'account', uin }));
    if (!a) throw new Error(`account ${uin} vanished`);
    // Records are built field by field: spreading frozen records is several times slower on this hot path.
    const itemCount: PerCategory = { 1: a.itemCount[1], 2: a.itemCount[2] };
    let floor = a.floor;
    let evictedAt = a.lastEvictedAt;
    if (itemCount[category] >= this.ctx.config.maxLogItemsPerCategory) {
      const [oldest] = yield* read({ kind: 'items', uin, category, afterSeq: floor[category], limit: 1 });
      if (oldest) {
        if (oldest.seq > (yield* this.consumedThrough(uin, category)) && !this.ctx.bugs.has('evict-unconsumed')) return false;
        this.writes.push({ kind: 'pruneItems', uin, category, throughSeq: oldest.seq });
        floor = category === Category.Messages ? { 1: oldest.seq, 2: floor[2] } : { 1: floor[1], 2: oldest.seq };
        itemCount[category]--;
        // Recorded as a prune is: a device that existed and acknowledged nothing gets 1200 at key 0.
        evictedAt = this.now;
      }
    }
    const seq = nextSeq(this.ctx, a);
    const item = { uin, category, seq, createdAt: this.now, data } as LogItem;
    this.writes.push({ kind: 'appendItem', item });
    itemCount[category]++;
    a = withAccount(a, Math.max(a.seq, seq), floor, itemCount, a.lastPrunedAt, evictedAt);
    this.accounts.set(uin, a);
    this.selectors.set(uin, (this.selectors.get(uin) ?? 0) | selectorOf(category));
    return true;
  }

  /** The highest seq of `uin`'s log that every live device has acknowledged (Infinity with none live). */
  private *consumedThrough(uin: number, category: CategoryId): Step<number> {
    const devices = yield* read({ kind: 'devicesOf', uin });
    let through = Infinity;
    for (const d of devices) if (isLive(this.ctx.config, d, this.now)) through = Math.min(through, d.acked[category]);
    return through;
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
