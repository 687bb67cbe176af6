// A protocol-only client, written from /work/shared/PROTOCOL.md alone: it
// imports nothing from server/ or client/, so the end-to-end tests check the
// wire contract rather than shared code. HTTP JSON calls, synccheck, and a
// long-link client over TCP and over WebSocket with its own packet codec.
import net from 'node:net';
import WebSocket from 'ws';

// ---- packets (PROTOCOL.md section 5) ----

export const OP = {
  Heartbeat: 2,
  HeartbeatReply: 3,
  Send: 4,
  SendReply: 5,
  Disconnect: 6,
  Auth: 7,
  AuthReply: 8,
  Sync: 10,
  SyncReply: 11,
  Notify: 122,
} as const;

export interface Frame {
  op: number;
  seq: number;
  body: Buffer;
}

/** Any header: tests use it to build broken ones. */
export function rawHeader(packLen: number, headerLen: number, version: number, op: number, seq: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32BE(packLen >>> 0, 0);
  h.writeUInt16BE(headerLen, 4);
  h.writeUInt16BE(version, 6);
  h.writeUInt32BE(op >>> 0, 8);
  h.writeUInt32BE(seq >>> 0, 12);
  return h;
}

/** One packet; an object body is sent as JSON, a string or bytes as they are. */
export function packet(op: number, seq: number, body?: unknown): Buffer {
  const b =
    body === undefined ? Buffer.alloc(0) :
    Buffer.isBuffer(body) ? body :
    typeof body === 'string' ? Buffer.from(body, 'utf8') :
    Buffer.from(JSON.stringify(body), 'utf8');
  return Buffer.concat([rawHeader(16 + b.length, 16, 1, op, seq), b]);
}

export function frameJson<T = any>(f: Frame): T {
  return (f.body.length === 0 ? undefined : JSON.parse(f.body.toString('utf8'))) as T;
}

/** Reassembles frames from a byte stream (the server is trusted to frame correctly). */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Frame[] = [];
    while (this.buf.length >= 16) {
      const len = this.buf.readUInt32BE(0);
      if (len < 16) throw new Error(`server sent packLen ${len}`);
      if (this.buf.length < len) break;
      out.push({ op: this.buf.readUInt32BE(8), seq: this.buf.readUInt32BE(12), body: this.buf.subarray(16, len) });
      this.buf = this.buf.subarray(len);
    }
    return out;
  }
}

// ---- SyncKey ----

export interface SyncKey {
  Count: number;
  List: Array<{ Key: number; Val: number }>;
}

export const EMPTY_KEY: SyncKey = { Count: 0, List: [] };

export function keyQuery(k: SyncKey): string {
  return k.List.map((p) => `${p.Key}_${p.Val}`).join('|');
}

export function keyVal(k: SyncKey, key: number): number {
  return k.List.find((p) => p.Key === key)?.Val ?? 0;
}

// ---- HTTP ----

export const MICRO = '/cgi-bin/micromsg-bin/';
export const WEB = '/cgi-bin/mmwebwx-bin/';

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  text: string;
  json: T;
}

