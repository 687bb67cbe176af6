// Open-model arrivals: sends at Poisson times at a fixed rate across all
// senders, whether or not the server keeps up (the offered load does not wait
// for answers).

/** The longest the pump sleeps between checks that the phase is still open. */
const MAX_PUMP_SLEEP_MS = 100;

/** Exponential inter-arrival time (ms) of a Poisson process of `ratePerSec`. */
export function interArrivalMs(ratePerSec: number, u: number): number {
  return (-Math.log(1 - u) / ratePerSec) * 1000;
}

export interface OpenArrivals {
  /** The phase's name, for the error on a missing rate. */
  phase: string;
  /** Sends per second across all senders. */
  rate: number | undefined;
  /** When the first arrival is due (performance.now() ms). */
  from: number;
  rand: () => number;
  /** Whether the phase still sends (its time and message bounds). */
  open: () => boolean;
  /** One send, to a sender it picks. */
  fire: () => void;
}

/** Fires at Poisson arrival times until `open()` turns false. */
export async function openArrivals(a: OpenArrivals): Promise<void> {
  const rate = a.rate ?? 0;
  if (!(rate > 0)) throw new RangeError(`phase ${a.phase}: an open phase needs a rate > 0`);
  let next = a.from;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      const t = performance.now();
      while (next <= t && a.open()) {
        a.fire();
        next += interArrivalMs(rate, a.rand());
      }
      if (!a.open()) return resolve();
      setTimeout(pump, Math.max(0, Math.min(next - performance.now(), MAX_PUMP_SLEEP_MS)));
    };
    pump();
  });
}
