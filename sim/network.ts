// The simulated network between client devices and the server: a star.
// HTTP halves travel as datagrams that can be lost, duplicated or delayed
// (which reorders them); long links are ordered byte streams, read as TCP
// reads them: a write may arrive over several reads, and bytes that reach the
// receiver before it read the earlier ones may come in the same read (the seed
// decides both), so a read holds part of a packet or several packets. Streams
// can be cut, losing what is in flight. Partitions block a
// device one way or both; faults are checked again on arrival, so they reach
// messages already in flight. What travels is an Envelope, posted on the
// event queue; when it is due, `arrives` says whether it got through.
import type {
  ConnectEnvelope,
  CloseClientEnvelope,
  CloseServerEnvelope,
  CutClientEnvelope,
  CutServerEnvelope,
  Envelope,
  HttpRequestEnvelope,
  HttpResponseEnvelope,
  LinkDownEnvelope,
  LinkUpEnvelope,
  StreamEnvelope,
} from './envelope.ts';
import type { EventQueue } from './event-queue.ts';
import type { Rng } from './rng.ts';

/** up: device → server; down: server → device. */
export type Dir = 'up' | 'down';

export interface NetFaults {
  latencyMs: [number, number];
  latencyTailProbability: number;
  latencyTailMs: number;
  dropProbability: number;
  duplicateProbability: number;
}

export interface NetStats {
  datagrams: number;
  dropped: number;
  duplicated: number;
  /** Stream reads posted (a write's pieces, less those that joined an earlier read). */
  chunks: number;
  /** Writes whose bytes were split over several reads. */
  splitWrites: number;
  /** Stream reads that got through. */
  reads: number;
  /** Reads that got through holding bytes of several writes (several packets in one read). */
  mergedReads: number;
  lostInFlight: number;
  cuts: number;
}

type StreamData = LinkUpEnvelope | LinkDownEnvelope;

/** An open stream; the network forgets it once it is closed or cut. */
export class SimStream {
  /** Arrival time of the last read each way: streams stay in order (the event queue keeps equal times in order too). */
  lastUp = 0;
  lastDown = 0;
  /** The last read posted each way, until it arrives: bytes due by then may join it. */
  unreadUp: StreamData | undefined = undefined;
  unreadDown: StreamData | undefined = undefined;

  constructor(
    readonly id: number,
    readonly device: string,
  ) {}
}

const DIR_OF: Record<StreamEnvelope['kind'] | HttpRequestEnvelope['kind'] | HttpResponseEnvelope['kind'], Dir> = {
  'http-req': 'up',
  'http-resp': 'down',
  'link-up': 'up',
  'close-server': 'up',
  'link-down': 'down',
  'close-client': 'down',
};

/** A write is split into 1 to this many reads, to exercise framing. */
const MAX_CHUNKS_PER_WRITE = 3;

/** How likely bytes due no later than an unread read of their stream join it (one read, several packets). */
const MERGE_PROBABILITY = 0.5;

export class SimNetwork {
  private readonly blocked = new Map<string, { up: boolean; down: boolean }>();
  private readonly streams = new Map<number, SimStream>();
  private nextStreamId = 1;
  readonly stats: NetStats = { datagrams: 0, dropped: 0, duplicated: 0, chunks: 0, splitWrites: 0, reads: 0, mergedReads: 0, lostInFlight: 0, cuts: 0 };
  /** Reads in flight that hold bytes of several writes. */
  private readonly merged = new WeakSet<StreamData>();

  constructor(
    private readonly q: EventQueue,
    private readonly rng: Rng,
    public faults: NetFaults,
    /**
     * Draw each device's latencies, losses and chunking from its own stream
     * (explicit runs: removing a device then leaves the others' draws alone,
     * which is what lets a failing run shrink). Default: one stream for all.
     */
    private readonly rngOf?: (device: string) => Rng,
  ) {}

  private r(device: string): Rng {
    return this.rngOf ? this.rngOf(device) : this.rng;
  }

  isBlocked(device: string, dir: Dir): boolean {
    const b = this.blocked.get(device);
    return b !== undefined && b[dir];
  }

  partition(device: string, up: boolean, down: boolean): void {
    this.blocked.set(device, { up, down });
  }

  heal(device: string): void {
    this.blocked.delete(device);
  }

  healAll(): void {
    this.blocked.clear();
  }

  /** One way's latency, for a message of this device. */
  latency(device: string): number {
    const f = this.faults;
    const rng = this.r(device);
    let ms = rng.between(f.latencyMs[0], f.latencyMs[1]);
    if (rng.chance(f.latencyTailProbability)) ms += f.latencyTailMs;
    return ms;
  }

