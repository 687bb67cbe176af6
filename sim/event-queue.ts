// The simulation's only notion of time: a queue of events ordered by
// (time, sequence). Equal times run in the order they were scheduled.
// An event is either a message arriving (an Envelope, plain data) or a
// timer of a host or a driver (a host's own wake-up, a user's next action).
import type { Envelope } from './envelope.ts';

/** Simulated time starts at a fixed, realistic epoch. */
export const SIM_EPOCH_MS = 1_700_000_000_000;

/**
 * One queued event, flat: its trace label (kind, and the host it touches)
 * and either a timer's `fire` or an arriving envelope. One object of one
 * shape per event, since the queue makes and drops one per event.
 */
export class SimEvent {
  constructor(
    readonly at: number,
    readonly seq: number,
    readonly kind: string,
    readonly who: string,
    /** A timer: what to do. */
    readonly fire: (() => void) | undefined,
    /** An arrival: what arrives (the network decides then whether it gets through). */
    readonly envelope: Envelope | undefined,
  ) {}
}

export class EventQueue {
  private heap: SimEvent[] = [];
  private seq = 0;
  now = 0;

  get size(): number {
    return this.heap.length;
  }

  /** A timer at `at`. */
  schedule(at: number, kind: string, who: string, fire: () => void): void {
    this.checkTime(at, kind);
    this.push(new SimEvent(at, this.seq++, kind, who, fire, undefined));
  }

  /** An envelope arriving at `at` (the network decides then whether it gets through). */
  post(at: number, envelope: Envelope): void {
    this.checkTime(at, envelope.kind);
    this.push(new SimEvent(at, this.seq++, envelope.kind, envelope.device, undefined, envelope));
  }

  /** Every envelope still in flight, in arrival order. */
  inFlight(): Array<{ at: number; envelope: Envelope }> {
    return this.heap
      .filter((e) => e.envelope !== undefined)
      .sort((a, b) => (less(a, b) ? -1 : 1))
      .map((e) => ({ at: e.at, envelope: e.envelope! }));
  }

  private checkTime(at: number, kind: string): void {
    if (!(at >= this.now)) throw new RangeError(`event ${kind} scheduled in the past (${at} < ${this.now})`);
  }

  private push(e: SimEvent): void {
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
