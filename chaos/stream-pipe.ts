// One direction of a proxied byte stream, with the faults a real network has
// and TCP's one promise kept: bytes arrive in the order they were written.
// A chunk is delayed (never past a later one: release times only grow), cut
// into pieces written a few ms apart, or held so that what follows it leaves
// in the same write. A stall (half-open link) or a partition holds everything
// until it ends, as TCP's retransmissions would; the receiver never sees a
// gap or a reordering inside the stream, only time. (The global clock, not
// perf_hooks': a test's fake timers drive it.)
import type { DirectionDice } from './fault-dice.ts';

/** Where the bytes go; undefined while the far end is not connected yet. */
export interface PipeSink {
  write(bytes: Buffer): void;
  end(): void;
}

/** Bytes held before the source is paused (and resumed below half of it). */
const HIGH_WATER_BYTES = 512 * 1024;

export interface PipeSource {
  pause(): void;
  resume(): void;
}

export class StreamPipe {
  private queue: Array<{ bytes: Buffer; at: number }> = [];
  private queuedBytes = 0;
  /** The release time of the last piece queued: no later piece leaves before it. */
  private lastAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private stalledUntil = 0;
  private blocked = false;
  private ending = false;
  private done = false;
  private paused = false;
  private sink: PipeSink | undefined;
  /** Bytes carried, for the tests and the report. */
  bytes = 0;
  writes = 0;

  constructor(
    private readonly dice: DirectionDice,
    private readonly source: PipeSource,
  ) {}

  /** The far end is connected: what was held for it may go. */
  connect(sink: PipeSink): void {
    this.sink = sink;
    this.pump();
  }

  push(chunk: Buffer): void {
    if (this.done || this.ending) return;
    const now = performance.now();
    const fate = this.dice.chunk(chunk.length);
    let offset = 0;
    for (let i = 0; i < fate.pieces.length; i++) {
      const size = fate.pieces[i]!;
      const at = Math.max(this.lastAt, now + fate.delays[i]!);
      this.lastAt = at;
      this.queue.push({ bytes: chunk.subarray(offset, offset + size), at });
      offset += size;
    }
    this.queuedBytes += chunk.length;
    if (!this.paused && this.queuedBytes > HIGH_WATER_BYTES) {
      this.paused = true;
      this.source.pause();
    }
    this.pump();
  }

  /** The source ended (FIN): end the far side once everything queued has left. */
  end(): void {
    if (this.done) return;
    this.ending = true;
    this.pump();
  }

  /** A half-open stall: nothing leaves for `ms`. */
  stall(ms: number): void {
    this.stalledUntil = Math.max(this.stalledUntil, performance.now() + ms);
    this.pump();
  }

  /** A partition: nothing leaves until unblock(). */
  block(): void {
    this.blocked = true;
  }

  unblock(): void {
    this.blocked = false;
    this.pump();
  }

  /** The connection died: what was held is lost, as a reset loses it. */
  drop(): void {
    this.done = true;
    this.queue = [];
    this.queuedBytes = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  get idle(): boolean {
    return this.queue.length === 0;
  }

  private pump(): void {
    if (this.done || !this.sink || this.blocked) return;
    const now = performance.now();
    if (now < this.stalledUntil) return this.wakeAt(this.stalledUntil);
    let n = 0;
    while (n < this.queue.length && this.queue[n]!.at <= now) n++;
    if (n > 0) {
      const due = this.queue.splice(0, n).map((p) => p.bytes);
      const bytes = due.length === 1 ? due[0]! : Buffer.concat(due);
      this.queuedBytes -= bytes.length;
      this.bytes += bytes.length;
      this.writes++;
      this.sink.write(bytes);
      if (this.paused && this.queuedBytes < HIGH_WATER_BYTES / 2) {
        this.paused = false;
        this.source.resume();
      }
    }
    if (this.queue.length > 0) return this.wakeAt(this.queue[0]!.at);
    if (this.ending) {
      this.done = true;
      this.sink.end();
    }
  }

  private wakeAt(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.pump();
      },
      Math.max(0, Math.ceil(at - performance.now())),
    );
  }
}
