// A raw long link for attackers and probes, over TCP or WebSocket: it writes
// whatever it is given, reads the server's packets (trusting nothing: a
// packet that breaks the framing ends the link), matches replies to requests
// by seq, and remembers how the link ended (an op 6, a WebSocket close code,
// or a plain close) so the attack can tally it.
import net from 'node:net';
import WebSocket from 'ws';
import { HEADER_LEN, Op, encodeJsonPacket, encodePacket, type Packet } from '../../../server/wire/packet.ts';
import { ANSWER_TIMEOUT_MS, NO_REPLY, type AttackEnv, type Tally } from './attack-kit.ts';

export type LinkTransport = 'tcp' | 'ws';

export class AttackLink {
  /** Every packet but the replies a call() waits for. */
  onPacket: (p: Packet) => void = () => {};
  /** The op 6 the server sent, if any. */
  disconnect: { Ret: number; ErrMsg: string } | undefined;
  /** The server's WebSocket close code (0 on TCP). */
  wsCloseCode = 0;
  malformed = false;
  isClosed = false;
  readonly closed: Promise<void>;
  #buf: Buffer = Buffer.alloc(0);
  #seq = 0;
  readonly #waiting = new Map<number, (p: Packet | undefined) => void>();
  #closedNow: () => void = () => {};

  private constructor(
    readonly transport: LinkTransport,
    private readonly send: (b: Uint8Array) => boolean,
    readonly destroy: () => void,
  ) {
    this.closed = new Promise((resolve) => (this.#closedNow = resolve));
  }

  /** Connects (and registers the socket with the attack, so it is destroyed when the attack ends). */
  static connect(env: AttackEnv, transport: LinkTransport): Promise<AttackLink> {
    return new Promise((resolve, reject) => {
      if (transport === 'tcp') {
        const s = net.connect({ host: env.tcp.host, port: env.tcp.port, noDelay: true, ...env.source });
        const l = new AttackLink('tcp', (b) => s.write(b), () => s.destroy());
        env.sockets.add(s);
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
      const ws = new WebSocket(env.wsUrl, { perMessageDeflate: false, ...env.source });
      ws.binaryType = 'nodebuffer';
      const l = new AttackLink(
        'ws',
        (b) => {
          if (ws.readyState !== WebSocket.OPEN) return false;
          ws.send(b, { binary: true });
          return ws.bufferedAmount < 1 << 20;
        },
        () => ws.terminate(),
      );
      env.sockets.add({ destroy: () => ws.terminate() });
      ws.on('message', (d: Buffer, isBinary: boolean) => (isBinary ? l.#data(d) : l.#fail()));
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

  /** Writes bytes as they are; false when the socket's buffer is full (wait before more). */
  write(b: Uint8Array): boolean {
    return this.isClosed ? false : this.send(b);
  }

  nextSeq(): number {
    return ++this.#seq;
  }

  /** A request; resolves with the packet of the same seq, or undefined if the link ends or nothing comes in time. */
  call(op: number, body: unknown, timeoutMs = ANSWER_TIMEOUT_MS): Promise<Packet | undefined> {
    const seq = this.nextSeq();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(seq);
        resolve(undefined);
      }, timeoutMs);
      this.#waiting.set(seq, (p) => {
        clearTimeout(timer);
        resolve(p);
      });
      this.write(body === undefined ? encodePacket(op, seq) : encodeJsonPacket(op, seq, body));
    });
  }

  /** op 7 by password; the auth reply's Ret (NO_REPLY for none). */
  async auth(userName: string, password: string, deviceId: string): Promise<number> {
    const p = await this.call(Op.Auth, { UserName: userName, Password: password, DeviceID: deviceId });
    return p?.op === Op.AuthReply ? replyRet(p) : NO_REPLY;
  }

  /** How the link ended, into the tally (call once it has closed). */
  tallyEnd(t: Tally): void {
    if (this.disconnect) t.disconnect(this.disconnect);
    else if (this.malformed) t.refuse('a malformed packet from the server');
    else if (this.transport === 'ws') t.refuse(`ws close ${this.wsCloseCode}`);
    else t.refuse('closed without op 6');
  }

  #data(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    while (this.#buf.length >= HEADER_LEN) {
      const len = this.#buf.readUInt32BE(0);
      if (len < HEADER_LEN) return this.#fail();
      if (this.#buf.length < len) return;
      const p: Packet = { op: this.#buf.readUInt32BE(8), seq: this.#buf.readUInt32BE(12), body: this.#buf.subarray(HEADER_LEN, len) };
      this.#buf = this.#buf.subarray(len);
      if (p.op === Op.Disconnect) {
        try {
          this.disconnect = JSON.parse(Buffer.from(p.body).toString('utf8'));
        } catch {
          this.disconnect = { Ret: -1, ErrMsg: 'unreadable op 6' };
        }
      }
      const w = p.op !== Op.Disconnect && p.op !== Op.Notify ? this.#waiting.get(p.seq) : undefined;
      if (w) {
        this.#waiting.delete(p.seq);
        w(p);
      } else this.onPacket(p);
    }
  }

  #fail(): void {
    this.malformed = true;
    this.destroy();
  }

  #closed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const w of this.#waiting.values()) w(undefined);
    this.#waiting.clear();
    this.#closedNow();
  }
}

/** The BaseResponse.Ret of a JSON reply packet (NO_REPLY if unreadable). */
export function replyRet(p: Packet): number {
  try {
    const j = JSON.parse(Buffer.from(p.body).toString('utf8')) as { BaseResponse?: { Ret?: number } };
    return typeof j.BaseResponse?.Ret === 'number' ? j.BaseResponse.Ret : NO_REPLY;
  } catch {
    return NO_REPLY;
  }
}
