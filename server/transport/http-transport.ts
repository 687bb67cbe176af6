// The HTTP side of the real server: node:http with keep-alive. It reads a
// bounded body, hands (method, url, body, Cookie header) to the ServerNode
// under a fresh request id and writes back whatever the node answers (text,
// bytes or stored media, with its Set-Cookie headers). No protocol logic lives
// here: the only answers of its own are 413 (body over the limit), 408 (headers
// or body too slow), a 400 for unparseable HTTP, 500 if the node throws, and
// 503 while shutting down or over a cap. Uploads stream apart (upload-transport.ts).
//
// Against hostile clients: a body is kept in one buffer of our own whatever
// its chunking (its memory is counted in stats.bufferedBytes), it must arrive
// within bodyTimeoutMs, and connections over the shared ConnectionLimiter's
// caps are answered 503 with Retry-After before any of their bytes is parsed.
// GET /metrics is answered here, never by the node (server/observability/).
import http from 'node:http';
import type net from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { stopReading } from './stop-reading.ts';
import { overCapAnswer, rawAnswer, refuseUpgrade, shuttingDown, write } from './http-answers.ts';
import { errorAnswer, type HttpAnswer } from '../node/http-api.ts';
import { Ret } from '../core/ret.ts';
import type { ServerNode } from '../node/server-node.ts';
import { BodyBuffer } from './body-buffer.ts';
import { newHttpTransportStats, type HttpTransportStats } from './http-transport-stats.ts';
import { guardBodyPieces } from './body-piece-guard.ts';
import { ShedHold, defaultShedHold } from './shed-hold.ts';
import { ConnectionLimiter } from './connection-limiter.ts';
import { DEFAULT_TRANSPORT_LIMITS } from './transport-limits.ts';
import { decodeUtf8 } from '../wire/packet.ts';
import { METRICS_PATH, type MetricsRequest } from '../observability/metrics-endpoint.ts';
import type { UploadTransport } from './upload-transport.ts';

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
  /** Connection caps, shared with the TCP transport (default: caps of this transport's own, at the defaults). */
  limiter?: ConnectionLimiter;
  /** Headers, then the body, must each arrive within this long (TransportLimits.bodyTimeoutMs); past it: 408. */
  bodyTimeoutMs?: number;
  /** Retry-After of a 503 for a connection over a cap, in seconds. */
  retryAfterSec?: number;
  /** A connection answered 408 or 503 is destroyed this long after, if still open (default 1 s). */
  closeGraceMs?: number;
  /** Where shed connections wait out their answer, shared with the TCP transport (default: one of its own). */
  shedHold?: ShedHold;
  clock?: () => number;
  /** Answers GET /metrics; without it /metrics goes to the node like any path (404). */
  metrics?: (req: MetricsRequest) => Promise<HttpAnswer>;
  /** Told of each connection or request the transport refuses itself (a cap, 408, 413, 400, 503). */
  onRefused?: (reason: string, address: string | undefined) => void;
  /** Told of each answer written (its status counts in the metrics). */
  onAnswer?: (answer: HttpAnswer) => void;
  /** Streams uploads and media fetches (server/transport/upload-transport.ts); without it uploads go to the node like any path. */
  media?: UploadTransport;
}

interface Pending {
  req: IncomingMessage;
  res: ServerResponse;
  /** The node has the request (false while the body is still being read). */
  handed: boolean;
  /** While the body is read: the body so far, and when the request began. */
  body?: BodyBuffer;
  startedAt: number;
}

/** How often Node checks its own header deadline (its default is 30 s, too coarse for bodyTimeoutMs). */
const HEADER_CHECK_INTERVAL_MS = 1000;

export class HttpTransport {
  readonly server: http.Server;
  readonly stats: HttpTransportStats = newHttpTransportStats();

  private readonly node: HttpNode;
  private readonly maxBody: number;
  private readonly afterInput: () => void;
  private readonly clock: () => number;
  private readonly limiter: ConnectionLimiter;
  private readonly bodyTimeoutMs: number;
  private readonly retryAfterSec: number;
  private readonly closeGraceMs: number;
  private readonly hooks: Pick<HttpTransportOptions, 'metrics' | 'onRefused' | 'onAnswer' | 'media'>;
  private readonly pending = new Map<number, Pending>();
  /** Requests whose body is still being read, held to bodyTimeoutMs. */
  private readonly reading = new Set<number>();
  /** Connections answered 503 at a cap: nothing they send is parsed into a request. */
  private readonly shedSockets = new WeakSet<Duplex>();
  private readonly shedHold: ShedHold;
  private nextReq = 1;
  private closing = false;
  private readonly closed: Promise<void>;

