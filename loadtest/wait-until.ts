// Bounded waiting: every wait of the load test polls a condition with a
// time limit, so nothing runs on by itself.

/** Resolves once `f()` holds; rejects after `ms` with what it was waiting for. */
export function until(f: () => boolean, ms: number, what: () => string, everyMs = 10): Promise<void> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (f()) return resolve();
      if (performance.now() - t0 > ms) return reject(new Error(`timed out after ${Math.round(ms)} ms waiting for ${what()}`));
      setTimeout(poll, everyMs);
    };
    poll();
  });
}
