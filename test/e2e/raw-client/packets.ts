// A protocol-only client, written from docs/protocol.md alone: the files of
// raw-client/ import nothing from server/ or client/, so the end-to-end tests
// check the wire contract rather than shared code.
//
// This file: the long-link packet (docs/protocol.md section 6), a 16-byte
// header and a JSON body, and reassembling packets from a byte stream.

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
