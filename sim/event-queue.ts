// The simulation's only notion of time: a queue of events ordered by
// (time, tie, sequence). Events due at the same instant run in an order the
// seed chooses: each draws a tie key when it is scheduled, from the queue's
// own stream (one per event's `who` in explicit runs, so removing a device
// leaves the others' order alone). The one order that must hold among equal
// times is a channel's (see channelOf: the bytes of one stream, one way): an
// envelope due at the same instant as the last one posted on its channel
// shares its key, and equal keys run in the order they were scheduled.
// Without a stream every key is 0: first in, first out.
// An event is either a message arriving (an Envelope, plain data) or a
// timer of a host or a driver (a host's own wake-up, a user's next action).
import { channelOf, type Envelope } from './envelope.ts';
import type { Rng } from './rng.ts';

/** Simulated time starts at a fixed, realistic epoch. */
export const SIM_EPOCH_MS = 1_700_000_000_000;

/** An event on no channel (a timer, or an envelope that may pass others). */
const NO_CHANNEL = -1;

/**
 * One queued event, flat: its trace label (kind, and the host it touches)
 * and either a timer's `fire` or an arriving envelope. One object of one
 * shape per event, since the queue makes and drops one per event.
 */
export class SimEvent {
  constructor(
    readonly at: number,
    /** Orders events due at the same instant; equal keys run in `seq` order. */
    readonly tie: number,
    readonly seq: number,
    readonly kind: string,
    readonly who: string,
    /** A timer: what to do. */
    readonly fire: (() => void) | undefined,
    /** An arrival: what arrives (the network decides then whether it gets through). */
    readonly envelope: Envelope | undefined,
    /** The envelope's channel (channelOf), or NO_CHANNEL. */
    readonly channel: number = NO_CHANNEL,
  ) {}
}

/** Where tie keys come from: the stream for an event's `who`. */
export type TieStreams = (who: string) => Rng;

export class EventQueue {
  private heap: SimEvent[] = [];
  private seq = 0;
  /**
   * The last event posted on each channel still queued, by channel number
   * (channels are numbered densely from 2: see channelOf): the next one due
   * at its time runs after it.
   */
  private readonly channelTail: Array<SimEvent | undefined> = [];
  now = 0;

  constructor(private readonly ties?: TieStreams) {}

  get size(): number {
    return this.heap.length;
  }

  /** A timer at `at`. */
  schedule(at: number, kind: string, who: string, fire: () => void): void {
    this.checkTime(at, kind);
    this.push(new SimEvent(at, this.draw(who), this.seq++, kind, who, fire, undefined));
  }

  /** An envelope arriving at `at` (the network decides then whether it gets through). */
  post(at: number, envelope: Envelope): void {
    this.checkTime(at, envelope.kind);
    const ch = channelOf(envelope);
    if (ch === undefined) {
      this.push(new SimEvent(at, this.draw(envelope.device), this.seq++, envelope.kind, envelope.device, undefined, envelope));
      return;
    }
    const prev = this.channelTail[ch];
    const tie = prev !== undefined && prev.at === at ? prev.tie : this.draw(envelope.device);
    const e = new SimEvent(at, tie, this.seq++, envelope.kind, envelope.device, undefined, envelope, ch);
    this.channelTail[ch] = e;
    this.push(e);
  }

  /** Every envelope still in flight, in arrival order. */
  inFlight(): Array<{ at: number; envelope: Envelope }> {
    return this.heap
      .filter((e) => e.envelope !== undefined)
      .sort((a, b) => (less(a, b) ? -1 : 1))
      .map((e) => ({ at: e.at, envelope: e.envelope! }));
  }

  private draw(who: string): number {
    return this.ties ? this.ties(who).next() : 0;
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
    const n = h.length - 1;
    if (n < 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        let child = h[l]!;
        if (r < n) {
          const right = h[r]!;
          if (less(right, child)) {
            c = r;
            child = right;
          }
        }
        if (less(last, child)) break;
        h[i] = child;
        i = c;
      }
      h[i] = last;
    }
    this.now = top.at;
    // The channel's last event has run: nothing queued is left to follow, so forget the channel.
    const ch = top.channel;
    if (ch !== NO_CHANNEL && this.channelTail[ch] === top) this.channelTail[ch] = undefined;
    return top;
  }

  peekTime(): number | undefined {
    return this.heap[0]?.at;
  }
}

function less(a: SimEvent, b: SimEvent): boolean {
  const at = a.at;
  const bt = b.at;
  if (at !== bt) return at < bt;
  return a.tie < b.tie || (a.tie === b.tie && a.seq < b.seq);
}
