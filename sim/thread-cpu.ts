// The CPU time of the calling thread, for the sweep's report only (never a
// run's input). On a machine shared with other work a run's wall time
// counts the time it waited for a core; its thread's CPU time does not, so
// events per CPU second of the thread that ran them is the per-core speed
// that stays put. Linux gives it per thread in /proc/thread-self/schedstat
// (nanoseconds on a CPU, first field); elsewhere there is none.
import fs from 'node:fs';

const SCHEDSTAT = '/proc/thread-self/schedstat';

/** A clock of the calling thread's CPU milliseconds, or undefined where the system gives none. */
export function threadCpuClock(): (() => number) | undefined {
  const read = (): number => Number(fs.readFileSync(SCHEDSTAT, 'latin1').split(' ', 1)[0]) / 1e6;
  try {
    return Number.isFinite(read()) ? read : undefined;
  } catch {
    return undefined;
  }
}
