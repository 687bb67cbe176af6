// One device's way to the server: a fault-injecting proxy on loopback with
// a TCP front (the long link) and an HTTP front (requests, and the WebSocket
// long link by upgrade). Every byte of the device passes here, so a
// partition of the device (both ways or one way) is a flag on its proxy:
// every stream of it holds what it carries in the blocked directions until
// the partition heals, and new connections complete no handshake meanwhile.
//
//   device ──TCP front──[stream faults]────────────────────────────▶ server TCP port
//   device ──HTTP front─[splits, merges]─▶ HttpFaults ─[HTTP faults]─▶ server HTTP port
//                                              └─ upgrade ─[stream faults]─▶ server HTTP port (WebSocket)
import net from 'node:net';
import type { DeviceDice, ProxyRates, StreamRates } from './fault-dice.ts';
import { FaultLink, type Direction } from './fault-link.ts';
import { HttpFaults } from './http-faults.ts';

export type PartitionDir = 'both' | 'up' | 'down';

export interface FaultProxyOptions {
  dice: DeviceDice;
  rates: ProxyRates;
  /** The server's ports now; undefined while it is down. */
  upstream: () => { host: string; httpPort: number; tcpPort: number } | undefined;
  /** Each fault the proxy makes, for the history. */
  note?: (what: string, detail?: string) => void;
}

export class FaultProxy {
  private readonly tcpFront: net.Server;
  private readonly httpFront: net.Server;
  private http!: HttpFaults;
  /** Every open link, for close(). */
  private readonly all = new Set<FaultLink>();
  /** The links a partition of the device blocks: those of its two fronts. */
  private readonly links = new Set<FaultLink>();
  /** The long links (TCP, and WebSocket past the upgrade): what a reset cuts. */
  private readonly longLinks = new Set<FaultLink>();
  private partitioned: { up: boolean; down: boolean } = { up: false, down: false };
  private readonly o: FaultProxyOptions;

  private constructor(o: FaultProxyOptions) {
    this.o = o;
    this.tcpFront = net.createServer({ allowHalfOpen: true }, (s) => this.acceptTcp(s));
    this.httpFront = net.createServer({ allowHalfOpen: true }, (s) => this.acceptHttp(s));
  }

  static async start(o: FaultProxyOptions): Promise<FaultProxy> {
    const p = new FaultProxy(o);
    p.http = await HttpFaults.start({
      upstream: () => {
        const u = o.upstream();
        return u ? { host: u.host, port: u.httpPort } : undefined;
      },
      dice: () => o.dice.request(o.rates.http),
      upgrade: (socket, preface) => p.acceptUpgrade(socket, preface),
      note: (what, detail) => p.note(what, detail),
    });
    await Promise.all([listen(p.tcpFront), listen(p.httpFront)]);
    return p;
  }

  get tcpPort(): number {
    return (this.tcpFront.address() as net.AddressInfo).port;
  }

  get httpPort(): number {
    return (this.httpFront.address() as net.AddressInfo).port;
  }

  /** The HTTP layer's counts (requests, drops, duplicates). */
  get httpCounts(): HttpFaults['counts'] {
    return this.http.counts;
  }

  get openLinks(): number {
    return this.longLinks.size;
  }

  /** The device loses the network: 'up' blocks what it sends, 'down' what it receives. */
  partition(dir: PartitionDir): void {
    this.partitioned = { up: dir !== 'down', down: dir !== 'up' };
    for (const l of this.links) l.setBlocked(this.partitioned.up, this.partitioned.down);
  }

  heal(): void {
    this.partitioned = { up: false, down: false };
    for (const l of this.links) l.setBlocked(false, false);
  }

  /** Every open long link of the device is reset; returns how many. */
  resetLinks(): number {
    const all = [...this.longLinks];
    for (const l of all) l.cut();
    return all.length;
  }

  async close(): Promise<void> {
    for (const l of [...this.all]) l.cut();
    await Promise.all([closeServer(this.tcpFront), closeServer(this.httpFront), this.http.close()]);
  }

  private acceptTcp(s: net.Socket): void {
    const conn = this.o.dice.next('tcp');
    this.track(
      this.link(s, conn, this.o.rates.link, () => {
        const u = this.o.upstream();
        return u ? { host: u.host, port: u.tcpPort } : undefined;
      }),
      true,
    );
  }

  private acceptHttp(s: net.Socket): void {
    const conn = this.o.dice.next('http-conn');
    const port = this.http.port;
    this.track(this.link(s, conn, this.o.rates.httpStream, () => ({ host: '127.0.0.1', port })), false);
  }

  /** A WebSocket upgrade reached the HTTP layer: from here on it is a long link to the server's HTTP port. */
  private acceptUpgrade(s: net.Socket, preface: Buffer): void {
    const conn = this.o.dice.next('ws');
    const link = this.link(
      s,
      conn,
      this.o.rates.link,
      () => {
        const u = this.o.upstream();
        return u ? { host: u.host, port: u.httpPort } : undefined;
      },
      preface,
      // The HTTP front's pipe already holds a partitioned device's bytes.
      false,
    );
    this.track(link, true);
  }

  private link(
    client: net.Socket,
    conn: string,
    rates: StreamRates,
    upstream: () => { host: string; port: number } | undefined,
    preface?: Buffer,
    partitionable = true,
  ): FaultLink {
    const dice = this.o.dice;
    const blocked = partitionable ? { ...this.partitioned } : { up: false, down: false };
    const link: FaultLink = new FaultLink({
      client,
      upstream,
      up: dice.direction(conn, 'up', rates),
      down: dice.direction(conn, 'down', rates),
      stalls: dice.stalls(conn, rates),
      blocked,
      ...(preface ? { preface } : {}),
      onStall: (dir: Direction, ms: number) => this.note('stall', `${conn} ${dir} ${Math.round(ms)} ms`),
      onClose: () => {
        this.all.delete(link);
        this.links.delete(link);
        this.longLinks.delete(link);
      },
    });
    if (!link.isClosed) {
      this.all.add(link);
      if (partitionable) this.links.add(link);
    }
    return link;
  }

  private track(link: FaultLink, long: boolean): void {
    if (long && !link.isClosed) this.longLinks.add(link);
  }

  private note(what: string, detail?: string): void {
    this.o.note?.(what, detail);
  }
}

function listen(s: net.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve());
  });
}

function closeServer(s: net.Server): Promise<void> {
  return new Promise((resolve) => s.close(() => resolve()));
}
