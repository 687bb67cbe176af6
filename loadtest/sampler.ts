// Sampling the server under test while a phase runs: its memory over time,
// and from the first and last samples its CPU share and group commits.
import type { MemoryPoint } from './phase.ts';
import type { ServerSample } from './target.ts';

export interface ServerSampler {
  /** Takes a last sample and returns them all. */
  stop: () => Promise<MemoryPoint[]>;
  /** The server's CPU over the samples, % of one core, if it reports its CPU time. */
  cpu: () => number | undefined;
  /** The server's group commits over the samples, if it reports them. */
  commits: () => number | undefined;
}

/** Samples the server every `everyMs` until stopped. */
export function sampler(target: { sample?: () => Promise<ServerSample | undefined> }, t0: number, everyMs: number): ServerSampler {
  const points: MemoryPoint[] = [];
  let first: ServerSample | undefined;
  let last: ServerSample | undefined;
  let firstAt = 0;
  let lastAt = 0;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const take = async (): Promise<void> => {
    const s = await target.sample?.().catch(() => undefined);
    if (!s) return;
    const at = performance.now();
    if (!first) {
      first = s;
      firstAt = at;
    }
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
  };
}
