// The real-network adapter: drives one sans-IO ClientCore on real sockets.
// `http` actions go out through node:http with keep-alive agents (the
// synccheck long poll on an agent of its own, so a held poll never queues a
// send behind it); `linkOpen` opens a TCP connection (transport 'tcp') or a
// WebSocket to /longlink (transport 'ws'); one timer follows
// core.nextWakeAt() and is re-armed after every input. The clock is
// Date.now(), the core's random Math.random, unless a caller injects others.
//
// This file is a transport: it owns sockets, timers and real time. The
// protocol (what to send when, retries, dedup) stays in the core.
import http from 'node:http';
import net from 'node:net';
import WebSocket from 'ws';
import { PATHS, WEB_LOGIN_PATHS } from '../../server/node/http-api.ts';
import { attachmentXml, uploadFile } from './upload-file.ts';
import { clientConfig, type ClientConfig } from '../core/client-config.ts';
import { ClientCore, type ClientAction, type ClientEvent, type ClientTransport } from '../core/client-core.ts';
import type { PersistedState } from '../core/client-state.ts';
import { TEXT_MESSAGE } from '../core/sender.ts';
import { DEFAULT_SERVER, DEFAULT_TCP, hostForUrl, parseHostPort, parseServerUrl, type HostPort } from './server-address.ts';

export const LONGLINK_PATH = '/longlink';

/** Sockets for requests other than synccheck, unless told otherwise. */
const DEFAULT_MAX_SOCKETS = 4;
/** Our socket timeouts trail the core's by this much: the core decides, ours only frees the socket. */
const SOCKET_TIMEOUT_SLACK_MS = 1000;
const MIN_REQUEST_TIMEOUT_MS = 1000;
/** The longest delay setTimeout takes (a signed 32-bit count of milliseconds). */
const MAX_TIMER_DELAY_MS = 0x7fffffff;

export interface NetClientOptions {
  userName: string;
  password: string;
  deviceId: string;
  transport: ClientTransport;
  /** 'qr': the web login by a QR code a phone confirms (transport http); default 'password'. */
  login?: 'password' | 'qr';
  /** The server's HTTP base URL (also where the WebSocket long link lives). Default http://127.0.0.1:8080. */
  server?: string;
  /** The TCP long link, `host:port` (IPv6 as `[::1]:8081`). Default 127.0.0.1:8081. */
  tcp?: string;
  persisted?: PersistedState;
  config?: Partial<ClientConfig>;
  /** Every ClientEvent, in the order the core emitted it. May call back into this client. */
  onEvent?: (e: ClientEvent) => void;
  /** Sockets for requests other than synccheck, at once (default 4); more wait in the agent. */
  maxSockets?: number;
  /** Source address for outgoing connections (e.g. another 127.x address, for more than one port range of loopback links). */
  localAddress?: string;
  clock?: () => number;
  random?: () => number;
  /** Planted client bugs ('client-no-dedup'), for runs that prove the checkers catch them. */
  bugs?: ReadonlySet<string>;
}

export interface NetClientStats {
  httpRequests: number;
  /** Requests that ended without an answer (connection error, reset, our own timeout). */
  httpFailures: number;
  linkConnects: number;
  /** Links that closed without the core asking for it. */
  linkDrops: number;
  bytesIn: number;
  bytesOut: number;
}

type LinkConn = { kind: 'tcp'; socket: net.Socket } | { kind: 'ws'; ws: WebSocket };

export class NetClient {
  readonly core: ClientCore;
  readonly userName: string;
  readonly deviceId: string;
  readonly transport: ClientTransport;
  readonly stats: NetClientStats = { httpRequests: 0, httpFailures: 0, linkConnects: 0, linkDrops: 0, bytesIn: 0, bytesOut: 0 };

  readonly #http: HostPort;
  readonly #tcp: HostPort;
  readonly #agent: http.Agent;
  readonly #pollAgent: http.Agent;
  readonly #pollTimeoutMs: number;
  readonly #requestTimeoutMs: number;
  readonly #clock: () => number;
  readonly #onEvent: (e: ClientEvent) => void;
  /** The HTTP base URL, as given. */
  readonly #server: string;
  readonly #localAddress: string | undefined;
  readonly #links = new Map<number, LinkConn>();
  readonly #requests = new Set<http.ClientRequest>();
  #timer: NodeJS.Timeout | undefined;
  #armedAt: number | undefined;
  #closed = false;

