// The long link over TCP (docs/protocol.md section 6). Each socket is one link of
// the ServerNode: bytes in go to linkData as they arrive (framing is the
// node's), node `write`s go out as they are, a node `close` ends the socket
// after what was written and destroys it if the peer lingers. Socket errors
// are counted, never thrown.
//
// Against hostile peers: the socket is not read while the node holds it
// paused (its packets in flight are at the bound) or while a quarter of the
// write limit is queued for it (ReadGate); a peer that does not read
// is cut once its queue passes the write limit, and a connection over the
// shared ConnectionLimiter's caps is refused; either way the node sends op 6
// with the reason first (ServerNode.linkFault).
import net from 'node:net';
import { listen } from './http-transport.ts';
import { ConnectionLimiter } from './connection-limiter.ts';
import { PAUSE_AT_WRITE_FRACTION, ReadGate } from './read-gate.ts';
import { DEFAULT_TRANSPORT_LIMITS } from './transport-limits.ts';
import { ShedHold, defaultShedHold } from './shed-hold.ts';
import type { LinkNode } from './ws-transport.ts';
import { faultDisconnect } from '../node/link-fault.ts';
import { Op, encodeJsonPacket } from '../wire/packet.ts';

export interface TcpTransportOptions {
  node: LinkNode;
  afterInput: () => void;
  /** Link ids are shared with the WebSocket transport: the app hands out one sequence. */
  nextId: () => number;
  /** Bytes queued for a peer that does not read; past it the link is dropped (default 1 MiB). */
  writeLimit?: number;
  /** After a close, the socket is destroyed if the peer has not closed (default 1 s). */
  closeGraceMs?: number;
  /** Connection caps, shared with the HTTP transport (default: caps of this transport's own, at the defaults). */
  limiter?: ConnectionLimiter;
  /** Where shed connections wait out their answer, shared with the HTTP transport (default: one of its own, at the defaults). */
  shedHold?: ShedHold;
  clock?: () => number;
  /** Told of each connection the transport refuses or cuts, before the node says why (logs and metrics). */
  onRefused?: (reason: string, address: string | undefined, link: number) => void;
}

export interface TcpTransportStats {
  accepted: number;
  closed: number;
  overflowClosed: number;
  socketErrors: number;
  /** Connections over a cap: op 6, then closed. */
  shed: number;
  /** Times a link's reading stopped (the node paused it, or its replies queued up). */
  paused: number;
}

/** open: read and written; overflowing: cut for not reading, only its op 6 still goes out; closing: ended. */
type ConnState = 'open' | 'overflowing' | 'closing';

interface Conn {
  socket: net.Socket;
  state: ConnState;
  gate: ReadGate;
  timer?: NodeJS.Timeout;
}

export const DEFAULT_WRITE_LIMIT = 1024 * 1024;

export class TcpTransport {
  readonly server: net.Server;
  readonly stats: TcpTransportStats = { accepted: 0, closed: 0, overflowClosed: 0, socketErrors: 0, shed: 0, paused: 0 };
  private readonly conns = new Map<number, Conn>();
  private readonly o: Required<Omit<TcpTransportOptions, 'clock' | 'onRefused'>> & Pick<TcpTransportOptions, 'onRefused'> & { clock: () => number };
  private readonly allClosed: Array<() => void> = [];

  constructor(o: TcpTransportOptions) {
    this.o = {
      writeLimit: DEFAULT_WRITE_LIMIT,
      closeGraceMs: 1000,
      clock: Date.now,
      limiter: new ConnectionLimiter(DEFAULT_TRANSPORT_LIMITS.maxConnections, DEFAULT_TRANSPORT_LIMITS.maxConnectionsPerAddress),
      shedHold: defaultShedHold(),
      ...o,
    };
    this.server = net.createServer({ noDelay: true }, (s) => this.accept(s));
    this.server.on('error', () => {
      this.stats.socketErrors++;
    });
  }

  get size(): number {
    return this.conns.size;
  }

  listen(port: number, host: string): Promise<number> {
    return listen(this.server, port, host);
  }

  has(id: number): boolean {
    return this.conns.has(id);
  }

