// Real-time scheduling for a chaos run: callbacks at ms offsets from the
// start of the fault phase, all cancelled at once when the phase ends. A
// callback that throws is reported, not lost in a timer.
import { performance } from 'node:perf_hooks';

export class Timeline {
  private t0 = performance.now();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly onError: (e: unknown) => void) {}

  /** Time zero is now: the fault phase begins. */
  begin(): void {
    this.t0 = performance.now();
  }

  /** Ms since the timeline began. */
  get elapsed(): number {
    return performance.now() - this.t0;
  }

  /** Run `f` at `ms` after the timeline began (at once if that has passed). */
  at(ms: number, f: () => void | Promise<void>): void {
    this.after(ms - this.elapsed, f);
  }

  after(ms: number, f: () => void | Promise<void>): void {
    if (this.stopped) return;
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        if (this.stopped) return;
        try {
          const p = f();
          if (p) p.catch(this.onError);
        } catch (e) {
          this.onError(e);
        }
      },
      Math.max(0, ms),
    );
    this.timers.add(t);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
