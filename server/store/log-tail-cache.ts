// The newest items of each log, kept in memory so that a sync (which reads
// the items after a device's acknowledged position: almost always the last
// few) costs no query. A tail is only ever exact: it starts from a read that
// reached the end of the log, then follows every append and prune written
// through it (this process is the only writer); anything it cannot answer
// exactly goes to the database.
import type { CategoryId, LogItem } from '../core/model.ts';

/** Items kept per log: a sync further back than this reads the database. */
const MAX_TAIL_ITEMS = 128;
/** Logs kept before the cache is emptied: a crude bound, but a bound. */
const MAX_TAILS = 20_000;

interface Tail {
  /** Every item of the log with seq > from is in `items`, oldest first. */
  from: number;
  items: LogItem[];
}

export class LogTailCache {
  private readonly tails = new Map<string, Tail>();
  hits = 0;
  misses = 0;

  /** The items after `afterSeq`, up to `limit`, if the tail holds all of them; else undefined. */
  read(uin: number, category: CategoryId, afterSeq: number, limit: number): LogItem[] | undefined {
    const t = this.tails.get(key(uin, category));
    if (!t || afterSeq < t.from) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    const out: LogItem[] = [];
    for (const it of t.items) {
      if (it.seq <= afterSeq) continue;
      if (out.length >= limit) break;
      out.push(it);
    }
    return out;
  }

  /** A database read of the items after `afterSeq` that came back short of its limit: the end of the log. */
  learn(uin: number, category: CategoryId, afterSeq: number, items: LogItem[]): void {
    const k = key(uin, category);
    if (this.tails.has(k)) return;
    if (this.tails.size >= MAX_TAILS) this.tails.clear();
    const t: Tail = { from: afterSeq, items: items.slice() };
    trim(t);
    this.tails.set(k, t);
  }

  append(item: LogItem): void {
    const t = this.tails.get(key(item.uin, item.category));
    if (!t) return;
    t.items.push(item);
    trim(t);
  }

  prune(uin: number, category: CategoryId, throughSeq: number): void {
    const t = this.tails.get(key(uin, category));
    if (!t) return;
    if (throughSeq > t.from) t.from = throughSeq;
    let i = 0;
    while (i < t.items.length && t.items[i]!.seq <= throughSeq) i++;
    if (i > 0) t.items.splice(0, i);
  }

  clear(): void {
    this.tails.clear();
  }
}

function trim(t: Tail): void {
  const over = t.items.length - MAX_TAIL_ITEMS;
  if (over <= 0) return;
  t.from = t.items[over - 1]!.seq;
  t.items.splice(0, over);
}

function key(uin: number, category: CategoryId): string {
  return `${uin}:${category}`;
}
