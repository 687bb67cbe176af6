// The simulation's only notion of time: a queue of events ordered by
// (time, sequence). Equal times run in the order they were scheduled.
export interface SimEvent {
  at: number;
  seq: number;
  /** A short label for the trace: what happens, and to whom. */
  kind: string;
  who: string;
  run: () => void;
}

export class EventQueue {
  private heap: SimEvent[] = [];
  private seq = 0;
  now = 0;

  get size(): number {
    return this.heap.length;
  }

  schedule(at: number, kind: string, who: string, run: () => void): SimEvent {
    if (!(at >= this.now)) throw new RangeError(`event ${kind} scheduled in the past (${at} < ${this.now})`);
    const e: SimEvent = { at, seq: this.seq++, kind, who, run };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p]!, e)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
    return e;
  }

  pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    if (!top) return undefined;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && less(h[r]!, h[l]!) ? r : l;
        if (less(last, h[c]!)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    this.now = top.at;
    return top;
  }

  peekTime(): number | undefined {
    return this.heap[0]?.at;
  }
}

function less(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
