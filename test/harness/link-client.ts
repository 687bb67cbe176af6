// The client end of a long link in the core tests: real packets in and out,
// written straight into the node (no network), read back as parsed packets.
import { expect } from 'vitest';
import type { ServerNode } from '../../server/node/server-node.ts';
import { PacketDecoder } from '../../server/wire/packet-decoder.ts';
import { Op, decodeJsonBody, encodeJsonPacket, encodePacket } from '../../server/wire/packet.ts';
import type { Dev } from './dev.ts';

export interface Pkt {
  op: number;
  seq: number;
  /** The JSON body, undefined when empty. */
  body: any;
}

/** What a link needs of the harness: the node, the clock, and the harness's flushing rule. */
export interface LinkHost {
  readonly node: ServerNode;
  readonly now: number;
  autoFlushNow(): void;
}

/** Bodies up to this size are decoded: the tests send and read oversized packets on purpose. */
const MAX_TEST_BODY = 1 << 24;

export class LinkClient {
  readonly packets: Pkt[] = [];
  closed = false;
  /** Closed because the server crashed, not because the server said so. */
  lost = false;
  private readonly decoder = new PacketDecoder({ maxBody: MAX_TEST_BODY });
  private cursor = 0;

  constructor(
    private readonly h: LinkHost,
    readonly id: number,
  ) {}

  /** Bytes from the server. */
  receive(bytes: Uint8Array): void {
    const { packets, error } = this.decoder.push(Uint8Array.from(bytes));
    if (error) throw error;
    for (const p of packets) this.packets.push({ op: p.op, seq: p.seq, body: decodeJsonBody(p) });
  }

  raw(bytes: Uint8Array): void {
    this.h.node.linkData(this.id, bytes, this.h.now);
    this.h.autoFlushNow();
  }

  send(op: number, seq: number, body?: unknown): void {
    this.raw(body === undefined ? encodePacket(op, seq) : encodeJsonPacket(op, seq, body));
  }

  /** Packets received since the last call. */
  take(): Pkt[] {
    const out = this.packets.slice(this.cursor);
    this.cursor = this.packets.length;
    return out;
  }

  /** The last packet of an op (and seq), if any. */
  last(op: number, seq?: number): Pkt | undefined {
    for (let i = this.packets.length - 1; i >= 0; i--) {
      const p = this.packets[i]!;
      if (p.op === op && (seq === undefined || p.seq === seq)) return p;
    }
    return undefined;
  }

  /** The reply to a request: the one packet with this op and seq. */
  reply(op: number, seq: number): any {
    const all = this.packets.filter((p) => p.op === op && p.seq === seq);
    expect(all.length, `exactly one op ${op} reply to seq ${seq}`).toBe(1);
    return all[0]!.body;
  }

  auth(body: unknown, seq = 1): any {
    this.send(Op.Auth, seq, body);
    return this.reply(Op.AuthReply, seq);
  }

  /** Authenticate by an existing session. */
  resume(d: Dev, seq = 1): any {
    return this.auth({ Uin: d.uin, Sid: d.sid, DeviceID: d.deviceId }, seq);
  }

  sendMsg(msg: unknown, seq: number): any {
    this.send(Op.Send, seq, msg);
    return this.reply(Op.SendReply, seq);
  }

  sync(key: unknown, seq: number): any {
    this.send(Op.Sync, seq, { SyncKey: key });
    return this.reply(Op.SyncReply, seq);
  }

  /** The client hangs up. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.h.node.linkClosed(this.id);
  }
}
