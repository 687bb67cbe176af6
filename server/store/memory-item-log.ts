// One category's log in MemoryStore, and the binary search it and the
// store's uin index share.
import type { LogItem } from '../core/model.ts';

/** One category's log: items sorted by seq, with a moving start so pruning is O(1) amortised. */
export class ItemLog {
  items: LogItem[] = [];
  start = 0;

  after(afterSeq: number, limit: number): LogItem[] {
    let lo = this.start;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid]!.seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return this.items.slice(lo, Math.min(lo + limit, this.items.length));
  }

  compact(): void {
    if (this.start > 1024 && this.start * 2 > this.items.length) {
      this.items = this.items.slice(this.start);
      this.start = 0;
    }
  }
}

/** The index of the first element of ascending `xs` above `x` (xs.length if none). */
export function firstAbove(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
