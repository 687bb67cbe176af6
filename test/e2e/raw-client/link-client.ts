// The long-link client over any byte transport (docs/protocol.md section 6).
// Part of the protocol-only client: see packets.ts.
import { OP, frameJson, packet, type Frame } from './packets.ts';
import { EMPTY_KEY, type SyncKey } from './sync-key.ts';

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
