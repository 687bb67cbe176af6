// The long link over WebSocket (PROTOCOL.md section 5): path /longlink,
// binary messages carrying the same packets as TCP. Each connection is one
// link of the ServerNode; the bytes of a binary message go to linkData as
// they are (a message may hold several packets or part of one), and each
// node `write` leaves as one binary message. A text message is not the
// protocol: the node is fed nothing and the connection is closed (1003).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { ServerNode } from '../node/server-node.ts';
import { refuseUpgrade } from './http-transport.ts';

export type LinkNode = Pick<ServerNode, 'linkOpened' | 'linkData' | 'linkClosed'>;

export const LONGLINK_PATH = '/longlink';

/** Close codes of RFC 6455 used here. */
export const WS_CLOSE = { Normal: 1000, GoingAway: 1001, Unsupported: 1003, TooBig: 1009, PolicyViolation: 1008 } as const;

export interface WsTransportOptions {
  node: LinkNode;
  /** Largest packet body (NodeConfig.maxPacketBody); a message may be at most 16 + this. */
  maxPacketBody: number;
  afterInput: () => void;
  /** Link ids are shared with the TCP transport: the app hands out one sequence. */
  nextId: () => number;
  /** Bytes queued for a peer that does not read; past it the link is dropped (default 1 MiB). */
  writeLimit?: number;
  /** After a close, the connection is terminated if the peer has not finished closing (default 1 s). */
  closeGraceMs?: number;
  clock?: () => number;
}

export interface WsTransportStats {
  accepted: number;
  closed: number;
  textMessages: number;
  overflowClosed: number;
  socketErrors: number;
}

interface Conn {
  ws: WebSocket;
  closing: boolean;
  timer?: NodeJS.Timeout;
}

export class WsTransport {
  readonly stats: WsTransportStats = { accepted: 0, closed: 0, textMessages: 0, overflowClosed: 0, socketErrors: 0 };
  private readonly wss: WebSocketServer;
  private readonly conns = new Map<number, Conn>();
  private readonly o: Required<Omit<WsTransportOptions, 'clock'>> & { clock: () => number };
  private accepting = true;
  private readonly allClosed: Array<() => void> = [];

  constructor(o: WsTransportOptions) {
    this.o = { writeLimit: 1024 * 1024, closeGraceMs: 1000, clock: Date.now, ...o };
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: 16 + o.maxPacketBody,
      perMessageDeflate: false,
      clientTracking: false,
    });
  }

  get size(): number {
    return this.conns.size;
  }

  has(id: number): boolean {
    return this.conns.has(id);
  }

  /** An HTTP upgrade request: accepted at /longlink, refused elsewhere. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path !== LONGLINK_PATH) return refuseUpgrade(socket, 404, 'Not Found');
    if (!this.accepting) return refuseUpgrade(socket, 503, 'Service Unavailable');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  write(id: number, bytes: Uint8Array): void {
    const c = this.conns.get(id);
    if (!c || c.closing) return;
    c.ws.send(bytes, { binary: true });
    if (c.ws.bufferedAmount > this.o.writeLimit) {
      // A reader that never reads must not grow the heap.
      this.stats.overflowClosed++;
      c.closing = true;
      c.ws.terminate();
    }
  }

  /** Close after what was written so far; terminate if the peer lingers. */
  close(id: number, code: number = WS_CLOSE.Normal, reason = 'closed by server'): void {
    const c = this.conns.get(id);
    if (!c || c.closing) return;
    c.closing = true;
    c.ws.close(code, reason);
    c.timer = setTimeout(() => c.ws.terminate(), this.o.closeGraceMs);
    c.timer.unref();
  }

  stopAccepting(): void {
    this.accepting = false;
  }

  /** Shutdown: every link is closed (the node forgets it now); resolves when all are gone. */
  closeAll(): Promise<void> {
    this.accepting = false;
    for (const id of [...this.conns.keys()]) {
      this.close(id, WS_CLOSE.GoingAway, 'server shutting down');
      this.o.node.linkClosed(id);
    }
    this.wss.close();
    if (this.conns.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.allClosed.push(resolve));
  }

  private accept(ws: WebSocket): void {
    const id = this.o.nextId();
    const c: Conn = { ws, closing: false };
    this.conns.set(id, c);
    this.stats.accepted++;
    ws.on('error', () => {
      this.stats.socketErrors++;
    });
    ws.on('close', () => {
      if (c.timer) clearTimeout(c.timer);
      this.conns.delete(id);
      this.stats.closed++;
      this.o.node.linkClosed(id);
      if (this.conns.size === 0) for (const f of this.allClosed.splice(0)) f();
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (c.closing) return;
      if (!isBinary) {
        this.stats.textMessages++;
        this.close(id, WS_CLOSE.Unsupported, 'text messages are not accepted: send binary packets');
        return;
      }
      this.o.node.linkData(id, toBytes(data), this.o.clock());
      this.o.afterInput();
    });
    this.o.node.linkOpened(id, 'ws', this.o.clock());
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
