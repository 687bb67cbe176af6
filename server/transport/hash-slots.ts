// How many password hashes compute at once. scrypt runs on libuv's thread
// pool (four threads by default) and takes tens of milliseconds of a core
// each: four at once on a two-core machine leave the event loop, which every
// other client waits on, a fraction of a core (profiled under the abuse
// profile's login-guessing attack: honest heartbeats waited 100+ ms). The
// node admits at most maxHashJobs; of those, this many compute and the rest
// wait their turn here, in order.

export class HashSlots {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {
    if (!(size >= 1)) throw new RangeError(`hash slots must be at least 1, got ${size}`);
  }

  /** Start `work` when a slot is free; the slot is freed when its promise settles. */
  run<T>(work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        this.running++;
        let p: Promise<T>;
        try {
          p = work();
        } catch (e) {
          p = Promise.reject(e);
        }
        p.then(resolve, reject).finally(() => {
          this.running--;
          this.waiting.shift()?.();
        });
      };
      if (this.running < this.size) start();
      else this.waiting.push(start);
    });
  }
}

/** One core is the event loop's: the hashes get the others, and at least one. */
export function defaultHashSlots(cores: number): number {
  return Math.max(1, cores - 1);
}
