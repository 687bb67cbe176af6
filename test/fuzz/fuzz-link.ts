// The fuzzer's end of a long link, TCP or WebSocket: writes bytes as given
// (one write or one binary message each) and records every frame the server
// sends, never trusting them: a frame that breaks the framing, a text
// message or a frame after op 6 is noted, not thrown.
import net from 'node:net';
import WebSocket from 'ws';
import { HEADER_LEN } from './framing-model.ts';

export interface Frame {
  op: number;
  seq: number;
  body: Buffer;
}

export class FuzzLink {
  readonly frames: Frame[] = [];
  /** What the server sent that breaks the protocol (the property fails on it). */
  malformed: string | undefined;
  closed = false;
  /** The WebSocket close code (0 on TCP, or before a close). */
  wsCloseCode = 0;
  #buf: Buffer = Buffer.alloc(0);
  #waiters: Array<() => void> = [];

  private constructor(
    private readonly send: (b: Buffer) => void,
    readonly destroy: () => void,
  ) {}

  static connect(transport: 'tcp' | 'ws', tcpPort: number, wsUrl: string): Promise<FuzzLink> {
    return new Promise((resolve, reject) => {
      if (transport === 'tcp') {
        const s = net.connect({ port: tcpPort, host: '127.0.0.1', noDelay: true });
        const l = new FuzzLink(
          (b) => void s.write(b),
          () => s.destroy(),
        );
        s.on('data', (c: Buffer) => l.#data(c));
        s.on('close', () => l.#closed());
        s.once('error', reject);
        s.once('connect', () => {
          s.off('error', reject);
          s.on('error', () => {});
          resolve(l);
        });
        return;
      }
      const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
      ws.binaryType = 'nodebuffer';
      const l = new FuzzLink(
        (b) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(b, { binary: true });
        },
        () => ws.terminate(),
      );
      ws.on('message', (d: Buffer, isBinary: boolean) => {
        if (!isBinary) l.malformed ??= `a text message: ${JSON.stringify(d.toString('utf8').slice(0, 80))}`;
        else l.#data(d);
      });
      ws.on('close', (code: number) => {
        l.wsCloseCode = code;
        l.#closed();
      });
      ws.once('error', reject);
      ws.once('open', () => {
        ws.off('error', reject);
        ws.on('error', () => {});
        resolve(l);
      });
    });
  }

  write(b: Buffer): void {
    if (!this.closed) this.send(b);
  }

  /** The op 6 frame, if the server sent one. */
  get disconnect(): Frame | undefined {
    return this.frames.find((f) => f.op === 6);
  }

  /** Resolves once `f()` holds (checked on every frame and on close), or false after `ms`. */
  waitFor(f: () => boolean, ms: number): Promise<boolean> {
    if (f()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== check);
        resolve(false);
      }, ms);
      const check = (): void => {
        if (!f()) return;
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== check);
        resolve(true);
      };
      this.#waiters.push(check);
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  #data(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    while (this.#buf.length >= HEADER_LEN && !this.malformed) {
      const len = this.#buf.readUInt32BE(0);
      if (len < HEADER_LEN || this.#buf.readUInt16BE(4) !== HEADER_LEN) {
        this.malformed = `a frame with packLen ${len}, headerLen ${this.#buf.readUInt16BE(4)}`;
        break;
      }
      if (this.#buf.length < len) break;
      if (this.disconnect) this.malformed ??= 'a frame after op 6';
      this.frames.push({ op: this.#buf.readUInt32BE(8), seq: this.#buf.readUInt32BE(12), body: Buffer.from(this.#buf.subarray(HEADER_LEN, len)) });
      this.#buf = this.#buf.subarray(len);
    }
    this.#wake();
  }

  #closed(): void {
    this.closed = true;
    if (this.#buf.length > 0) this.malformed ??= `the link closed in the middle of a frame (${this.#buf.length} bytes)`;
    this.#wake();
  }
}
