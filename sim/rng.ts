// Seeded random streams. Each component draws from its own stream, derived
// from the run's seed and the component's name, so adding a component (or a
// draw in one) never shifts what the others see.
import seedrandom from 'seedrandom';

export class Rng {
  private readonly prng: seedrandom.PRNG;
  draws = 0;

  constructor(readonly name: string, seed: string) {
    this.prng = seedrandom.alea(`${seed}/${name}`);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.draws++;
    return this.prng();
  }

  /** Integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new RangeError(`${this.name}: pick from an empty list`);
    return xs[Math.floor(this.next() * xs.length)]!;
  }

  /** A copy of `xs` in an order drawn from this stream (Fisher-Yates, from the end). */
  shuffled<T>(xs: readonly T[]): T[] {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }

  /** Exponentially distributed with the given mean (Poisson arrivals). */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** Uniform in [min, max]. */
  between(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.next() * 256);
    return b;
  }

  /** A weighted choice over [item, weight] pairs. */
  weighted<T>(pairs: ReadonlyArray<readonly [T, number]>): T {
    const total = pairs.reduce((s, [, w]) => s + w, 0);
    let x = this.next() * total;
    for (const [item, w] of pairs) {
      if ((x -= w) < 0) return item;
    }
    return pairs[pairs.length - 1]![0];
  }
}

/** The named streams of one run. */
export class Streams {
  private readonly streams = new Map<string, Rng>();

  constructor(readonly seed: string) {}

  get(name: string): Rng {
    let r = this.streams.get(name);
    if (!r) this.streams.set(name, (r = new Rng(name, this.seed)));
    return r;
  }

  /** Total draws per stream, for the determinism report. */
  draws(): Array<[string, number]> {
    return [...this.streams].map(([n, r]) => [n, r.draws]);
  }
}
