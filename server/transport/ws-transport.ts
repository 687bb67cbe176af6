// The long link over WebSocket (docs/protocol.md section 6): path /longlink,
// binary messages carrying the same packets as TCP. Each connection is one
// link of the ServerNode; the bytes of a binary message go to linkData as
// they are (a message may hold several packets or part of one), and each
// node `write` leaves as one binary message. A text message is not the
// protocol: the node is fed nothing and the connection is closed (1003).
//
// Against hostile peers: a message that is begun must end within the
// message deadline, and what an unfinished one makes ws hold (every socket
// chunk since the last whole message, counted with its overhead) is bounded;
// the socket is not read while the node holds the link paused or a quarter
// of the write limit is queued for it (ReadGate); a message
// over the size limit (ws closes it, 1009) and a peer that does not read
// both get op 6 with the reason before the close (ServerNode.linkFault).
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { ServerNode } from '../node/server-node.ts';
import { refuseUpgrade } from './http-answers.ts';
import { PAUSE_AT_WRITE_FRACTION, ReadGate } from './read-gate.ts';

export type LinkNode = Pick<ServerNode, 'linkOpened' | 'linkData' | 'linkClosed' | 'linkFault' | 'linkShed'>;

export const LONGLINK_PATH = '/longlink';

/** Close codes of RFC 6455 used here. */
export const WS_CLOSE = { Normal: 1000, GoingAway: 1001, Unsupported: 1003, TooBig: 1009, PolicyViolation: 1008 } as const;

/**
 * What one socket chunk costs ws to hold besides its bytes (a Buffer object
 * and its allocation), so a message trickled in tiny chunks is counted at
 * what it really holds.
 */
export const WS_CHUNK_OVERHEAD_BYTES = 256;

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
  /** A message begun must be whole this long after (NodeConfig.packetTimeoutMs; default 30 s). */
  messageTimeoutMs?: number;
  /** What an unfinished message may make ws hold, counted as above (NodeConfig.maxLinkBufferBytes; default 256 KiB). */
  maxUnfinishedBytes?: number;
  clock?: () => number;
  /** Told of each upgrade or link the transport refuses or cuts, before the node says why (logs and metrics). */
  onRefused?: (reason: string, address: string | undefined, link?: number) => void;
}

export interface WsTransportStats {
  accepted: number;
  closed: number;
  textMessages: number;
  overflowClosed: number;
  socketErrors: number;
  /** Messages over the size limit. */
  tooBig: number;
  /** Messages begun and not finished in time. */
  messageTimeouts: number;
  /** Times a link's reading stopped (the node paused it, or its replies queued up). */
  paused: number;
  /** What unfinished messages hold now, counted as above. */
  bufferedBytes: number;
}

/** The message being received on a socket: since when, and what it holds. */
interface Unfinished {
  startAt: number | undefined;
  cost: number;
}

/** open: read and written; overflowing: cut for not reading, only its op 6 still goes out; closing: closed by us. */
type ConnState = 'open' | 'overflowing' | 'closing';

interface Conn {
  ws: WebSocket;
  /** The socket under it: its 'drain' reopens the gate. */
  socket: Duplex;
  state: ConnState;
  gate: ReadGate;
  message: Unfinished;
  /** The close code for the node's close: why, when the transport condemned the link. */
  closeCode: number;
  timer?: NodeJS.Timeout;
}

export class WsTransport {
  readonly stats: WsTransportStats = {
    accepted: 0,
    closed: 0,
    textMessages: 0,
    overflowClosed: 0,
    socketErrors: 0,
    tooBig: 0,
    messageTimeouts: 0,
    paused: 0,
    bufferedBytes: 0,
  };
  private readonly wss: WebSocketServer;
  private readonly conns = new Map<number, Conn>();
  private readonly o: Required<Omit<WsTransportOptions, 'clock' | 'onRefused'>> & Pick<WsTransportOptions, 'onRefused'> & { clock: () => number };
  private accepting = true;
  private readonly allClosed: Array<() => void> = [];
  /** Reading stops while this much is queued for the peer. */
  private readonly pauseAt: number;

