// Where connections shed at a cap wait out their answer. A client that
// reconnects in a loop the moment it is shed (a password guesser, a
// trickler) makes the server pay an accept, a socket and an answer each
// time, thousands a second over loopback: profiled under the abuse profile,
// that churn was most of what the server did. Two bounds:
// - A connection shed for its address's rate (CONN_RATE_LIMIT) gets its
//   answer only after `delayMs` (a tarpit): a client that waits for the
//   answer before trying again is slowed to its own concurrency per delay,
//   whatever its loop. Nothing is read from it meanwhile.
// - Shed sockets held (tarpitted, or answered and given `graceMs` to read
//   the answer before they are destroyed) are at most `maxHeld`: past it a
//   shed socket is answered and destroyed at once, which may turn the answer
//   into a reset under such a flood; memory stays bounded either way.
import type { Duplex } from 'node:stream';
import { DEFAULT_TRANSPORT_LIMITS } from './transport-limits.ts';

export interface ShedHoldOptions {
  delayMs: number;
  graceMs: number;
  maxHeld: number;
}

export interface ShedHoldStats {
  /** Shed sockets waiting now (tarpit or grace). */
  held: number;
  /** Sheds answered late (tarpitted). */
  delayed: number;
  /** Sheds answered and destroyed at once because maxHeld sockets were already held. */
  overflowed: number;
}

export class ShedHold {
  readonly stats: ShedHoldStats = { held: 0, delayed: 0, overflowed: 0 };

  constructor(private readonly o: ShedHoldOptions) {}

  /**
   * Answer a shed socket and close it. `answer` is written, then the write
   * side ends; `tarpit`: wait delayMs first. The caller stopped reading it.
   */
  refuse(socket: Duplex, answer: () => string | Uint8Array, tarpit: boolean): void {
    if (this.stats.held >= this.o.maxHeld) {
      this.stats.overflowed++;
      socket.end(answer());
      socket.destroy();
      return;
    }
    this.stats.held++;
    let released = false;
    let timer: NodeJS.Timeout | undefined;
    const release = (): void => {
      if (released) return;
      released = true;
      this.stats.held--;
      if (timer) clearTimeout(timer);
    };
    socket.once('close', release);
    const answerNow = (): void => {
      if (socket.destroyed) return release();
      socket.end(answer());
      timer = setTimeout(() => {
        release();
        socket.destroy();
      }, this.o.graceMs);
      timer.unref();
    };
    if (!tarpit || this.o.delayMs <= 0) return answerNow();
    this.stats.delayed++;
    timer = setTimeout(answerNow, this.o.delayMs);
    timer.unref();
  }
}

/** A hold at the default limits (TransportLimits): for a transport built without the app's shared one. */
export function defaultShedHold(): ShedHold {
  return new ShedHold({ delayMs: DEFAULT_TRANSPORT_LIMITS.shedDelayMs, graceMs: 1000, maxHeld: DEFAULT_TRANSPORT_LIMITS.maxShedHeld });
}
