// Connections counted in all and per remote address, shared by the HTTP
// listener (which also carries the WebSocket links) and the TCP listener.
// A connection over either cap, or one more from an address that opens them
// faster than its rate allows, is shed by its transport with a clear answer
// (HTTP 503 with Retry-After, or op 6) instead of being served. The rate
// bounds what a client that reconnects in a loop can make the server spend
// on each new connection (an accept, a parser, the first reads).
import type { LinkFaultCode } from '../node/link-fault.ts';
import { TokenBuckets } from '../core/rate-limits.ts';

export type ShedCode = Extract<LinkFaultCode, 'CONN_SERVER_FULL' | 'CONN_ADDRESS_LIMIT' | 'CONN_RATE_LIMIT'>;

/** Addresses whose connection rate is remembered; past it the oldest is forgotten (and refilled). */
const MAX_RATE_ENTRIES = 100_000;

export interface ConnectionStats {
  /** Connections admitted and still open. */
  open: number;
  /** Connections refused at a cap. */
  shed: number;
}

const IPV4_MAPPED = '::ffff:';

export function addressKey(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith(IPV4_MAPPED) && address.includes('.') ? address.slice(IPV4_MAPPED.length) : address;
}

export class ConnectionLimiter {
  readonly stats: ConnectionStats = { open: 0, shed: 0 };
  private readonly byAddress = new Map<string, number>();
  private readonly rates: TokenBuckets<string>;

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerAddress: number,
    /** New connections per second from one address, after a burst of `burstPerAddress`. */
    perSecPerAddress = Infinity,
    private readonly burstPerAddress = Infinity,
    /** What penalize() takes from an address, in connections. */
    private readonly refusalCost = 0,
    private readonly clock: () => number = Date.now,
  ) {
    this.rates = new TokenBuckets<string>(perSecPerAddress, this.burstPerAddress, MAX_RATE_ENTRIES);
  }

  /** Admit a connection (then release() it once closed), or the limit that sheds it. */
  admit(address: string | undefined): ShedCode | undefined {
    const key = addressKey(address);
    const mine = this.byAddress.get(key) ?? 0;
    const now = this.clock();
    const refused =
      this.stats.open >= this.maxTotal
        ? 'CONN_SERVER_FULL'
        : mine >= this.maxPerAddress
          ? 'CONN_ADDRESS_LIMIT'
          : this.rates.wait(key, 1, now) > 0
            ? 'CONN_RATE_LIMIT'
            : undefined;
    if (refused) {
      this.stats.shed++;
      return refused;
    }
    this.rates.take(key, 1, now);
    this.stats.open++;
    this.byAddress.set(key, mine + 1);
    return undefined;
  }

  /**
   * An address's request was refused for abuse (a trickled, oversized or late
   * body): it pays for it with refusalCost of its new-connection rate, down
   * to one burst's worth of debt. A client that sends such requests in a loop
   * then gets a handful through a second instead of as many as it can open
   * connections, and honest addresses pay nothing.
   */
  penalize(address: string | undefined): void {
    if (this.refusalCost <= 0 || !Number.isFinite(this.burstPerAddress)) return;
    this.rates.drain(addressKey(address), this.refusalCost, this.clock(), this.burstPerAddress);
  }

  release(address: string | undefined): void {
    const key = addressKey(address);
    const mine = this.byAddress.get(key) ?? 0;
    if (mine <= 0) return;
    this.stats.open--;
    if (mine === 1) this.byAddress.delete(key);
    else this.byAddress.set(key, mine - 1);
  }
}
