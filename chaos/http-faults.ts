// The proxy's HTTP layer, one per device: it reads whole requests, so it can
// do what only a proxy that understands HTTP can: lose a request before the
// server sees it, lose the server's answer after the server has acted on it,
// hand the server a second copy of a request, and delay each half of an
// exchange (a slow path reorders requests of one device). A WebSocket upgrade
// is handed back to the device's proxy as a raw stream.
import http from 'node:http';
import type net from 'node:net';
import type { RequestDice, RequestFate } from './fault-dice.ts';

export interface HttpFaultsOptions {
  /** The server's HTTP port now; undefined while it is down. */
  upstream: () => { host: string; port: number } | undefined;
  /** The dice of the next request. */
  dice: () => RequestDice;
  /** An upgrade (the WebSocket long link): the socket and the request bytes already read. */
  upgrade: (socket: net.Socket, preface: Buffer) => void;
  note: (what: string, detail: string) => void;
}

interface Answer {
  status: number;
  headers: http.OutgoingHttpHeaders;
  body: Buffer;
}

/** Headers that describe one hop, not the message: never forwarded. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'content-length']);

/** How long the proxy waits for the server's answer (a held synccheck included) before it gives up on it. */
const UPSTREAM_TIMEOUT_MS = 120_000;

export class HttpFaults {
  private readonly server: http.Server;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  /** Exchanges seen, for the tests. */
  readonly counts = { requests: 0, forwarded: 0, duplicated: 0, droppedRequests: 0, droppedResponses: 0 };

  private constructor(private readonly o: HttpFaultsOptions) {
    this.server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.exchange(req, res, Buffer.concat(chunks)));
      req.on('error', () => {});
    });
    this.server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      o.upgrade(socket, Buffer.concat([Buffer.from(requestHead(req), 'latin1'), head]));
    });
    this.server.on('clientError', (_e, socket) => socket.destroy());
  }

  static async start(o: HttpFaultsOptions): Promise<HttpFaults> {
    const h = new HttpFaults(o);
    await new Promise<void>((resolve) => h.server.listen(0, '127.0.0.1', resolve));
    return h;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.server.closeAllConnections();
    this.agent.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private exchange(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
    if (this.closed) return;
    this.counts.requests++;
    const fate = this.o.dice().draw();
    const label = `${req.method} ${(req.url ?? '').split('?')[0]}`;
    if (fate.dropRequest) {
      this.counts.droppedRequests++;
      this.o.note('http-drop-request', `${label} (${fate.dropRequest})`);
      return this.lose(res, fate.dropRequest);
    }
    this.after(fate.requestDelayMs, () => {
      void this.forward(req, body).then((answer) => this.answer(res, label, fate, answer));
      if (fate.duplicateAfterMs !== undefined) {
        this.after(fate.duplicateAfterMs, () => {
          this.counts.duplicated++;
          this.o.note('http-duplicate', label);
          void this.forward(req, body);
        });
      }
    });
  }

  private answer(res: http.ServerResponse, label: string, fate: RequestFate, answer: Answer | undefined): void {
    if (this.closed) return;
    // No answer from the server (down, or its connection reset): the client's connection is cut, as the server's was.
    if (!answer) return this.lose(res, 'reset');
    if (fate.dropResponse) {
      this.counts.droppedResponses++;
      this.o.note('http-drop-response', `${label} ${answer.status} (${fate.dropResponse})`);
      return this.lose(res, fate.dropResponse);
    }
    this.after(fate.responseDelayMs, () => {
      if (res.destroyed || res.writableEnded) return;
      res.writeHead(answer.status, { ...answer.headers, 'content-length': answer.body.length });
      res.end(answer.body);
    });
  }

  /** 'hang': the client waits for an answer that never comes (until it gives up); 'reset': its connection is cut now. */
  private lose(res: http.ServerResponse, how: 'hang' | 'reset'): void {
    if (how === 'hang') return;
    const s = res.socket;
    if (!s || s.destroyed) return;
    try {
      s.resetAndDestroy();
    } catch {
      s.destroy();
    }
  }

  private forward(req: http.IncomingMessage, body: Buffer): Promise<Answer | undefined> {
    const target = this.o.upstream();
    if (!target || this.closed) return Promise.resolve(undefined);
    this.counts.forwarded++;
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_HEADERS.has(k)) headers[k] = v;
    if (req.method !== 'GET' && req.method !== 'HEAD') headers['content-length'] = body.length;
    return new Promise((resolve) => {
      const up = http.request({ host: target.host, port: target.port, method: req.method, path: req.url, headers, agent: this.agent }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => {
          const out: http.OutgoingHttpHeaders = {};
          for (const [k, v] of Object.entries(r.headers)) if (v !== undefined && !HOP_HEADERS.has(k)) out[k] = v;
          resolve({ status: r.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
        });
        r.on('error', () => resolve(undefined));
        r.on('close', () => {
          if (!r.complete) resolve(undefined);
        });
      });
      up.setTimeout(UPSTREAM_TIMEOUT_MS, () => up.destroy(new Error('upstream timeout')));
      up.on('error', () => resolve(undefined));
      up.end(body.length > 0 ? body : undefined);
    });
  }

  private after(ms: number, f: () => void): void {
    if (this.closed) return;
    if (ms <= 0) return f();
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) f();
    }, ms);
    this.timers.add(t);
  }
}

/** The request line and headers as the client wrote them (for the raw upgrade stream). */
function requestHead(req: http.IncomingMessage): string {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}