  constructor(o: HttpTransportOptions) {
    this.node = o.node;
    this.maxBody = o.maxBody;
    this.afterInput = o.afterInput;
    this.clock = o.clock ?? Date.now;
    this.limiter = o.limiter ?? new ConnectionLimiter(DEFAULT_TRANSPORT_LIMITS.maxConnections, DEFAULT_TRANSPORT_LIMITS.maxConnectionsPerAddress);
    this.bodyTimeoutMs = o.bodyTimeoutMs ?? DEFAULT_TRANSPORT_LIMITS.bodyTimeoutMs;
    this.retryAfterSec = o.retryAfterSec ?? DEFAULT_TRANSPORT_LIMITS.retryAfterSec;
    this.closeGraceMs = o.closeGraceMs ?? 1000;
    this.shedHold = o.shedHold ?? defaultShedHold();
    this.hooks = { metrics: o.metrics, onRefused: o.onRefused, onAnswer: o.onAnswer, media: o.media };
    this.server = http.createServer(
      {
        keepAlive: true,
        // Node's own request deadline (default 300 s) stays as a backstop; the body's is ours (sweep()).
        headersTimeout: Math.min(this.bodyTimeoutMs, 300_000),
        connectionsCheckingInterval: HEADER_CHECK_INTERVAL_MS,
      },
      (req, res) => this.request(req, res),
    );
    // Runs after node:http's own listener: a shed socket is answered at once, and its parser never gets to hand us a request.
    this.server.on('connection', (socket: net.Socket) => this.connection(socket));
    this.closed = new Promise((resolve) => this.server.once('close', () => resolve()));
    this.server.keepAliveTimeout = o.keepAliveTimeoutMs ?? 10_000;
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.clientError(err, socket));
    const upgrade = o.upgrade;
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => {});
      if (this.shedSockets.has(socket)) return;
      if (upgrade && !this.closing) return upgrade(req, socket, head);
      this.hooks.onRefused?.('HTTP_503', req.socket.remoteAddress);
      refuseUpgrade(socket, 503, 'Service Unavailable');
    });
  }

  /** Requests the node has not answered yet. */
  get pendingCount(): number { return this.pending.size; }

  listen(port: number, host: string): Promise<number> { return listen(this.server, port, host); }

  /** The node's answer to request `req`; dropped if the client went away. */
  respond(req: number, answer: HttpAnswer, closeAfter = false): void {
    const p = this.pending.get(req);
    if (!p) return;
    this.pending.delete(req);
    if (answer.status === 503) this.hooks.onRefused?.('HTTP_503', p.req.socket.remoteAddress);
    this.hooks.onAnswer?.(answer);
    const close = closeAfter || answer.close === true;
    if (!this.hooks.media?.write(p.res, answer, close)) write(p.res, answer, close);
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

  /** Bodies that are late: 408 (ticked by the app). */
  sweep(now: number): void {
    for (const id of [...this.reading]) {
      const p = this.pending.get(id);
      if (!p) {
        this.reading.delete(id);
        continue;
      }
      if (now - p.startedAt < this.bodyTimeoutMs) continue;
      this.stats.bodyTimeouts++;
      this.refuseBody(id, errorAnswer(408, Ret.BadRequest, `HTTP_BODY_TIMEOUT: the request body did not arrive within ${this.bodyTimeoutMs} ms`));
    }
  }

  private connection(socket: net.Socket): void {
    const address = socket.remoteAddress;
    const shed = this.closing ? undefined : this.limiter.admit(address);
    if (shed === undefined) {
      this.stats.openConnections++;
      socket.once('close', () => {
        this.stats.openConnections--;
        this.limiter.release(address);
      });
      return;
    }
    this.stats.shed++;
    this.hooks.onRefused?.(shed, address);
    this.shedSockets.add(socket);
    socket.on('error', () => {});
    // Nothing it sends is read: parsing what a shed client writes until the grace ends is the work the cap is there to refuse.
    stopReading(socket);
    this.shedHold.refuse(socket, () => overCapAnswer(shed, this.retryAfterSec), shed === 'CONN_RATE_LIMIT');
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    req.on('error', () => {});
    res.on('error', () => {});
    if (this.shedSockets.has(req.socket)) return;
    const metrics = this.hooks.metrics;
    if (metrics && isMetricsPath(req.url)) return this.metricsRequest(req, res, metrics);
    if (this.hooks.media?.handles(req)) return this.hooks.media.upload(req, res);
    this.stats.requests++;
    const id = this.nextReq++;
    const p: Pending = { req, res, handed: false, startedAt: this.clock() };
    this.pending.set(id, p);
    res.on('close', () => {
      this.dropBody(p);
      this.reading.delete(id);
      if (!this.pending.delete(id)) return;
      this.stats.aborted++;
      if (p.handed) {
        this.node.httpAborted(id);
        this.afterInput();
      }
    });
    if (this.closing) return this.respond(id, shuttingDown(), true);

    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.maxBody) return this.tooLarge(id);
    const body = new BodyBuffer(this.maxBody);
    // Only a chunked body packs many pieces into one read; a sized one comes a read a piece.
    if (req.headers['transfer-encoding'] !== undefined) guardBodyPieces(req, {
        piece: () => this.stats.guardedBodyPieces++,
        cut: () => this.stats.bodiesCut++,
      });
    p.body = body;
    this.reading.add(id);
    req.on('data', (chunk: Buffer) => {
      if (p.body !== body) return;
      const before = body.memoryBytes;
      if (!body.append(chunk)) return this.tooLarge(id);
      this.count(body.memoryBytes - before);
      if (body.fragmented) return this.fragmentedBody(id);
    });
    req.on('end', () => {
      if (p.body !== body || !this.pending.has(id)) return;
      this.reading.delete(id);
      let text: string | undefined;
      try {
        text = decodeUtf8(body.bytes());
      } catch {
        text = undefined;
      }
      this.dropBody(p);
      if (this.closing) return this.respond(id, shuttingDown(), true);
      if (text === undefined) return this.respond(id, errorAnswer(400, Ret.BadRequest, 'request body is not valid UTF-8'));
      p.handed = true;
      try {
        this.node.httpRequest(id, req.method ?? 'GET', req.url ?? '/', text, req.socket.remoteAddress ?? '', this.clock(), { cookie: req.headers.cookie, range: req.headers.range });
      } catch {
        this.stats.internalErrors++;
        this.respond(id, errorAnswer(500, Ret.ServerError, 'internal error'));
      }
      this.afterInput();
    });
  }

  // Answered apart from the node's requests: no body is read, nothing waits on a flush.
  private metricsRequest(req: IncomingMessage, res: ServerResponse, metrics: NonNullable<HttpTransportOptions['metrics']>): void {
    req.resume();
    const ask: MetricsRequest = { method: req.method, authorization: req.headers.authorization, remoteAddress: req.socket.remoteAddress };
    const failed = (): HttpAnswer => errorAnswer(500, Ret.ServerError, 'internal error');
    metrics(ask).then(
      (answer) => write(res, answer),
      () => write(res, failed()),
    );
  }

  private tooLarge(id: number): void {
    this.stats.tooLarge++;
    this.refuseBody(id, errorAnswer(413, Ret.BadRequest, `request body is larger than ${this.maxBody} bytes`));
  }

  private fragmentedBody(id: number): void {
    this.stats.fragmented++;
    // A request pipelined behind it may have lost its body to the guard's cut: none is served.
    const p = this.pending.get(id);
    if (p) this.shedSockets.add(p.req.socket);
    this.refuseBody(id, errorAnswer(400, Ret.BadRequest, 'HTTP_BODY_FRAGMENTED: request body sent in too many pieces for its size'), false);
  }

  // 413 or 408, then the connection closes: the rest of the body is read and
  // dropped until the answer is out (the client sees it, not a reset); a client
  // still sending after the grace is cut. A trickled body is not read on: that
  // would spend the CPU the trickle is after.
  private refuseBody(id: number, answer: HttpAnswer, readRest = true): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    this.reading.delete(id);
    this.dropBody(p);
    this.hooks.onRefused?.(`HTTP_${answer.status}`, p.req.socket.remoteAddress);
    this.limiter.penalize(p.req.socket.remoteAddress);
    p.req.removeAllListeners('data');
    const socket = p.req.socket;
    if (readRest) {
      p.req.resume();
      write(p.res, answer, true);
    } else {
      // Not a byte more is parsed or read: the answer goes out raw and the
      // write side closes (FIN, not a reset, which would cost the client the
      // answer); the kernel's window then holds the trickler back.
      stopReading(socket);
      socket.end(rawAnswer(answer));
    }
    setTimeout(() => socket.destroy(), this.closeGraceMs).unref();
  }

  private dropBody(p: Pending): void {
    if (!p.body) return;
    this.count(-p.body.memoryBytes);
    p.body.clear();
    p.body = undefined;
  }

  private count(delta: number): void {
    this.stats.bufferedBytes += delta;
    if (this.stats.bufferedBytes > this.stats.peakBufferedBytes) this.stats.peakBufferedBytes = this.stats.bufferedBytes;
  }

  private clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    if (this.shedSockets.has(socket)) return void socket.destroy();
    this.stats.clientErrors++;
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, text] =
      err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] :
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout'] :
      [400, 'Bad Request'];
    this.hooks.onRefused?.(`HTTP_${status}`, (socket as Partial<net.Socket>).remoteAddress);
    const body = JSON.stringify({ BaseResponse: { Ret: Ret.BadRequest, ErrMsg: `malformed HTTP request (${status})` } });
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
}

function isMetricsPath(url: string | undefined): boolean {
  return url === METRICS_PATH || (url !== undefined && url.startsWith(`${METRICS_PATH}?`));
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
