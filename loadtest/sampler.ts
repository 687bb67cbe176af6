// Sampling the server under test while a phase runs: its memory over time,
// from the first and last samples its CPU share and group commits, and the
// stalls it measured itself (event-loop delay, commit latency) per sampling
// interval, merged into the phase's figures.
import * as hdr from 'hdr-histogram-js';
import { delayFigures, stallHistogram, type DelayFigures, type EncodedStalls } from '../server/observability/stall-monitor.ts';
import type { MemoryPoint } from './phase.ts';
import type { ServerSample } from './target.ts';

/** A sample from a server that measures its own stalls (loadtest/server-process.ts): those since its previous sample. */
export type StallSample = ServerSample & { stalls?: EncodedStalls };

/** The server's event-loop delay and commit latency over one sampling interval. */
export interface StallPoint {
  /** Seconds since the phase began, at the middle of the interval. */
  t: number;
  /** The interval's length, s. */
  span: number;
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
  commitP99Ms: number;
  commitMaxMs: number;
  commits: number;
}

/** What the server measured of its own stalls during a phase. */
export interface PhaseStalls {
  eventLoop: DelayFigures;
  commit: DelayFigures & { commands: number };
  /** One point per sampling interval (every 0.5 s unless the phase says). */
  timeline: StallPoint[];
}

/** A phase's result, with the server's stalls when it reports them. */
export interface WithStalls {
  serverStalls?: PhaseStalls;
}

export interface ServerSampler {
  /** Takes a last sample and returns them all. */
  stop: () => Promise<MemoryPoint[]>;
  /** The server's CPU over the samples, % of one core, if it reports its CPU time. */
  cpu: () => number | undefined;
  /** The server's group commits over the samples, if it reports them. */
  commits: () => number | undefined;
  /** The server's stalls between the first and the last sample, if it reports them. */
  stalls: () => PhaseStalls | undefined;
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Samples the server every `everyMs` until stopped. */
export function sampler(target: { sample?: () => Promise<StallSample | undefined> }, t0: number, everyMs: number): ServerSampler {
  const points: MemoryPoint[] = [];
  const stallPoints: StallPoint[] = [];
  const loop = stallHistogram();
  const commit = stallHistogram();
  let commands = 0;
  // The exact maxima, from each sample's figures: the decoded histograms know only their buckets.
  let loopMaxUs = 0;
  let commitMaxUs = 0;
  let first: ServerSample | undefined;
  let last: ServerSample | undefined;
  let firstAt = 0;
  let lastAt = 0;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  // The first sample's stalls cover the time before the phase: only the intervals after it count.
  const addStalls = (e: EncodedStalls, at: number): void => {
    const l = hdr.decodeFromCompressedBase64(e.eventLoop);
    const c = hdr.decodeFromCompressedBase64(e.commit);
    loop.add(l);
    commit.add(c);
    commands += e.figures.commit.commands;
    loopMaxUs = Math.max(loopMaxUs, Math.round(e.figures.eventLoop.maxMs * 1000));
    commitMaxUs = Math.max(commitMaxUs, Math.round(e.figures.commit.maxMs * 1000));
    const span = e.ms / 1000;
    stallPoints.push({
      t: r3((at - t0) / 1000 - span / 2),
      span: r3(span),
      eventLoopP99Ms: e.figures.eventLoop.p99Ms,
      eventLoopMaxMs: e.figures.eventLoop.maxMs,
      commitP99Ms: e.figures.commit.p99Ms,
      commitMaxMs: e.figures.commit.maxMs,
      commits: e.figures.commit.count,
    });
  };
  const take = async (): Promise<void> => {
    const s = await target.sample?.().catch(() => undefined);
    if (!s) return;
    const at = performance.now();
    if (!first) {
      first = s;
      firstAt = at;
    } else if (s.stalls) addStalls(s.stalls, at);
    last = s;
    lastAt = at;
    points.push({
      t: Math.round(at - t0) / 1000,
      rssBytes: s.rssBytes,
      ...(s.heapUsedBytes !== undefined ? { heapUsedBytes: s.heapUsedBytes } : {}),
      ...(s.openLinks !== undefined ? { openLinks: s.openLinks } : {}),
    });
  };
  const timer = setInterval(() => {
    if (!stopped) running = running.then(take);
  }, everyMs);
  running = running.then(take);
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      running = running.then(take);
      await running;
      return points;
    },
    commits: () => (first?.commits !== undefined && last?.commits !== undefined ? last.commits - first.commits : undefined),
    cpu: () =>
      first?.cpuMs !== undefined && last?.cpuMs !== undefined && lastAt > firstAt
        ? Math.round(((last.cpuMs - first.cpuMs) / (lastAt - firstAt)) * 1000) / 10
        : undefined,
    stalls: () =>
      stallPoints.length === 0 ? undefined : ({
            eventLoop: delayFigures(loop, loopMaxUs),
            commit: { ...delayFigures(commit, commitMaxUs), commands },
            timeline: stallPoints,
          }),
  };
}
