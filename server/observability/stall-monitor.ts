// Stalls measured by the server itself, so that a load report shows them
// rather than leaving them to be guessed from client latency: the delay of
// its event loop (perf_hooks.monitorEventLoopDelay: a timer due every
// `resolution` ms records how long each turn really took) and the latency
// of each commit, with the commands it carried.
//
// Node's event-loop histogram can be neither merged nor sent to another
// process, and a load report needs both (a phase's p99 from half-second
// samples of a server in a child process). So it is drained, once a second
// and before every read, into HDR histograms (hdr-histogram-js) that can:
// asking it for the percentile of rank k gives its k-th smallest value, so
// k = 1..n hands over every recorded delay at the histogram's own
// precision, for n lookups (n ≤ one second / resolution).
import * as hdr from 'hdr-histogram-js';
import { monitorEventLoopDelay, performance, type Histogram, type IntervalHistogram } from 'node:perf_hooks';

/** How finely the event loop is sampled, in ms: a stall shorter than this may go unseen. */
export const LOOP_RESOLUTION_MS = 10;
/** How often Node's histogram is drained, so a drain stays short even when nothing reads. */
const DRAIN_EVERY_MS = 1000;
/** The longest delay or commit tracked, µs: an hour. */
const MAX_TRACKABLE_US = 3_600_000_000;
// Two significant digits (1%) and the fastest deflate: a window is encoded
// on the server's own event loop twice a second under load, in ~0.05 ms
// (three digits and the default level take ~0.8 ms).
const SIGNIFICANT_DIGITS = 2;
const COMPRESSION_LEVEL = 1;

export interface DelayFigures {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface StallFigures {
  /** How late the loop's turns ran beyond the resolution: one sample per turn of the monitor's timer. */
  eventLoop: DelayFigures;
  /** One sample per commit; `commands` is what those commits carried. */
  commit: DelayFigures & { commands: number };
}

export interface StallSnapshot {
  /** Since the previous snapshot (or the monitor's start). */
  interval: StallFigures & { ms: number };
  /** Since the monitor's start. */
  total: StallFigures & { ms: number };
}

/** A window's histograms as sent to another process: hdr-histogram-js compressed base64. */
export interface EncodedStalls {
  ms: number;
  figures: StallFigures;
  eventLoop: string;
  commit: string;
}

/** Told of every delay and commit as it is recorded (the server's Prometheus metrics). */
export interface StallListener {
  loopDelay?(ms: number, count: number): void;
  commit?(ms: number, commands: number): void;
}

export function stallHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: MAX_TRACKABLE_US, numberOfSignificantValueDigits: SIGNIFICANT_DIGITS });
}

/**
 * Every value a perf_hooks histogram holds, ascending, in runs of equal
 * values ([value, count]), at the histogram's precision. Rank k is asked for
 * a quarter rank below it, percentile 100·(k − ¼)/n: HDR turns a percentile
 * into a rank by rounding (p/100·n + ½, truncated) or, in newer versions,
 * by ceiling, and both give k there whatever the floating-point error.
 */
export function recordedValues(h: Histogram): Array<[value: number, count: number]> {
  const n = h.count;
  const runs: Array<[number, number]> = [];
  for (let k = 1; k <= n; k++) {
    const v = h.percentile((100 * (k - 0.25)) / n);
    const last = runs[runs.length - 1];
    if (last && last[0] === v) last[1]++;
    else runs.push([v, 1]);
  }
  return runs;
}

const encode = (h: hdr.Histogram): string => hdr.encodeIntoCompressedBase64(h, COMPRESSION_LEVEL);

/**
 * p50, p99 and max of a histogram of µs, in ms. A percentile is its bucket's
 * upper bound, so it is capped at the max: the value recorded, or (a
 * histogram decoded from another process has only its buckets) `maxUs`.
 */
export function delayFigures(h: hdr.Histogram, maxUs = h.maxValue): DelayFigures {
  const ms = (us: number): number => Math.round(us) / 1000;
  if (h.totalCount === 0) return { count: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };
  const at = (p: number): number => ms(Math.min(h.getValueAtPercentile(p), maxUs));
  return { count: h.totalCount, p50Ms: at(50), p99Ms: at(99), maxMs: ms(maxUs) };
}

/** What happened since the window was last reset; fed by its monitor until closed. */
export class StallWindow {
  readonly eventLoop = stallHistogram();
  readonly commit = stallHistogram();
  private commands = 0;
  private since = performance.now();

  constructor(private readonly drain: () => void) {}

  /** @internal by the monitor */
  recordLoop(us: number, count: number): void {
    this.eventLoop.recordValueWithCount(us, count);
  }

  /** @internal by the monitor */
  recordCommit(us: number, commands: number): void {
    this.commit.recordValue(us);
    this.commands += commands;
  }

  read(): StallFigures & { ms: number } {
    this.drain();
    return {
      ms: Math.round(performance.now() - this.since),
      eventLoop: delayFigures(this.eventLoop),
      commit: { ...delayFigures(this.commit), commands: this.commands },
    };
  }

  /** The window's figures and histograms, then a reset: what a load test's sample carries. */
  take(): EncodedStalls {
    const { ms, ...figures } = this.read();
    const out = { ms, figures, eventLoop: encode(this.eventLoop), commit: encode(this.commit) };
    this.reset();
    return out;
  }

  reset(): void {
    this.eventLoop.reset();
    this.commit.reset();
    this.commands = 0;
    this.since = performance.now();
  }
}

export class StallMonitor {
  private readonly loop: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  private readonly windows = new Set<StallWindow>();
  private readonly interval: StallWindow;
  private readonly total: StallWindow;
  private stopped = false;

  constructor(
    private readonly listener: StallListener = {},
    private readonly resolutionMs = LOOP_RESOLUTION_MS,
  ) {
    this.loop = monitorEventLoopDelay({ resolution: resolutionMs });
    this.loop.enable();
    this.interval = this.openWindow();
    this.total = this.openWindow();
    this.timer = setInterval(() => this.drain(), DRAIN_EVERY_MS);
    this.timer.unref();
  }

  /** A commit ended after `ms`, carrying `commands` commands. */
  commitDone(ms: number, commands: number): void {
    const us = Math.max(1, Math.round(ms * 1000));
    for (const w of this.windows) w.recordCommit(us, commands);
    this.listener.commit?.(ms, commands);
  }

  /** The figures since the previous snapshot (then reset) and since the start. */
  snapshot(): StallSnapshot {
    const interval = this.interval.read();
    this.interval.reset();
    return { interval, total: this.total.read() };
  }

  /** A window of its own (a scraper's, a load test's), fed until closed. */
  openWindow(): StallWindow {
    const w = new StallWindow(() => this.drain());
    this.windows.add(w);
    return w;
  }

  closeWindow(w: StallWindow): void {
    this.windows.delete(w);
  }

  stop(): void {
    if (this.stopped) return;
    this.drain();
    this.stopped = true;
    clearInterval(this.timer);
    this.loop.disable();
  }

  // Hands every delay recorded since the last drain to the windows.
  private drain(): void {
    if (this.stopped || this.loop.count === 0) return;
    for (const [ns, count] of recordedValues(this.loop)) this.delays(ns, count);
    this.loop.reset();
  }

  // Node records each turn's whole length (≈ the resolution when idle): the delay is what exceeds it.
  private delays(ns: number, count: number): void {
    const us = Math.max(0, Math.round(ns / 1000 - this.resolutionMs * 1000));
    for (const w of this.windows) w.recordLoop(us, count);
    this.listener.loopDelay?.(us / 1000, count);
  }
}
