// The HTTP side of the real server: node:http with keep-alive. It reads a
// bounded body, hands (method, url, body) to the ServerNode under a fresh
// request id and writes back whatever the node answers. No protocol logic
// lives here: the only answers of its own are 413 (body over the limit), a
// 400 for unparseable HTTP, 500 if the node throws, and 503 while shutting down.
import http from 'node:http';
import type net from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorAnswer, type HttpAnswer } from '../node/http-api.ts';
import { Ret } from '../core/ret.ts';
import type { ServerNode } from '../node/server-node.ts';

export type HttpNode = Pick<ServerNode, 'httpRequest' | 'httpAborted'>;

export interface HttpTransportOptions {
  node: HttpNode;
  /** Largest request body in bytes (NodeConfig.maxHttpBody); above it: 413. */
  maxBody: number;
  /** Called after every input handed to the node (the app schedules the group commit). */
  afterInput: () => void;
  /** WebSocket upgrades go here; without it every upgrade is refused. */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Idle keep-alive connections are closed after this long (default 10 s). */
  keepAliveTimeoutMs?: number;
  clock?: () => number;
}

export interface HttpTransportStats {
  requests: number;
  /** Clients that went away before their answer. */
  aborted: number;
  tooLarge: number;
  /** Unparseable HTTP (answered 400/431 by the transport). */
  clientErrors: number;
  /** The node threw: answered 500, never with a stack trace. */
  internalErrors: number;
}

interface Pending {
  res: ServerResponse;
  /** The node has the request (false while the body is still being read). */
  handed: boolean;
}

export class HttpTransport {
  readonly server: http.Server;
  readonly stats: HttpTransportStats = { requests: 0, aborted: 0, tooLarge: 0, clientErrors: 0, internalErrors: 0 };
  private readonly node: HttpNode;
  private readonly maxBody: number;
  private readonly afterInput: () => void;
  private readonly clock: () => number;
  private readonly pending = new Map<number, Pending>();
  private nextReq = 1;
  private closing = false;
  private readonly closed: Promise<void>;

  constructor(o: HttpTransportOptions) {
    this.node = o.node;
    this.maxBody = o.maxBody;
    this.afterInput = o.afterInput;
    this.clock = o.clock ?? Date.now;
    this.server = http.createServer({ keepAlive: true }, (req, res) => this.request(req, res));
    this.closed = new Promise((resolve) => this.server.once('close', () => resolve()));
    this.server.keepAliveTimeout = o.keepAliveTimeoutMs ?? 10_000;
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.clientError(err, socket));
    const upgrade = o.upgrade;
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => {});
      if (upgrade && !this.closing) return upgrade(req, socket, head);
      refuseUpgrade(socket, 503, 'Service Unavailable');
    });
  }

  /** Requests the node has not answered yet. */
  get pendingCount(): number {
    return this.pending.size;
  }

  listen(port: number, host: string): Promise<number> {
    return listen(this.server, port, host);
  }

  /** The node's answer to request `req`; dropped if the client went away. */
  respond(req: number, answer: HttpAnswer, closeAfter = false): void {
    const p = this.pending.get(req);
    if (!p) return;
    this.pending.delete(req);
    write(p.res, answer, closeAfter);
  }

  /** Stop accepting connections and input; requests already with the node still get their answer. */
  stopAccepting(): void {
    this.closing = true;
    this.server.close();
    this.server.closeIdleConnections();
  }

  /** Answer every request the node did not answer (shutdown), then close the connections once written. */
  async drain(answer: HttpAnswer, graceMs: number): Promise<void> {
    for (const req of [...this.pending.keys()]) this.respond(req, answer, true);
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
    await this.closed;
    clearTimeout(timer);
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    this.stats.requests++;
    req.on('error', () => {});
    res.on('error', () => {});
    const id = this.nextReq++;
    const p: Pending = { res, handed: false };
    this.pending.set(id, p);
    res.on('close', () => {
      if (!this.pending.delete(id)) return;
      this.stats.aborted++;
      if (p.handed) {
        this.node.httpAborted(id);
        this.afterInput();
      }
    });
    if (this.closing) return this.respond(id, shuttingDown(), true);

    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.maxBody) return this.tooLarge(id, req);
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > this.maxBody) {
        over = true;
        chunks.length = 0;
        this.tooLarge(id, req);
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      if (over || !this.pending.has(id)) return;
      if (this.closing) return this.respond(id, shuttingDown(), true);
      const body = Buffer.concat(chunks, size).toString('utf8');
      p.handed = true;
      try {
        this.node.httpRequest(id, req.method ?? 'GET', req.url ?? '/', body, this.clock());
      } catch {
        this.stats.internalErrors++;
        this.respond(id, errorAnswer(500, Ret.ServerError, 'internal error'));
      }
      this.afterInput();
    });
  }

  // 413, then the connection closes: the rest of the body is read and dropped
  // (not kept) until the answer is out, so the client sees the answer rather
  // than a reset.
  private tooLarge(id: number, req: IncomingMessage): void {
    this.stats.tooLarge++;
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    req.removeAllListeners('data');
    req.resume();
    write(p.res, errorAnswer(413, Ret.BadRequest, `request body is larger than ${this.maxBody} bytes`), true);
  }

  private clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    this.stats.clientErrors++;
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, text] =
      err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] :
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout'] :
      [400, 'Bad Request'];
    const body = JSON.stringify({ BaseResponse: { Ret: Ret.BadRequest, ErrMsg: `malformed HTTP request (${status})` } });
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
}

function write(res: ServerResponse, a: HttpAnswer, closeAfter = false): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string | number> = {
    ...a.headers,
    'Content-Type': a.contentType,
    'Content-Length': Buffer.byteLength(a.body),
  };
  if (closeAfter) headers['Connection'] = 'close';
  res.writeHead(a.status, headers);
  res.end(a.body);
}

export function shuttingDown(): HttpAnswer {
  return errorAnswer(503, Ret.Busy, 'server is shutting down; retry');
}

export function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  if (socket.writable) socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  else socket.destroy();
}

/** Listen and report the real port (0 asks for an ephemeral one). */
export function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
    });
    server.listen(port, host);
  });
}
