// Long-link packets (docs/protocol.md section 6): a 16-byte big-endian header
// (packLen u32, headerLen u16, version u16, op u32, seq u32) and a body.

import { previewText } from './wire-error.ts';

export const HEADER_LEN = 16;
export const PROTOCOL_VERSION = 1;
export const DEFAULT_MAX_BODY = 64 * 1024;

export const Op = {
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

/**
 * The phone's part of the QR web login (docs/protocol.md 6.8), apart from
 * the core ops of v1: a phone scanned a web login's QR code, or confirmed
 * it, `{LoginUrl}`; each reply is `{BaseResponse}`.
 */
export const WebLoginOp = {
  ExtDeviceLoginConfirmGet: 30,
  ExtDeviceLoginConfirmGetReply: 31,
  ExtDeviceLoginConfirmOk: 32,
  ExtDeviceLoginConfirmOkReply: 33,
} as const;

export type OpCode = (typeof Op)[keyof typeof Op];

export interface Packet {
  op: number;
  seq: number;
  body: Uint8Array;
}

/** What encodePackets takes: a packet whose body may still be a string. */
export interface PacketInput {
  op: number;
  seq: number;
  body?: Uint8Array | string;
}

const MAX_U32 = 0xffffffff;
const EMPTY = new Uint8Array(0);
// ignoreBOM keeps a byte order mark in the text, where JSON.parse refuses it (bodies carry none).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Request bytes as text: the one UTF-8 decoder of every JSON body, the long
 * link's and HTTP's. Invalid UTF-8 throws a SyntaxError instead of turning
 * into U+FFFD, so what is stored is exactly what was sent.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new SyntaxError(`${bytes.length} bytes that are not valid UTF-8`);
  }
}

function checkU32(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > MAX_U32) {
    throw new RangeError(`packet ${name} must be an integer 0..${MAX_U32}, got ${n}`);
  }
}

function bodyLength(body: Uint8Array | string | undefined): number {
  if (body === undefined) return 0;
  return typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
}

// Writes one packet at `offset`; `len` is the body's byte length, already known.
function writePacket(
  buf: Buffer,
  offset: number,
  op: number,
  seq: number,
  body: Uint8Array | string | undefined,
  len: number,
): void {
  checkU32('op', op);
  checkU32('seq', seq);
  // The receiver enforces its own body limit; here only the u32 field bounds us.
  if (len > MAX_U32 - HEADER_LEN) {
    throw new RangeError(`packet body of ${len} bytes does not fit a u32 packLen`);
  }
  buf.writeUInt32BE(HEADER_LEN + len, offset);
  buf.writeUInt16BE(HEADER_LEN, offset + 4);
  buf.writeUInt16BE(PROTOCOL_VERSION, offset + 6);
  buf.writeUInt32BE(op, offset + 8);
  buf.writeUInt32BE(seq, offset + 12);
  if (len === 0 || body === undefined) return;
  if (typeof body === 'string') buf.write(body, offset + HEADER_LEN, len, 'utf8');
  else buf.set(body, offset + HEADER_LEN);
}

/** One packet; a string body is written as UTF-8. */
export function encodePacket(op: number, seq: number, body?: Uint8Array | string): Buffer {
  const len = bodyLength(body);
  const buf = Buffer.allocUnsafe(HEADER_LEN + len);
  writePacket(buf, 0, op, seq, body, len);
  return buf;
}

/** A packet whose body is `JSON.stringify(value)`; `undefined` gives an empty body. */
export function encodeJsonPacket(op: number, seq: number, value: unknown): Buffer {
  // JSON.stringify returns undefined for undefined (and functions); that is "no body",
  // which decodeJsonBody maps back to undefined.
  const text: string | undefined = JSON.stringify(value);
  return encodePacket(op, seq, text ?? EMPTY);
}

/** Several packets in one buffer, for a single write. */
export function encodePackets(list: Iterable<PacketInput>): Buffer {
  const items = Array.isArray(list) ? (list as PacketInput[]) : [...list];
  const lens = items.map((p) => bodyLength(p.body));
  let total = 0;
  for (const len of lens) total += HEADER_LEN + len;
  const buf = Buffer.allocUnsafe(total);
  let offset = 0;
  items.forEach((p, i) => {
    const len = lens[i] ?? 0;
    writePacket(buf, offset, p.op, p.seq, p.body, len);
    offset += HEADER_LEN + len;
  });
  return buf;
}

/**
 * The body as JSON: `undefined` for an empty body, a SyntaxError for invalid
 * UTF-8 or invalid JSON (the message quotes at most a short preview).
 */
export function decodeJsonBody(p: Packet): unknown {
  if (p.body.length === 0) return undefined;
  let text: string;
  try {
    text = decodeUtf8(p.body);
  } catch {
    throw new SyntaxError(`packet body (op ${p.op}, ${p.body.length} bytes) is not valid UTF-8`);
  }
  try {
    return JSON.parse(text);
  } catch {
    // V8's own message quotes the input; ours bounds what goes back to the peer.
    throw new SyntaxError(
      `packet body (op ${p.op}, ${p.body.length} bytes) is not valid JSON: ${previewText(text)}`,
    );
  }
}
