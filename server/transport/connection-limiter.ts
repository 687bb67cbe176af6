// Connections counted in all and per remote address, shared by the HTTP
// listener (which also carries the WebSocket links) and the TCP listener.
// A connection over either cap is shed by its transport with a clear answer
// (HTTP 503 with Retry-After, or op 6) instead of being served.
import type { LinkFaultCode } from '../node/link-fault.ts';

export type ShedCode = Extract<LinkFaultCode, 'CONN_SERVER_FULL' | 'CONN_ADDRESS_LIMIT'>;

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

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerAddress: number,
  ) {}

  /** Admit a connection (then release() it once closed), or the cap that sheds it. */
  admit(address: string | undefined): ShedCode | undefined {
    const key = addressKey(address);
    const mine = this.byAddress.get(key) ?? 0;
    const refused = this.stats.open >= this.maxTotal ? 'CONN_SERVER_FULL' : mine >= this.maxPerAddress ? 'CONN_ADDRESS_LIMIT' : undefined;
    if (refused) {
      this.stats.shed++;
      return refused;
    }
    this.stats.open++;
    this.byAddress.set(key, mine + 1);
    return undefined;
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
