// Capped exponential backoff with "equal jitter": the n-th consecutive
// failure waits between half and all of min(max, base * 2^(n-1)), the share
// drawn from the caller's random source so a simulation replays exactly.

/**
 * Delay in whole milliseconds after the `failures`-th consecutive failure (1, 2, ...).
 * `random` returns a number in [0, 1).
 */
export function backoffMs(failures: number, baseMs: number, maxMs: number, random: () => number): number {
  const n = Math.max(1, Math.floor(failures));
  // 2^(n-1) overflows to Infinity for large n; min() caps it either way.
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(n - 1, 1023));
  const r = random();
  const share = r >= 0 && r < 1 ? r : 0;
  return Math.floor(ceiling / 2 + (share * ceiling) / 2);
}