export async function httpCall<T = any>(base: string, method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<HttpResult<T>> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = typeof body === 'string' || Buffer.isBuffer(body) ? (body as string) : JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  if (signal) init.signal = signal;
  const res = await fetch(base + path, init);
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export async function register(base: string, userName: string, password: string): Promise<number> {
  const r = await httpCall(base, 'POST', `${MICRO}register`, { UserName: userName, Password: password, NickName: userName.toUpperCase() });
  if (r.json?.BaseResponse?.Ret !== 0) throw new Error(`register ${userName}: ${r.text}`);
  return r.json.Uin;
}

export interface Login {
  Uin: number;
  Sid: string;
  Skey: string;
  SyncKey: SyncKey;
}

export async function manualAuth(base: string, userName: string, password: string, deviceId: string): Promise<Login> {
  const r = await httpCall(base, 'POST', `${MICRO}manualauth`, { UserName: userName, Password: password, DeviceID: deviceId });
  if (r.json?.BaseResponse?.Ret !== 0) throw new Error(`manualauth ${userName}: ${r.text}`);
  return r.json;
}

export interface SyncCheck {
  retcode: string;
  selector: string;
  ms: number;
}

export function parseSyncCheck(text: string): { retcode: string; selector: string } {
  const m = /^window\.synccheck=\{retcode:"(\d+)",selector:"(\d+)"\}$/.exec(text);
  if (!m) throw new Error(`not a synccheck answer: ${text.slice(0, 100)}`);
  return { retcode: m[1]!, selector: m[2]! };
}

/** A web device: BaseRequest on every call, synccheck long polls, webwxsync. */
export class HttpDevice {
  uin = 0;
  sid = '';
  skey = '';
  key: SyncKey = EMPTY_KEY;

  constructor(
    public base: string,
    readonly userName: string,
    readonly password: string,
    readonly deviceId: string,
  ) {}

  get baseRequest(): { Uin: number; Sid: string; Skey: string; DeviceID: string } {
    return { Uin: this.uin, Sid: this.sid, Skey: this.skey, DeviceID: this.deviceId };
  }

  async login(): Promise<Login> {
    const l = await manualAuth(this.base, this.userName, this.password, this.deviceId);
    this.uin = l.Uin;
    this.sid = l.Sid;
    this.skey = l.Skey;
    this.key = l.SyncKey;
    return l;
  }

  async init(): Promise<any> {
    const r = await this.post('webwxinit', {});
    if (r.json?.BaseResponse?.Ret === 0) {
      this.key = r.json.SyncKey;
      this.skey = r.json.SKey;
    }
    return r.json;
  }

  post(endpoint: string, body: Record<string, unknown>, query = ''): Promise<HttpResult> {
    return httpCall(this.base, 'POST', `${WEB}${endpoint}${query}`, { BaseRequest: this.baseRequest, ...body });
  }

  async send(to: string, content: string, clientMsgId: string): Promise<any> {
    const r = await this.post('webwxsendmsg', {
      Msg: { ClientMsgId: clientMsgId, LocalID: clientMsgId, FromUserName: this.userName, ToUserName: to, Type: 1, Content: content },
      Scene: 0,
    });
    return r.json;
  }

  /** One webwxsync with the current key; the key advances only on success. */
  async syncOnce(): Promise<any> {
    const q = `?sid=${encodeURIComponent(this.sid)}&skey=${encodeURIComponent(this.skey)}`;
    const r = await this.post('webwxsync', { SyncKey: this.key, rr: ~Date.now() }, q);
    const j = r.json;
    if (j?.BaseResponse?.Ret === 0) {
      this.key = j.SyncKey;
      if (j.SKey) this.skey = j.SKey;
    }
    return j;
  }

  async synccheck(signal?: AbortSignal, key = this.key): Promise<SyncCheck> {
    const t0 = Date.now();
    const q = new URLSearchParams({
      sid: this.sid,
      uin: String(this.uin),
      skey: this.skey,
      deviceid: this.deviceId,
      synckey: keyQuery(key),
      r: String(Date.now()),
      _: String(Date.now()),
    });
    const r = await httpCall(this.base, 'GET', `${WEB}synccheck?${q}`, undefined, signal);
    return { ...parseSyncCheck(r.text), ms: Date.now() - t0 };
  }
}

// ---- the long link ----

type Waiter = { pred: (f: Frame) => boolean; resolve: (f: Frame) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

/** What both long-link clients share: frames in, a seq counter, waiting for frames. */
export abstract class LinkClient {
  readonly frames: Frame[] = [];
  closed = false;
  closeInfo = '';
  uin = 0;
  sid = '';
  key: SyncKey = EMPTY_KEY;
  heartbeatSec = 0;
  private seq = 0;
  private waiters: Waiter[] = [];
  private closeWaiters: Array<() => void> = [];
  /** Frames not yet taken by a waiter, in arrival order. */
  private unclaimed: Frame[] = [];

  abstract writeRaw(bytes: Buffer): void;
  abstract end(): void;
  abstract destroy(): void;

  protected onFrames(frames: Frame[]): void {
    for (const f of frames) {
      this.frames.push(f);
      const i = this.waiters.findIndex((w) => w.pred(f));
      if (i >= 0) {
        const [w] = this.waiters.splice(i, 1);
        clearTimeout(w!.timer);
        w!.resolve(f);
      } else this.unclaimed.push(f);
    }
  }

  protected onClose(info: string): void {
    this.closed = true;
    this.closeInfo = info;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error(`link closed (${info}) while waiting`));
    }
    for (const f of this.closeWaiters.splice(0)) f();
  }

  nextSeq(): number {
    return ++this.seq;
  }

  /** The next frame (already received or to come) matching pred. */
  waitFor(pred: (f: Frame) => boolean, timeoutMs = 5000, what = 'a frame'): Promise<Frame> {
    const i = this.unclaimed.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.unclaimed.splice(i, 1)[0]!);
    if (this.closed) return Promise.reject(new Error(`link closed (${this.closeInfo}) before ${what}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push({ pred, resolve, reject, timer });
    });
  }

  waitOp(op: number, timeoutMs = 5000): Promise<Frame> {
    return this.waitFor((f) => f.op === op, timeoutMs, `op ${op}`);
  }

  /** Drop the unclaimed frames of one op (e.g. notifications already acted on). */
  discard(op: number): number {
    const before = this.unclaimed.length;
    this.unclaimed = this.unclaimed.filter((f) => f.op !== op);
    return before - this.unclaimed.length;
  }

  waitClosed(timeoutMs = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`link still open after ${timeoutMs} ms`)), timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Send a request and wait for the reply with the same seq. */
  async call(op: number, replyOp: number, body?: unknown, timeoutMs = 5000): Promise<any> {
    const seq = this.nextSeq();
    this.writeRaw(packet(op, seq, body));
    const f = await this.waitFor((x) => (x.op === replyOp && x.seq === seq) || x.op === OP.Disconnect, timeoutMs, `op ${replyOp} seq ${seq}`);
    if (f.op === OP.Disconnect) throw new Error(`disconnected: ${f.body.toString('utf8')}`);
    return frameJson(f);
  }

  async heartbeat(): Promise<void> {
    const seq = this.nextSeq();
    this.writeRaw(packet(OP.Heartbeat, seq));
    await this.waitFor((f) => f.op === OP.HeartbeatReply && f.seq === seq, 5000, `heartbeat reply ${seq}`);
  }

  /** op 7 with `{UserName, Password, DeviceID}` or `{Uin, Sid, DeviceID}`. */
  async auth(body: Record<string, unknown>): Promise<any> {
    const r = await this.call(OP.Auth, OP.AuthReply, body);
    if (r.BaseResponse.Ret === 0) {
      this.uin = r.Uin;
      this.sid = r.Sid;
      this.key = r.SyncKey;
      this.heartbeatSec = r.HeartbeatSec;
    }
    return r;
  }

  send(to: string, content: string, clientMsgId: string, from = ''): Promise<any> {
    return this.call(OP.Send, OP.SendReply, { ClientMsgId: clientMsgId, LocalID: clientMsgId, FromUserName: from, ToUserName: to, Type: 1, Content: content });
  }

  /** One sync with the current key; the key advances only on success. */
  async syncOnce(): Promise<any> {
    const r = await this.call(OP.Sync, OP.SyncReply, { SyncKey: this.key });
    if (r.BaseResponse.Ret === 0) this.key = r.SyncKey;
    return r;
  }
}

export class TcpLink extends LinkClient {
  readonly socket: net.Socket;
  private readonly reader = new FrameReader();

  private constructor(socket: net.Socket) {
    super();
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (c: Buffer) => this.onFrames(this.reader.push(c)));
    socket.on('error', () => {});
    socket.on('close', () => this.onClose('tcp close'));
  }

  static connect(port: number, host = '127.0.0.1'): Promise<TcpLink> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host });
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new TcpLink(s));
      });
    });
  }

  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export class WsLink extends LinkClient {
  readonly ws: WebSocket;
  closeCode = 0;
  closeReason = '';
  private readonly reader = new FrameReader();

  private constructor(ws: WebSocket) {
    super();
    this.ws = ws;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) throw new Error('server sent a text message');
      this.onFrames(this.reader.push(Buffer.from(data)));
    });
    ws.on('error', () => {});
    ws.on('close', (code: number, reason: Buffer) => {
      this.closeCode = code;
      this.closeReason = reason.toString('utf8');
      this.onClose(`ws close ${code} ${this.closeReason}`);
    });
  }

  static connect(url: string): Promise<WsLink> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('error', reject);
      ws.once('open', () => {
        ws.off('error', reject);
        resolve(new WsLink(ws));
      });
    });
  }

  writeRaw(bytes: Buffer): void {
    this.ws.send(bytes, { binary: true });
  }

  end(): void {
    this.ws.close(1000);
  }

  destroy(): void {
    this.ws.terminate();
  }
}

// ---- small helpers ----

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `f` until it is true or the time is up. */
export async function until(f: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!(await f())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}