  constructor(o: WsTransportOptions) {
    this.o = { writeLimit: 1024 * 1024, closeGraceMs: 1000, messageTimeoutMs: 30_000, maxUnfinishedBytes: 256 * 1024, clock: Date.now, ...o };
    this.pauseAt = this.o.writeLimit * PAUSE_AT_WRITE_FRACTION;
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
    if (path !== LONGLINK_PATH) return this.refuseUpgrade(req, socket, 404, 'Not Found');
    if (!this.accepting) return this.refuseUpgrade(req, socket, 503, 'Service Unavailable');
    // Listening before ws does (it attaches its own reader inside handleUpgrade,
    // synchronously): each chunk is counted before ws parses it.
    const message: Unfinished = { startAt: undefined, cost: 0 };
    let id = 0;
    socket.on('data', (chunk: Buffer) => this.chunk(id, message, chunk));
    socket.on('drain', () => this.conns.get(id)?.gate.writes(false));
    socket.once('close', () => {
      if (id === 0) this.finished(message); // the handshake failed: no link ever counted it down
    });
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      id = this.accept(ws, socket, message);
    });
  }

  write(id: number, bytes: Uint8Array): void {
    const c = this.conns.get(id);
    if (!c || c.state === 'closing') return;
    c.ws.send(bytes, { binary: true });
    // Only while a 'drain' is due: it is what opens the gate again.
    if (c.socket.writableNeedDrain && c.ws.bufferedAmount >= this.pauseAt) c.gate.writes(true);
    if (c.state === 'open' && c.ws.bufferedAmount > this.o.writeLimit) {
      // A reader that never reads must not grow the heap. Say why first; the grace timer cuts it.
      this.stats.overflowClosed++;
      c.state = 'overflowing';
      c.closeCode = WS_CLOSE.PolicyViolation;
      this.refused('LINK_WRITE_QUEUE_FULL', c, id);
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

  /** Close after what was written so far; terminate if the peer lingers. */
  close(id: number, code?: number, reason = 'closed by server'): void {
    const c = this.conns.get(id);
    if (!c || c.state === 'closing') return;
    c.state = 'closing';
    if (!c.gate.open) c.ws.resume();
    c.ws.close(code ?? c.closeCode, reason);
    c.timer = setTimeout(() => c.ws.terminate(), this.o.closeGraceMs);
    c.timer.unref();
  }

  /** Messages begun and not finished within the deadline: op 6, close (ticked by the app). */
  sweep(now: number): void {
    for (const [id, c] of this.conns) {
      const t = c.message.startAt;
      if (c.state !== 'open' || !c.gate.open || t === undefined || now - t < this.o.messageTimeoutMs) continue;
      this.stats.messageTimeouts++;
      this.refused('LINK_PACKET_TIMEOUT', c, id);
      this.o.node.linkFault(id, 'LINK_PACKET_TIMEOUT', `a WebSocket message unfinished after ${this.o.messageTimeoutMs} ms`);
    }
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

  private accept(ws: WebSocket, socket: Duplex, message: Unfinished): number {
    const id = this.o.nextId();
    const gate = new ReadGate(
      () => {
        this.stats.paused++;
        ws.pause();
      },
      () => {
        if (c.state === 'closing') return;
        // The wait was ours: an unfinished message's time starts again.
        if (message.startAt !== undefined) message.startAt = this.o.clock();
        ws.resume();
      },
    );
    const c: Conn = { ws, socket, state: 'open', gate, message, closeCode: WS_CLOSE.Normal };
    this.conns.set(id, c);
    this.stats.accepted++;
    // ws closes a message over maxPayload itself (1009), from inside its
    // reader, before telling anyone: wrap its close so op 6 goes out first.
    const wsClose = ws.close.bind(ws);
    ws.close = (code?: number, data?: string | Buffer): void => {
      if (code === WS_CLOSE.TooBig && c.state === 'open') {
        this.stats.tooBig++;
        c.closeCode = WS_CLOSE.TooBig;
        this.refused('LINK_MESSAGE_TOO_LARGE', c, id);
        this.o.node.linkFault(id, 'LINK_MESSAGE_TOO_LARGE', `at most ${16 + this.o.maxPacketBody} bytes`);
      }
      wsClose(code, data);
    };
    ws.on('error', () => {
      this.stats.socketErrors++;
    });
    ws.on('close', () => {
      if (c.timer) clearTimeout(c.timer);
      this.finished(c.message);
      this.conns.delete(id);
      this.stats.closed++;
      this.o.node.linkClosed(id);
      if (this.conns.size === 0) for (const f of this.allClosed.splice(0)) f();
    });
    // A control frame is whole too: what came before it is no unfinished message.
    ws.on('ping', () => this.finished(c.message));
    ws.on('pong', () => this.finished(c.message));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      this.finished(c.message);
      if (c.state !== 'open') return;
      if (!isBinary) {
        this.stats.textMessages++;
        this.refused('WS_TEXT_MESSAGE', c, id);
        this.close(id, WS_CLOSE.Unsupported, 'text messages are not accepted: send binary packets');
        return;
      }
      this.o.node.linkData(id, toBytes(data), this.o.clock());
      this.o.afterInput();
    });
    this.o.node.linkOpened(id, 'ws', (socket as { remoteAddress?: string }).remoteAddress ?? '', this.o.clock());
    return id;
  }

  // A socket chunk: part of a message until ws says the message is whole.
  private chunk(id: number, m: Unfinished, chunk: Buffer): void {
    m.startAt ??= this.o.clock();
    const cost = chunk.length + WS_CHUNK_OVERHEAD_BYTES;
    m.cost += cost;
    this.stats.bufferedBytes += cost;
    const c = this.conns.get(id);
    if (c?.state === 'open' && m.cost > this.o.maxUnfinishedBytes) {
      this.refused('LINK_INPUT_OVERFLOW', c, id);
      this.o.node.linkFault(id, 'LINK_INPUT_OVERFLOW', `an unfinished WebSocket message holds over ${this.o.maxUnfinishedBytes} bytes`);
    }
  }

  private refused(reason: string, c: Conn, id: number): void {
    this.o.onRefused?.(reason, (c.socket as Partial<Socket>).remoteAddress, id);
  }

  private refuseUpgrade(req: IncomingMessage, socket: Duplex, status: number, text: string): void {
    this.o.onRefused?.(`WS_UPGRADE_${status}`, req.socket.remoteAddress);
    refuseUpgrade(socket, status, text);
  }

  private finished(m: Unfinished): void {
    this.stats.bufferedBytes -= m.cost;
    m.cost = 0;
    m.startAt = undefined;
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
