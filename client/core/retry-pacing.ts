// How long the core waits before trying again. Two counts pace the sync
// loop or the long link: network failures (no answer, garbage) and setbacks
// (answers that bring no progress: 1100, 1200, empty news). Sends and
// contact operations back off per attempt instead.
import { backoffMs } from './backoff.ts';
import type { ClientConfig } from './client-config.ts';
import { retryAfterMs } from './replies.ts';

/** A server's retry-after hint is followed up to this long (a longer one is a server's mistake). */
const MAX_HINT_MS = 3_600_000;

export class RetryPacing {
  readonly #cfg: ClientConfig;
  readonly #http: boolean;
  readonly #random: () => number;
  /** Consecutive network failures of the sync loop or the link; reset when the server answers. */
  #failures = 0;
  /** Consecutive 1100s, 1200s and empty news without a good sync between; reset by one. */
  #setbacks = 0;

  /** `http`: the HTTP sync loop retries on the retry delays, the long link reconnects on the reconnect delays. */
  constructor(cfg: ClientConfig, http: boolean, random: () => number) {
    this.#cfg = cfg;
    this.#http = http;
    this.#random = random;
  }

  /** The server answered: network failures are forgiven. */
  answered(): void {
    this.#failures = 0;
  }

  /** Progress (a good sync, or an idle poll the server held to its end): setbacks are forgiven. */
  progressed(): void {
    this.#setbacks = 0;
  }

  /** A network failure: the next try waits backoff(failures). */
  failureDelay(): number {
    this.#failures++;
    return this.#backoff(this.#failures);
  }

  /** 1100, 1200 or empty news: act at once the first time, with backoff if it repeats before a good sync. */
  setbackDelay(): number {
    const d = this.#setbacks === 0 ? 0 : this.#backoff(this.#setbacks);
    this.#setbacks++;
    return d;
  }

  /** The wait after the `attempts`-th failed try of a send or a contact operation. */
  retryDelay(attempts: number): number {
    return backoffMs(attempts, this.#cfg.retryBaseMs, this.#cfg.retryMaxMs, this.#random);
  }

  /**
   * The wait after a try refused for now (1110 mailbox full, 1111 rate limited):
   * the backoff, or the server's retry-after hint if that is longer.
   */
  refusedDelay(attempts: number, errMsg: string): number {
    return Math.max(this.retryDelay(attempts), Math.min(retryAfterMs(errMsg) ?? 0, MAX_HINT_MS));
  }

  /**
   * The wait after a login refused for now (2: the server is hashing as many
   * passwords as it will; 1112: too many failed logins from here or for this
   * account): the server's retry-after hint, and never less than the network
   * failure backoff, which grows with each refusal in a row, so that many
   * clients refused together do not come back together.
   */
  loginRefusedDelay(errMsg: string): number {
    return Math.max(this.failureDelay(), Math.min(retryAfterMs(errMsg) ?? 0, MAX_HINT_MS));
  }

  #backoff(n: number): number {
    return this.#http
      ? backoffMs(n, this.#cfg.retryBaseMs, this.#cfg.retryMaxMs, this.#random)
      : backoffMs(n, this.#cfg.reconnectBaseMs, this.#cfg.reconnectMaxMs, this.#random);
  }
}