  /** One half of an HTTP exchange: it arrives once per copy that gets through. */
  datagram(e: HttpRequestEnvelope | HttpResponseEnvelope): void {
    this.stats.datagrams++;
    const rng = this.r(e.device);
    if (this.isBlocked(e.device, DIR_OF[e.kind]) || rng.chance(this.faults.dropProbability)) {
      this.stats.dropped++;
      return;
    }
    const copies = rng.chance(this.faults.duplicateProbability) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) this.q.post(this.q.now + this.latency(e.device), e);
  }

  /** Open a stream: after a round trip the handshake arrives, and `accept` opens the stream unless the device is cut off. */
  connect(e: ConnectEnvelope): void {
    const rtt = this.latency(e.device) + this.latency(e.device);
    this.q.post(this.q.now + rtt, e);
  }

  /** The handshake arrived: the open stream, or undefined if the device is cut off either way. */
  accept(e: ConnectEnvelope): SimStream | undefined {
    if (this.isBlocked(e.device, 'up') || this.isBlocked(e.device, 'down')) return undefined;
    const s = new SimStream(this.nextStreamId++, e.device);
    this.streams.set(s.id, s);
    return s;
  }

  /**
   * Bytes on an open stream, in order, split into reads that each arrive as a
   * copy of the envelope. If they are due no later than the stream's last read
   * not yet arrived, the first piece may join that read instead: the receiver
   * had not read yet, so it finds both in its buffer (TCP's several packets per
   * read). They then arrive at that read's time, which the drawn latency allows.
   */
  write(e: StreamData): void {
    const s = this.streams.get(e.stream);
    if (!s) return;
    const up = e.kind === 'link-up';
    const lastAt = up ? s.lastUp : s.lastDown;
    const at = Math.max(this.q.now + this.latency(s.device), lastAt);
    if (up) s.lastUp = at;
    else s.lastDown = at;
    const rng = this.r(s.device);
    const bytes = e.bytes;
    const n = bytes.length;
    const pieces = n > 1 ? rng.int(1, Math.min(MAX_CHUNKS_PER_WRITE, n)) : 1;
    if (n === 0) return;
    // The cuts in the order drawn, then sorted: at most MAX_CHUNKS_PER_WRITE - 1 of them, so two locals.
    let c1 = n;
    let c2 = n;
    if (pieces >= 2) c1 = rng.int(1, n - 1);
    if (pieces >= 3) {
      const c = rng.int(1, n - 1);
      if (c < c1) {
        c2 = c1;
        c1 = c;
      } else c2 = c;
    }
    let from = 0;
    let reads = 0;
    // The unread read is the last one posted, due at lastAt: these bytes are due by then when the latency drawn was clamped to it.
    const unread = up ? s.unreadUp : s.unreadDown;
    if (unread !== undefined && at === lastAt && rng.chance(MERGE_PROBABILITY)) {
      from = c1;
      unread.bytes = concat(unread.bytes, bytes.subarray(0, from));
      this.merged.add(unread);
      reads++;
    }
    // The pieces end at c1, c2 and n (equal ends make no piece).
    for (let k = 0; k < MAX_CHUNKS_PER_WRITE; k++) {
      const to = k === 0 ? c1 : k === 1 ? c2 : n;
      if (to <= from) continue;
      // One piece: the envelope travels as it is (its maker hands it over and keeps no reference).
      const piece: StreamData = from === 0 && to === n ? e : { ...e, bytes: bytes.subarray(from, to) };
      this.stats.chunks++;
      reads++;
      if (up) s.unreadUp = piece;
      else s.unreadDown = piece;
      this.q.post(at, piece);
      from = to;
    }
    if (reads > 1) this.stats.splitWrites++;
  }

  /**
   * One end closes an open stream after what it wrote: the far end hears the
   * close once that data has arrived; the closing end is done at once.
   */
  finish(e: CloseServerEnvelope | CloseClientEnvelope): void {
    const s = this.streams.get(e.stream);
    if (!s) return;
    const up = e.kind === 'close-server';
    const at = Math.max(this.q.now + this.latency(s.device), up ? s.lastUp : s.lastDown);
    // Nothing joins a read past the close.
    if (up) {
      s.lastUp = at;
      s.unreadUp = undefined;
    } else {
      s.lastDown = at;
      s.unreadDown = undefined;
    }
    this.q.post(at, e);
  }

  /** Cut an open stream: what is in flight is lost; each end hears of it after a latency. */
  cut(stream: number, toClient: CutClientEnvelope, toServer: CutServerEnvelope): void {
    const s = this.streams.get(stream);
    if (!s) return;
    this.streams.delete(stream);
    this.stats.cuts++;
    this.q.post(this.q.now + this.latency(s.device), toClient);
    this.q.post(this.q.now + this.latency(s.device), toServer);
  }

  /** An envelope is due: does it get through? A close that does closes its stream. */
  arrives(e: Envelope): boolean {
    switch (e.kind) {
      case 'http-req':
      case 'http-resp':
        // A partition that began while the message was in flight loses it.
        if (!this.isBlocked(e.device, DIR_OF[e.kind])) return true;
        this.stats.lostInFlight++;
        return false;
      case 'link-up':
      case 'link-down': {
        const s = this.streams.get(e.stream);
        if (!s) {
          this.stats.lostInFlight++;
          return false;
        }
        if (e.kind === 'link-up') {
          if (s.unreadUp === e) s.unreadUp = undefined;
        } else if (s.unreadDown === e) s.unreadDown = undefined;
        this.stats.reads++;
        if (this.merged.has(e)) this.stats.mergedReads++;
        return true;
      }
      case 'close-server':
      case 'close-client':
        return this.streams.delete(e.stream);
      case 'http-refused':
      case 'http-reset':
      case 'connect':
      case 'cut-client':
      case 'cut-server':
        return true;
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
