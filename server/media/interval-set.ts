// The byte ranges of an upload that have arrived: sorted, disjoint, merged
// half-open intervals [start, end). The set is the only truth about which
// bytes of a part file count: bytes written outside it (a chunk refused or
// cut short half-way) are garbage that a later chunk overwrites, so a refused
// request never needs its writes undone.
export interface Interval {
  readonly start: number;
  readonly end: number;
}

export class IntervalSet {
  private readonly list: Interval[] = [];

  /** Bytes covered. */
  get bytes(): number {
    let n = 0;
    for (const r of this.list) n += r.end - r.start;
    return n;
  }

  /** Separate ranges held (what maxRangesPerUpload bounds). */
  get count(): number {
    return this.list.length;
  }

  get intervals(): readonly Interval[] {
    return this.list;
  }

  /** Whether every byte of [0, total) is in the set. */
  covers(total: number): boolean {
    const first = this.list[0];
    return total === 0 || (this.list.length === 1 && first !== undefined && first.start === 0 && first.end >= total);
  }

  /** The first byte not in the set: where a client resumes. */
  firstMissing(): number {
    const first = this.list[0];
    return first !== undefined && first.start === 0 ? first.end : 0;
  }

  /** The parts of [start, end) already in the set. */
  covered(start: number, end: number): Interval[] {
    const out: Interval[] = [];
    for (const r of this.list) {
      const s = Math.max(start, r.start);
      const e = Math.min(end, r.end);
      if (s < e) out.push({ start: s, end: e });
    }
    return out;
  }

  /** The parts of [start, end) not in the set. */
  gaps(start: number, end: number): Interval[] {
    const out: Interval[] = [];
    let at = start;
    for (const r of this.list) {
      if (r.end <= at) continue;
      if (r.start >= end) break;
      if (r.start > at) out.push({ start: at, end: r.start });
      at = Math.max(at, r.end);
      if (at >= end) break;
    }
    if (at < end) out.push({ start: at, end });
    return out;
  }

  /** The missing parts of [0, total). */
  missing(total: number): Interval[] {
    return this.gaps(0, total);
  }

  /** How many ranges the set would hold after add(start, end), without adding. */
  countAfterAdding(start: number, end: number): number {
    if (start >= end) return this.list.length;
    // Every range touching [start, end] (adjacent ones included) merges into one.
    let touching = 0;
    for (const r of this.list) if (r.end >= start && r.start <= end) touching++;
    return this.list.length - touching + 1;
  }

  add(start: number, end: number): void {
    if (start >= end) return;
    let s = start;
    let e = end;
    const kept: Interval[] = [];
    let at = 0;
    for (const r of this.list) {
      if (r.end < s) {
        kept.push(r);
        at = kept.length;
      } else if (r.start > e) {
        kept.push(r);
      } else {
        s = Math.min(s, r.start);
        e = Math.max(e, r.end);
      }
    }
    kept.splice(at, 0, { start: s, end: e });
    this.list.length = 0;
    this.list.push(...kept);
  }
}
