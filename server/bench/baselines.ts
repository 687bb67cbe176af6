// Bare Node servers and minimal raw clients: the floor that the real server
// is measured against. Shared by `npm run bench:server` and the load tests
// (loadtest/), so both compare with the same baselines.
//
//   bare TCP echo   a net server writing back every chunk it reads
//   bare WS echo    a ws server sending back every binary message
//   bare HTTP       an http server answering every request with a small JSON
//
// The raw clients speak just enough of the wire (16-byte header packets,
// keep-alive JSON POSTs) to drive both the real server and these baselines.
import http from 'node:http';
import net from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { PacketDecoder } from '../wire/packet-decoder.ts';
import { Op, decodeJsonBody, encodeJsonPacket, type Packet } from '../wire/packet.ts';

export interface BareServer {
  readonly kind: 'tcp' | 'ws' | 'http';
  readonly port: number;
  /** Connections open now. */
  connections(): number;
  close(): Promise<void>;
}

/** A net server echoing each chunk; idle sockets are simply held. */
export async function startBareTcpEcho(host: string, port = 0): Promise<BareServer> {
  let open = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (s) => {
    open++;
    sockets.add(s);
    s.on('data', (c) => s.write(c));
    s.on('error', () => {});
    s.on('close', () => {
      open--;
      sockets.delete(s);
    });
  });
  const p = await listenOn(server, port, host);
  return {
    kind: 'tcp',
    port: p,
    connections: () => open,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** An http server answering every request (any method, any path) with a small JSON once its body is read. */
export async function startBareHttp(host: string, port = 0): Promise<BareServer> {
  const answer = JSON.stringify({ BaseResponse: { Ret: 0, ErrMsg: '' }, MsgID: 1, LocalID: '1' });
  let open = 0;
  const server = http.createServer({ keepAlive: true }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  server.on('connection', (s: net.Socket) => {
    open++;
    s.on('close', () => open--);
  });
  const p = await listenOn(server, port, host);
  return {
    kind: 'http',
    port: p,
    connections: () => open,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** A ws server (any path) sending back every binary message. */
export async function startBareWsEcho(host: string, port = 0): Promise<BareServer> {
  const server = http.createServer((_req, res) => {
    res.writeHead(426);
    res.end();
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  let open = 0;
  wss.on('connection', (ws) => {
    open++;
    ws.on('message', (d, isBinary) => ws.send(d as Buffer, { binary: isBinary }));
    ws.on('error', () => {});
    ws.on('close', () => open--);
  });
  const p = await listenOn(server, port, host);
  return {
    kind: 'ws',
    port: p,
    connections: () => open,
    close: () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

export function listenOn(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

// ---- a minimal long-link client: one request per sequence number, replies matched by seq ----

export abstract class RawLink {
  private readonly decoder = new PacketDecoder({ maxBody: 1 << 24 });
  private readonly waiting = new Map<number, (p: Packet) => void>();
  private seq = 0;
  onNotify: () => void = () => {};
  /** A disconnect (op 6) or a framing error; the default throws, as a bench wants. */
  onBroken: (why: string) => void = (why) => {
    throw new Error(why);
  };

  protected abstract write(bytes: Uint8Array): void;
  abstract destroy(): void;

  protected received(chunk: Uint8Array): void {
    const { packets, error } = this.decoder.push(chunk);
    for (const p of packets) {
      if (p.op === Op.Notify) this.onNotify();
      else if (p.op === Op.Disconnect) this.onBroken(`disconnected: ${JSON.stringify(decodeJsonBody(p))}`);
      else {
        const w = this.waiting.get(p.seq);
        this.waiting.delete(p.seq);
        w?.(p);
      }
    }
    if (error) this.onBroken(String(error.message));
  }

  /** Sends `body` as JSON under the next seq; resolves with the JSON body of the packet that carries the same seq back. */
  call(op: number, body: unknown): Promise<any> {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.waiting.set(seq, (p) => resolve(decodeJsonBody(p)));
      this.write(encodeJsonPacket(op, seq, body));
    });
  }
}

export class RawTcpLink extends RawLink {
  private constructor(readonly socket: net.Socket) {
    super();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('error', () => {});
  }

  static connect(port: number, host: string): Promise<RawTcpLink> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, host, () => {
        s.off('error', reject);
        resolve(new RawTcpLink(s));
      });
      s.once('error', reject);
    });
  }

  protected write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export class RawWsLink extends RawLink {
  private constructor(readonly ws: WebSocket) {
    super();
    ws.on('message', (d: Buffer) => this.received(d));
    ws.on('error', () => {});
  }

  static connect(url: string): Promise<RawWsLink> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.binaryType = 'nodebuffer';
      ws.once('open', () => {
        ws.off('error', reject);
        resolve(new RawWsLink(ws));
      });
      ws.once('error', reject);
    });
  }

  protected write(bytes: Uint8Array): void {
    this.ws.send(bytes, { binary: true });
  }

  destroy(): void {
    this.ws.terminate();
  }
}

// ---- HTTP helpers (node:http with keep-alive; the same for the server and the bare baseline) ----

export function post(agent: http.Agent, host: string, port: number, p: string, body: unknown): Promise<any> {
  return request(agent, host, port, 'POST', p, JSON.stringify(body));
}

/** A JSON answer parsed, a `window.…` (synccheck) answer as text. */
export function request(agent: http.Agent, host: string, port: number, method: string, p: string, body?: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port, method, path: p, agent, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve(text.startsWith('window.') ? text : JSON.parse(text));
          } catch (e) {
            reject(e);
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
