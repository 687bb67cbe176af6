// The simulated network between client devices and the server: a star.
// HTTP halves travel as datagrams that can be lost, duplicated or delayed
// (which reorders them); long links are ordered byte streams that arrive in
// random chunks and can be cut, losing what is in flight. Partitions block a
// device one way or both; faults are checked again on arrival, so they reach
// messages already in flight.
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
  chunks: number;
  lostInFlight: number;
  cuts: number;
}

export class SimStream {
  open = true;
  /** Arrival time of the last chunk each way: streams stay in order. */
  lastAt: Record<Dir, number> = { up: 0, down: 0 };

  constructor(
    readonly id: number,
    readonly device: string,
  ) {}
}

export class SimNetwork {
  private readonly blocked = new Map<string, { up: boolean; down: boolean }>();
  private nextStreamId = 1;
  readonly stats: NetStats = { datagrams: 0, dropped: 0, duplicated: 0, chunks: 0, lostInFlight: 0, cuts: 0 };

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

  /** One half of an HTTP exchange. `arrive` runs once per copy that gets through. */
  datagram(device: string, dir: Dir, kind: string, arrive: () => void): void {
    this.stats.datagrams++;
    const rng = this.r(device);
    if (this.isBlocked(device, dir) || rng.chance(this.faults.dropProbability)) {
      this.stats.dropped++;
      return;
    }
    const copies = rng.chance(this.faults.duplicateProbability) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      this.q.schedule(this.q.now + this.latency(device), kind, device, () => {
        // A partition that began while the message was in flight loses it.
        if (this.isBlocked(device, dir)) {
          this.stats.lostInFlight++;
          return;
        }
        arrive();
      });
    }
  }

  /** Open a stream: after a round trip `done(stream)`, or `done(undefined)` if the device is cut off. */
  connect(device: string, done: (s: SimStream | undefined) => void): void {
    const rtt = this.latency(device) + this.latency(device);
    const s = new SimStream(this.nextStreamId++, device);
    this.q.schedule(this.q.now + rtt, 'connect', device, () => {
      if (this.isBlocked(device, 'up') || this.isBlocked(device, 'down')) done(undefined);
      else done(s);
    });
  }

  /** Bytes on a stream, in order, split into 1 to 3 chunks to exercise framing. */
  write(s: SimStream, dir: Dir, bytes: Uint8Array, arrive: (chunk: Uint8Array) => void): void {
    if (!s.open) return;
    const at = Math.max(this.q.now + this.latency(s.device), s.lastAt[dir]);
    s.lastAt[dir] = at;
    const rng = this.r(s.device);
    const pieces = bytes.length > 1 ? rng.int(1, Math.min(3, bytes.length)) : 1;
    const cuts: number[] = [];
    for (let i = 1; i < pieces; i++) cuts.push(rng.int(1, bytes.length - 1));
    cuts.sort((a, b) => a - b);
    let from = 0;
    for (const to of [...cuts, bytes.length]) {
      if (to <= from) continue;
      const chunk = bytes.subarray(from, to);
      from = to;
      this.stats.chunks++;
      this.q.schedule(at, dir === 'up' ? 'link-up' : 'link-down', s.device, () => {
        if (!s.open) {
          this.stats.lostInFlight++;
          return;
        }
        arrive(chunk);
      });
    }
  }

  /**
   * One end closes after what it wrote: the far end hears the close once that
   * data has arrived; the closing end is done at once.
   */
  finish(s: SimStream, from: Dir, farSide: () => void): void {
    if (!s.open) return;
    const at = Math.max(this.q.now + this.latency(s.device), s.lastAt[from]);
    s.lastAt[from] = at;
    this.q.schedule(at, from === 'down' ? 'close-client' : 'close-server', s.device, () => {
      if (!s.open) return;
      s.open = false;
      farSide();
    });
  }

  /** Cut a stream: what is in flight is lost; each end hears of it after a latency. */
  cut(s: SimStream, clientSide: () => void, serverSide: () => void): void {
    if (!s.open) return;
    s.open = false;
    this.stats.cuts++;
    this.q.schedule(this.q.now + this.latency(s.device), 'cut-client', s.device, clientSide);
    this.q.schedule(this.q.now + this.latency(s.device), 'cut-server', s.device, serverSide);
  }
}
