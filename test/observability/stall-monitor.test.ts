// The server's own stall measurements: the event-loop delay a blocked loop
// causes, commits as they are told, per interval and in total, and windows
// whose histograms survive the trip to another process.
import * as hdr from 'hdr-histogram-js';
import { createHistogram } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { LOOP_RESOLUTION_MS, StallMonitor, recordedValues } from '../../server/observability/stall-monitor.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Holds the event loop for `ms`: the stall the monitor must see. */
function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

/** HDR keeps two significant digits: a value reads back within 1%. */
function near(actual: number, expected: number): void {
  expect(actual).toBeGreaterThanOrEqual(expected * 0.99);
  expect(actual).toBeLessThanOrEqual(expected * 1.01);
}

describe('recordedValues', () => {
  it('hands over every value a perf_hooks histogram holds, ascending, in runs', () => {
    const h = createHistogram();
    // Small integers sit in buckets of their own; a large one reads back as its bucket's top.
    for (const v of [5, 1, 5, 2, 1, 5, 1_000_000]) h.record(v);
    const runs = recordedValues(h);
    expect(runs.slice(0, 3)).toEqual([
      [1, 2],
      [2, 1],
      [5, 3],
    ]);
    expect(runs).toHaveLength(4);
    expect(runs[3]![1]).toBe(1);
    expect(runs[3]![0]).toBeGreaterThanOrEqual(1_000_000);
    expect(runs[3]![0]).toBeLessThanOrEqual(1_001_000);
    expect(recordedValues(createHistogram())).toEqual([]);
  });

  it('hands over many values so that a histogram rebuilt from them answers every percentile the same', () => {
    const h = createHistogram();
    for (let i = 1; i <= 5000; i++) h.record(1 + ((i * 7919) % 100_000));
    const runs = recordedValues(h);
    for (let i = 1; i < runs.length; i++) expect(runs[i]![0]).toBeGreaterThan(runs[i - 1]![0]);
    const rebuilt = createHistogram();
    for (const [v, c] of runs) for (let i = 0; i < c; i++) rebuilt.record(v);
    expect(rebuilt.count).toBe(h.count);
    for (const p of [0.1, 1, 10, 50, 90, 99, 99.9, 100]) expect(rebuilt.percentile(p), `p${p}`).toBe(h.percentile(p));
  });
});

describe('StallMonitor', () => {
  const monitors: StallMonitor[] = [];
  const monitor = (...args: ConstructorParameters<typeof StallMonitor>): StallMonitor => {
    const m = new StallMonitor(...args);
    monitors.push(m);
    return m;
  };
  afterEach(() => {
    for (const m of monitors.splice(0)) m.stop();
  });

  it('sees the loop blocked for 60 ms as a delay of at least 60 ms less its resolution', async () => {
    const BUSY_MS = 60;
    let told = 0;
    const m = monitor({ loopDelay: (_ms, count) => (told += count) });
    await sleep(3 * LOOP_RESOLUTION_MS);
    busyWait(BUSY_MS);
    // The monitor's timer fires once the loop is free again and records the turn it waited.
    await sleep(3 * LOOP_RESOLUTION_MS);
    const first = m.snapshot();
    // The timer was due at most one resolution after the wait began, and ran after it ended.
    expect(first.interval.eventLoop.maxMs).toBeGreaterThanOrEqual(BUSY_MS - LOOP_RESOLUTION_MS);
    expect(first.interval.eventLoop.p50Ms).toBeLessThanOrEqual(first.interval.eventLoop.p99Ms);
    expect(first.interval.eventLoop.p99Ms).toBeLessThanOrEqual(first.interval.eventLoop.maxMs);
    const second = m.snapshot();
    expect(second.total.eventLoop.maxMs).toBeGreaterThanOrEqual(BUSY_MS - LOOP_RESOLUTION_MS);
    expect(second.total.eventLoop.count).toBe(first.interval.eventLoop.count + second.interval.eventLoop.count);
    // Every delay handed to the windows was told to the listener too (the /metrics histogram).
    expect(told).toBe(second.total.eventLoop.count);
  });

  it('counts commits as it is told them, per interval and in total', () => {
    const told: Array<[number, number]> = [];
    const m = monitor({ commit: (ms, commands) => told.push([ms, commands]) });
    m.commitDone(1, 1);
    m.commitDone(2, 3);
    m.commitDone(100, 4);
    const a = m.snapshot();
    expect(a.interval.commit.count).toBe(3);
    expect(a.interval.commit.commands).toBe(8);
    near(a.interval.commit.p50Ms, 2);
    near(a.interval.commit.p99Ms, 100);
    near(a.interval.commit.maxMs, 100);
    expect(told).toEqual([
      [1, 1],
      [2, 3],
      [100, 4],
    ]);
    m.commitDone(7, 2);
    const b = m.snapshot();
    expect(b.interval.commit).toMatchObject({ count: 1, commands: 2 });
    near(b.interval.commit.maxMs, 7);
    expect(b.total.commit).toMatchObject({ count: 4, commands: 10 });
    near(b.total.commit.maxMs, 100);
    expect(m.snapshot().interval.commit).toEqual({ count: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, commands: 0 });
  });

  it('gives each window its own interval, with histograms that decode to the same figures', async () => {
    const m = monitor();
    const w = m.openWindow();
    m.commitDone(3, 1);
    m.commitDone(30, 1);
    m.snapshot(); // resets the monitor's interval, not the window
    await sleep(5 * LOOP_RESOLUTION_MS);
    const e = w.take();
    expect(e.figures.commit).toMatchObject({ count: 2, commands: 2 });
    const commits = hdr.decodeFromCompressedBase64(e.commit);
    expect(commits.totalCount).toBe(2);
    // The encoding keeps buckets, not the exact max.
    near(commits.maxValue / 1000, e.figures.commit.maxMs);
    const loop = hdr.decodeFromCompressedBase64(e.eventLoop);
    expect(loop.totalCount).toBe(e.figures.eventLoop.count);
    expect(e.figures.eventLoop.count).toBeGreaterThan(0);
    // take() reset it; a closed window is no longer fed.
    expect(w.take().figures.commit.count).toBe(0);
    m.closeWindow(w);
    m.commitDone(3, 1);
    expect(w.take().figures.commit.count).toBe(0);
  });

  it('keeps its figures readable after stop', () => {
    const m = monitor();
    m.commitDone(4, 2);
    m.stop();
    m.commitDone(5, 1);
    const s = m.snapshot();
    expect(s.total.commit).toMatchObject({ count: 2, commands: 3 });
  });
});
