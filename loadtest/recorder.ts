// Measuring one phase: HDR histograms of send-to-ack and send-to-delivery
// latency (recorded in µs, reported in ms) and per-second counters of what
// was offered, acknowledged, delivered and made durable.
import * as hdr from 'hdr-histogram-js';
import type { LatencySummary, TimelinePoint } from './phase.ts';

/** The longest latency a histogram tracks, µs: an hour. */
const MAX_TRACKABLE_US = 3_600_000_000;
/** The last, partial second of a timeline is left out when shorter than this share of a second. */
const MIN_PARTIAL_SECOND = 0.25;

interface Second {
  offered: number;
  acked: number;
  durable: number;
  deliveries: number;
  h: hdr.Histogram;
}

function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: MAX_TRACKABLE_US, numberOfSignificantValueDigits: 3 });
}

export function summarize(h: hdr.Histogram): LatencySummary {
  const ms = (us: number): number => Math.round(us) / 1000;
  if (h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
    mean: ms(h.mean),
  };
}

/** Rounds to one decimal, as every rate of a report is. */
export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

const us = (ms: number): number => Math.max(1, Math.round(ms * 1000));

/** Per-second counters and latency of one phase. */
export class Recorder {
  readonly t0 = performance.now();
  readonly delivery = histogram();
  readonly ack = histogram();
  readonly seconds: Second[] = [];
  lastDurableAt = 0;

  #sec(at: number): Second {
    const i = Math.max(0, Math.floor((at - this.t0) / 1000));
    while (this.seconds.length <= i) {
      this.seconds.push({ offered: 0, acked: 0, durable: 0, deliveries: 0, h: hdr.build({ numberOfSignificantValueDigits: 2 }) });
    }
    return this.seconds[i]!;
  }

  offered(at: number): void {
    this.#sec(at).offered++;
  }

  acked(at: number, latencyMs: number): void {
    this.#sec(at).acked++;
    this.ack.recordValue(us(latencyMs));
  }

  delivered(at: number, latencyMs: number): void {
    const s = this.#sec(at);
    s.deliveries++;
    s.h.recordValue(us(latencyMs));
    this.delivery.recordValue(us(latencyMs));
  }

  durable(at: number): void {
    this.#sec(at).durable++;
    this.lastDurableAt = Math.max(this.lastDurableAt, at);
  }

  /** Per-second rates; the last, partial second is scaled by its length (and left out if shorter than 0.25 s). */
  timeline(endMs: number): TimelinePoint[] {
    const out: TimelinePoint[] = [];
    this.seconds.forEach((s, i) => {
      const len = Math.min(1, (endMs - i * 1000) / 1000);
      if (len < MIN_PARTIAL_SECOND) return;
      const r = (x: number): number => round1(x / len);
      out.push({
        t: i,
        offered: r(s.offered),
        acked: r(s.acked),
        durable: r(s.durable),
        deliveries: r(s.deliveries),
        p50Ms: s.h.totalCount ? s.h.getValueAtPercentile(50) / 1000 : 0,
        p99Ms: s.h.totalCount ? s.h.getValueAtPercentile(99) / 1000 : 0,
      });
    });
    return out;
  }

  destroy(): void {
    this.delivery.destroy();
    this.ack.destroy();
    for (const s of this.seconds) s.h.destroy();
  }
}