  constructor(o: NetClientOptions) {
    this.userName = o.userName;
    this.deviceId = o.deviceId;
    this.transport = o.transport;
    this.#server = o.server ?? DEFAULT_SERVER;
    this.#http = parseServerUrl(this.#server);
    this.#tcp = parseHostPort(o.tcp ?? DEFAULT_TCP);
    this.#clock = o.clock ?? Date.now;
    this.#onEvent = o.onEvent ?? (() => {});
    this.#localAddress = o.localAddress;
    const cfg = clientConfig(o.config);
    // The core times requests out itself; ours only frees the socket of one it has given up on.
    this.#pollTimeoutMs = cfg.httpTimeoutMs + SOCKET_TIMEOUT_SLACK_MS;
    this.#requestTimeoutMs = Math.max(cfg.replyTimeoutMs, MIN_REQUEST_TIMEOUT_MS) + SOCKET_TIMEOUT_SLACK_MS;
    const agentOpts: http.AgentOptions = { keepAlive: true, ...(o.localAddress ? { localAddress: o.localAddress } : {}) };
    this.#agent = new http.Agent({ ...agentOpts, maxSockets: o.maxSockets ?? DEFAULT_MAX_SOCKETS });
    this.#pollAgent = new http.Agent({ ...agentOpts, maxSockets: 1 });
    this.core = new ClientCore({
      userName: o.userName,
      password: o.password,
      deviceId: o.deviceId,
      transport: o.transport,
      ...(o.login ? { login: o.login } : {}),
      random: o.random ?? Math.random,
      out: (a) => this.#act(a),
      emit: (e) => this.#onEvent(e),
      ...(o.config ? { config: o.config } : {}),
      ...(o.persisted ? { persisted: o.persisted } : {}),
      ...(o.bugs ? { bugs: o.bugs } : {}),
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Logs in and keeps syncing until close(). */
  start(): void {
    this.input((now) => this.core.start(now));
  }

  /**
   * Runs one input of the core with the current time, then re-arms the timer.
   * Use it for every direct call into `core` (or the helpers below).
   */
  input<T>(f: (now: number) => T): T {
    if (this.#closed) throw new Error('NetClient is closed');
    try {
      return f(this.#clock());
    } finally {
      this.#arm();
    }
  }

  /** Queues a message; returns its LocalID. */
  send(to: string, content: string, type = TEXT_MESSAGE): string {
    return this.input((now) => this.core.send(to, content, now, type));
  }

  /**
   * Uploads a file (webwxuploadmedia) and queues it to `to`: a picture by its
   * extension, else an attachment. Resolves with the message's LocalID once
   * the upload is done; rejects if there is no session yet or the server
   * refuses the file. The send itself is then retried like any other.
   */
  async sendFile(to: string, file: string): Promise<string> {
    const session = this.core.session();
    if (!session || this.core.state !== 'ready') throw new Error('not logged in yet');
    const f = await uploadFile({ server: this.#server, session, deviceId: this.deviceId, userName: this.userName }, file, to);
    const media = f.image ? { mediaId: f.mediaId, type: 3 as const, content: '' } : { mediaId: f.mediaId, type: 6 as const, content: attachmentXml(f) };
    return this.input((now) => this.core.sendMedia(to, media, now));
  }

  resend(localId: string): void {
    this.input((now) => this.core.resend(localId, now));
  }

  createChatRoom(members: string[], topic: string): void {
    this.input((now) => this.core.createChatRoom(members, topic, now));
  }

  setRemark(target: string, remark: string): void {
    this.input((now) => this.core.setRemark(target, remark, now));
  }

  /** Stops everything at once: timer, links, requests, agents. Idempotent; the core is left as it was (persist it first). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const c of this.#links.values()) this.#destroyLink(c);
    this.#links.clear();
    for (const r of this.#requests) r.destroy();
    this.#requests.clear();
    this.#agent.destroy();
    this.#pollAgent.destroy();
  }

  // ------------------------------------------------------------ the timer

  #arm(): void {
    if (this.#closed) return;
    const t = this.core.nextWakeAt();
    if (t === this.#armedAt && (t === undefined || this.#timer !== undefined)) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = t;
    if (t === undefined) return;
    const delay = Math.min(Math.max(0, t - this.#clock()), MAX_TIMER_DELAY_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#armedAt = undefined;
      if (!this.#closed) this.input((now) => this.core.tick(now));
    }, delay);
  }

  /** A socket callback: hand the core what happened, unless we are closed. */
  #feed(f: (now: number) => void): void {
    if (!this.#closed) this.input(f);
  }

  // ------------------------------------------------------------ actions

  #act(a: ClientAction): void {
    if (this.#closed) return;
    switch (a.kind) {
      case 'http':
        return this.#request(a);
      case 'linkOpen':
        return this.#open(a.link);
      case 'linkWrite': {
        const c = this.#links.get(a.link);
        if (!c) return;
        this.stats.bytesOut += a.bytes.length;
        if (c.kind === 'tcp') c.socket.write(a.bytes);
        else if (c.ws.readyState === WebSocket.OPEN) c.ws.send(a.bytes, { binary: true });
        return;
      }
      case 'linkClose': {
        const c = this.#links.get(a.link);
        if (!c) return;
        this.#links.delete(a.link);
        this.#destroyLink(c);
        return;
      }
    }
  }

  #request(a: Extract<ClientAction, { kind: 'http' }>): void {
    this.stats.httpRequests++;
    // The long polls: synccheck, and the QR login's wait for the phone.
    const poll = a.url.startsWith(PATHS.synccheck) || a.url.startsWith(`${WEB_LOGIN_PATHS.login}?`);
    let done = false;
    const finish = (f: (now: number) => void): void => {
      if (done) return;
      done = true;
      this.#requests.delete(req);
      this.#feed(f);
    };
    const failed = (): void => {
      if (!done && !this.#closed) this.stats.httpFailures++;
      finish((now) => this.core.httpFailed(a.req, now));
    };
    const headers: http.OutgoingHttpHeaders =
      a.method === 'POST' ? { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(a.body) } : {};
    const req = http.request(
      { host: this.#http.host, port: this.#http.port, method: a.method, path: a.url, agent: poll ? this.#pollAgent : this.#agent, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          this.stats.bytesIn += c.length;
          chunks.push(c);
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          finish((now) => this.core.httpResponse(a.req, res.statusCode ?? 0, body, now));
        });
        res.on('error', failed);
        res.on('close', () => {
          if (!res.complete) failed();
        });
      },
    );
    this.#requests.add(req);
    req.setTimeout(poll ? this.#pollTimeoutMs : this.#requestTimeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', failed);
    this.stats.bytesOut += Buffer.byteLength(a.body);
    req.end(a.method === 'POST' ? a.body : undefined);
  }

  #open(link: number): void {
    this.stats.linkConnects++;
    let c: LinkConn;
    const opened = (): void => {
      if (this.#links.get(link) === c) this.#feed((now) => this.core.linkOpened(link, now));
    };
    const data = (bytes: Uint8Array): void => {
      this.stats.bytesIn += bytes.length;
      if (this.#links.get(link) === c) this.#feed((now) => this.core.linkData(link, bytes, now));
    };
    const closed = (): void => {
      if (this.#links.get(link) !== c) return; // closed on the core's word, or after close()
      this.#links.delete(link);
      this.stats.linkDrops++;
      this.#feed((now) => this.core.linkClosed(link, now));
    };
    if (this.transport === 'tcp') {
      const socket = net.connect({
        host: this.#tcp.host,
        port: this.#tcp.port,
        noDelay: true,
        ...(this.#localAddress ? { localAddress: this.#localAddress } : {}),
      });
      c = { kind: 'tcp', socket };
      socket.on('connect', opened);
      socket.on('data', data);
      socket.on('error', () => {}); // 'close' follows
      socket.on('close', closed);
    } else {
      const url = `ws://${hostForUrl(this.#http.host)}:${this.#http.port}${LONGLINK_PATH}`;
      const ws = new WebSocket(url, {
        perMessageDeflate: false,
        ...(this.#localAddress ? { localAddress: this.#localAddress } : {}),
      });
      ws.binaryType = 'nodebuffer';
      c = { kind: 'ws', ws };
      ws.on('open', opened);
      ws.on('message', (d: WebSocket.RawData, isBinary: boolean) => {
        if (!isBinary) {
          // Not the protocol: a broken link (the core reconnects).
          ws.terminate();
          return closed();
        }
        data(Array.isArray(d) ? Buffer.concat(d) : d instanceof ArrayBuffer ? new Uint8Array(d) : d);
      });
      ws.on('error', () => {}); // 'close' follows
      ws.on('close', closed);
    }
    this.#links.set(link, c);
  }

  #destroyLink(c: LinkConn): void {
    if (c.kind === 'tcp') c.socket.destroy();
    else c.ws.terminate();
  }
}
