// One idle TCP long link of the capacity profile, as a device keeps it
// (docs/protocol.md section 6): connect from a chosen loopback source
// address, log in by password (op 7), sync once (op 10) as the reference
// client does after auth, then only heartbeat (op 2) at the HeartbeatSec the
// server handed out, and sync again on a notify (op 122). It is written on
// the packet codec rather than the reference client because a holder keeps
// tens of thousands of them: one small object per link, and one timer for
// all of them (the holder's), not a ClientCore with its own timer each.
import net from 'node:net';
import { decodeJsonBody, encodeJsonPacket, encodePacket, Op, type Packet } from '../../server/wire/packet.ts';
import { PacketDecoder } from '../../server/wire/packet-decoder.ts';

export type LinkState = 'connecting' | 'auth' | 'sync' | 'ready' | 'closed';

export interface LinkCredentials {
  userName: string;
  password: string;
  deviceId: string;
}

/** What the holder counts over all its links. */
export interface LinkCounters {
  heartbeatsSent: number;
  heartbeatReplies: number;
  syncs: number;
  notifies: number;
  /** Links that closed after they were ready without our asking. */
  drops: number;
  /** Op 6 received, by Ret. */
  disconnects: Record<string, number>;
}

export function newCounters(): LinkCounters {
  return { heartbeatsSent: 0, heartbeatReplies: 0, syncs: 0, notifies: 0, drops: 0, disconnects: {} };
}

/** The Ret and text of a reply body, however it is shaped (op 8 and op 11 carry BaseResponse, op 6 Ret). */
function retOf(body: unknown): { ret: number; errMsg: string } {
  const o = (body ?? {}) as { BaseResponse?: { Ret?: number; ErrMsg?: string }; Ret?: number; ErrMsg?: string };
  return { ret: o.BaseResponse?.Ret ?? o.Ret ?? -1, errMsg: o.BaseResponse?.ErrMsg ?? o.ErrMsg ?? '' };
}

export class HeldLink {
  state: LinkState = 'connecting';
  /** When the next heartbeat is due (ms, performance.now()); set once ready. */
  nextBeatAt = Infinity;
  beatMs = 0;
  #socket: net.Socket | undefined;
  readonly #decoder = new PacketDecoder();
  #seq = 0;
  #syncKey: unknown;
  #syncing = false;
  #resync = false;
  #closedByUs = false;
  #settled = false;
  #deadline: NodeJS.Timeout | undefined;

  /**
   * `onSettled` is called once: with undefined when the link is ready, or with
   * why it failed before that (then the link is closed).
   */
  constructor(
    readonly cred: LinkCredentials,
    readonly counters: LinkCounters,
    readonly onSettled: (failure: { ret: number; errMsg: string } | undefined) => void,
  ) {}

  open(host: string, port: number, localAddress: string | undefined, timeoutMs: number): void {
    const s = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) });
    this.#socket = s;
    this.#deadline = setTimeout(() => this.#fail({ ret: -1, errMsg: `not ready within ${timeoutMs} ms (state ${this.state})` }), timeoutMs);
    s.once('connect', () => {
      this.state = 'auth';
      s.write(encodeJsonPacket(Op.Auth, ++this.#seq, { UserName: this.cred.userName, Password: this.cred.password, DeviceID: this.cred.deviceId }));
    });
    s.on('data', (chunk: Buffer) => {
      const r = this.#decoder.push(chunk);
      for (const p of r.packets) this.#packet(p);
      if (r.error) this.#fail({ ret: -1, errMsg: `bad framing from the server: ${r.error.message}` });
    });
    s.on('error', (e) => {
      if (this.state !== 'ready') this.#fail({ ret: -1, errMsg: e.message });
    });
    s.on('close', () => {
      const was = this.state;
      this.state = 'closed';
      if (this.#closedByUs) return;
      if (was === 'ready') this.counters.drops++;
      else if (was !== 'closed') this.#settle({ ret: -1, errMsg: `closed by the server while ${was}` });
    });
  }

  /** A heartbeat, if one is due at `now`. */
  beat(now: number): void {
    if (this.state !== 'ready' || now < this.nextBeatAt) return;
    this.nextBeatAt = now + this.beatMs;
    this.counters.heartbeatsSent++;
    this.#socket!.write(encodePacket(Op.Heartbeat, ++this.#seq));
  }

  close(): void {
    clearTimeout(this.#deadline);
    this.#closedByUs = true;
    this.state = 'closed';
    this.#socket?.destroy();
  }

  #packet(p: Packet): void {
    switch (p.op) {
      case Op.AuthReply: {
        const body = decodeJsonBody(p) as { SyncKey?: unknown; HeartbeatSec?: number } | undefined;
        const r = retOf(body);
        if (r.ret !== 0) return this.#fail(r);
        this.#syncKey = body?.SyncKey;
        this.beatMs = (body?.HeartbeatSec ?? 0) * 1000;
        if (!(this.beatMs > 0)) return this.#fail({ ret: -1, errMsg: 'op 8 without a HeartbeatSec' });
        this.state = 'sync';
        this.#sync();
        return;
      }
      case Op.SyncReply: {
        const body = decodeJsonBody(p) as { SyncKey?: unknown; ContinueFlag?: number } | undefined;
        const r = retOf(body);
        this.#syncing = false;
        if (r.ret !== 0) return this.#fail(r);
        this.#syncKey = body?.SyncKey;
        if (body?.ContinueFlag || this.#resync) {
          this.#resync = false;
          this.#sync();
          return;
        }
        if (this.state === 'sync') {
          this.state = 'ready';
          this.nextBeatAt = performance.now() + this.beatMs;
          this.#settle(undefined);
        }
        return;
      }
      case Op.HeartbeatReply:
        this.counters.heartbeatReplies++;
        return;
      case Op.Notify:
        this.counters.notifies++;
        if (this.state !== 'ready') return;
        if (this.#syncing) this.#resync = true;
        else this.#sync();
        return;
      case Op.Disconnect: {
        const r = retOf(decodeJsonBody(p));
        this.counters.disconnects[r.ret] = (this.counters.disconnects[r.ret] ?? 0) + 1;
        if (this.state !== 'ready') this.#fail(r);
        return; // a ready link: the close that follows counts the drop
      }
      default:
        return this.#fail({ ret: -1, errMsg: `unexpected op ${p.op}` });
    }
  }

  #sync(): void {
    this.#syncing = true;
    this.counters.syncs++;
    this.#socket!.write(encodeJsonPacket(Op.Sync, ++this.#seq, { SyncKey: this.#syncKey }));
  }

  /** Failed before ready: close, and say why (once). */
  #fail(why: { ret: number; errMsg: string }): void {
    if (this.state === 'closed') return;
    const wasReady = this.state === 'ready';
    this.close();
    if (wasReady) this.counters.drops++;
    else this.#settle(why);
  }

  #settle(failure: { ret: number; errMsg: string } | undefined): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#deadline);
    this.onSettled(failure);
  }
}
