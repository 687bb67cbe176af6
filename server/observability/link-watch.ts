// Which transport each long link came on and whether it has authenticated,
// as the transports see it (from the driver's open until its close, which
// comes after the node's op 6): counted by transport for the connections
// gauge. Fed by the links' open and close (the driver's calls into the node)
// and by the node telling of each link that authenticated; it keeps the
// account's uin, and never its Sid.
import type { LinkTransport } from './scraped-stats.ts';

interface Watched {
  transport: LinkTransport;
  /** 0 until the node said the link authenticated. */
  uin: number;
  /** The transport logged why it condemned the link: its op 6 is counted, not logged again. */
  reported: boolean;
}

export interface LinkCounts {
  preAuth: number;
  authenticated: number;
}

export class LinkWatch {
  private readonly links = new Map<number, Watched>();
  private readonly counts: Record<LinkTransport, LinkCounts> = {
    tcp: { preAuth: 0, authenticated: 0 },
    ws: { preAuth: 0, authenticated: 0 },
  };

  opened(id: number, transport: LinkTransport): void {
    if (this.links.has(id)) return;
    this.links.set(id, { transport, uin: 0, reported: false });
    this.counts[transport].preAuth++;
  }

  closed(id: number): void {
    const l = this.links.get(id);
    if (!l) return;
    this.links.delete(id);
    if (l.uin === 0) this.counts[l.transport].preAuth--;
    else this.counts[l.transport].authenticated--;
  }

  authenticated(id: number, uin: number): void {
    const l = this.links.get(id);
    if (!l || l.uin !== 0 || uin === 0) return;
    l.uin = uin;
    this.counts[l.transport].preAuth--;
    this.counts[l.transport].authenticated++;
  }

  markReported(id: number): void {
    const l = this.links.get(id);
    if (l) l.reported = true;
  }

  reported(id: number): boolean {
    return this.links.get(id)?.reported ?? false;
  }

  count(transport: LinkTransport): Readonly<LinkCounts> {
    return this.counts[transport];
  }
}
