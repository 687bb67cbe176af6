// The long link over TCP (PROTOCOL.md section 5). Each socket is one link of
// the ServerNode: bytes in go to linkData as they arrive (framing is the
// node's), node `write`s go out as they are, a node `close` ends the socket
// after what was written and destroys it if the peer lingers. A peer that
// does not read is dropped once its queue passes the write limit, so it
// cannot grow the heap. Socket errors are counted, never thrown.
import net from 'node:net';
import { listen } from './http-transport.ts';
import type { LinkNode } from './ws-transport.ts';

export interface TcpTransportOptions {
  node: LinkNode;
  afterInput: () => void;
  /** Link ids are shared with the WebSocket transport: the app hands out one sequence. */
  nextId: () => number;
  /** Bytes queued for a peer that does not read; past it the link is dropped (default 1 MiB). */
  writeLimit?: number;
  /** After a close, the socket is destroyed if the peer has not closed (default 1 s). */
  closeGraceMs?: number;
  clock?: () => number;
}

export interface TcpTransportStats {
  accepted: number;
  closed: number;
  overflowClosed: number;
  socketErrors: number;
}

interface Conn {
  socket: net.Socket;
  closing: boolean;
  timer?: NodeJS.Timeout;
}

export const DEFAULT_WRITE_LIMIT = 1024 * 1024;

export class TcpTransport {
  readonly server: net.Server;
  readonly stats: TcpTransportStats = { accepted: 0, closed: 0, overflowClosed: 0, socketErrors: 0 };
  private readonly conns = new Map<number, Conn>();
  private readonly o: Required<Omit<TcpTransportOptions, 'clock'>> & { clock: () => number };
  private readonly allClosed: Array<() => void> = [];

  constructor(o: TcpTransportOptions) {
    this.o = { writeLimit: DEFAULT_WRITE_LIMIT, closeGraceMs: 1000, clock: Date.now, ...o };
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
    if (!c || c.closing) return;
    // A flush answers and notifies many links at once: cork so that a link's
    // packets of one tick leave in one writev instead of one syscall each.
    if (c.socket.writableCorked === 0) {
      c.socket.cork();
      process.nextTick(() => c.socket.uncork());
    }
    c.socket.write(bytes);
    if (c.socket.writableLength > this.o.writeLimit) {
      this.stats.overflowClosed++;
      c.closing = true;
      c.socket.destroy();
    }
  }

  /** End after what was written so far; destroy if the peer lingers. */
  close(id: number): void {
    const c = this.conns.get(id);
    if (!c || c.closing) return;
    c.closing = true;
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
    const id = this.o.nextId();
    const c: Conn = { socket, closing: false };
    this.conns.set(id, c);
    this.stats.accepted++;
    socket.setNoDelay(true);
    socket.on('error', () => {
      this.stats.socketErrors++;
    });
    socket.on('close', () => {
      if (c.timer) clearTimeout(c.timer);
      this.conns.delete(id);
      this.stats.closed++;
      this.o.node.linkClosed(id);
      if (this.conns.size === 0) for (const f of this.allClosed.splice(0)) f();
    });
    // After a close, input is read and dropped so the peer gets our last packets and a FIN, not a reset.
    socket.on('data', (chunk: Buffer) => {
      if (c.closing) return;
      this.o.node.linkData(id, chunk, this.o.clock());
      this.o.afterInput();
    });
    this.o.node.linkOpened(id, 'tcp', this.o.clock());
  }
}