  write(id: number, bytes: Uint8Array): void {
    const c = this.conns.get(id);
    if (!c || c.state === 'closing') return;
    // A flush answers and notifies many links at once: cork so that a link's
    // packets of one tick leave in one writev instead of one syscall each.
    if (c.socket.writableCorked === 0) {
      c.socket.cork();
      process.nextTick(() => c.socket.uncork());
    }
    c.socket.write(bytes);
    // Only while a 'drain' is due: it is what opens the gate again.
    if (c.socket.writableNeedDrain && c.socket.writableLength >= this.o.writeLimit * PAUSE_AT_WRITE_FRACTION) c.gate.writes(true);
    if (c.state === 'open' && c.socket.writableLength > this.o.writeLimit) {
      // Say why (the node writes op 6, then closes); the grace timer cuts a peer that never reads it.
      this.stats.overflowClosed++;
      c.state = 'overflowing';
      this.o.onRefused?.('LINK_WRITE_QUEUE_FULL', c.socket.remoteAddress, id);
      this.o.node.linkFault(id, 'LINK_WRITE_QUEUE_FULL', `${this.o.writeLimit} bytes unread`);
      if (c.state === 'overflowing') this.close(id);
    }
  }

  /** The node holds enough of this link's input: stop reading it. */
  pause(id: number): void {
    const c = this.conns.get(id);
    if (!c || c.state === 'closing') return;
    c.gate.node(true);
  }

  resume(id: number): void {
    const c = this.conns.get(id);
    if (!c || c.state === 'closing') return;
    c.gate.node(false);
  }

  /** End after what was written so far; destroy if the peer lingers. */
  close(id: number): void {
    const c = this.conns.get(id);
    if (!c || c.state === 'closing') return;
    c.state = 'closing';
    // Input after a close is read and dropped, so the peer gets our last packets and a FIN, not a reset.
    c.socket.resume();
    c.socket.end();
    c.timer = setTimeout(() => c.socket.destroy(), this.o.closeGraceMs);
    c.timer.unref();
  }

  stopAccepting(): void {
    this.server.close();
  }

  /** Shutdown: every link is ended (the node forgets it now); resolves when all are gone. */
  closeAll(): Promise<void> {
    this.server.close();
    for (const id of [...this.conns.keys()]) {
      this.close(id);
      this.o.node.linkClosed(id);
    }
    if (this.conns.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.allClosed.push(resolve));
  }

  private accept(socket: net.Socket): void {
    const address = socket.remoteAddress;
    const shed = this.o.limiter.admit(address);
    this.stats.accepted++;
    if (shed !== undefined) {
      // Refused before it is a link: nothing of it is read, and the node only counts its op 6.
      const id = this.o.nextId();
      this.stats.shed++;
      this.o.onRefused?.(shed, address, id);
      this.o.node.linkShed(id, 'tcp', shed);
      socket.on('error', () => {
        this.stats.socketErrors++;
      });
      socket.pause();
      this.o.shedHold.refuse(socket, () => encodeJsonPacket(Op.Disconnect, 0, faultDisconnect(shed)), shed === 'CONN_RATE_LIMIT');
      return;
    }
    const id = this.o.nextId();
    const gate = new ReadGate(
      () => {
        this.stats.paused++;
        socket.pause();
      },
      () => {
        if (c.state !== 'closing') socket.resume();
      },
    );
    const c: Conn = { socket, state: 'open', gate };
    this.conns.set(id, c);
    socket.setNoDelay(true);
    socket.on('error', () => {
      this.stats.socketErrors++;
    });
    socket.on('drain', () => gate.writes(false));
    socket.on('close', () => {
      if (c.timer) clearTimeout(c.timer);
      this.o.limiter.release(address);
      this.conns.delete(id);
      this.stats.closed++;
      this.o.node.linkClosed(id);
      if (this.conns.size === 0) for (const f of this.allClosed.splice(0)) f();
    });
    // After a close, input is read and dropped so the peer gets our last packets and a FIN, not a reset.
    socket.on('data', (chunk: Buffer) => {
      if (c.state !== 'open') return;
      this.o.node.linkData(id, chunk, this.o.clock());
      this.o.afterInput();
    });
    this.o.node.linkOpened(id, 'tcp', address ?? '', this.o.clock());
  }
}
