// What the server must make of a long-link byte stream, from docs/protocol.md
// section 6 and docs/errors.md alone (not the server's decoder): the
// complete packets, the first framing error (after which nothing more is
// read), and the bytes of a packet still unfinished. The fuzzer uses it to
// finish a stream with a probe heartbeat and to know which inputs could have
// stored anything.

export const HEADER_LEN = 16;
const VERSION = 1;

export interface ModelPacket {
  op: number;
  seq: number;
  body: Buffer;
}

export interface Framing {
  packets: ModelPacket[];
  /** The framing error that ends the link, if the stream has one. */
  error?: 'PACKLEN_TOO_SMALL' | 'PACKLEN_TOO_LARGE' | 'BAD_HEADER_LEN' | 'BAD_VERSION';
  /** Bytes of an unfinished packet at the end (its header included). */
  rest: Buffer;
}

export function frame(stream: Buffer, maxBody: number): Framing {
  const packets: ModelPacket[] = [];
  let at = 0;
  while (stream.length - at >= HEADER_LEN) {
    const packLen = stream.readUInt32BE(at);
    const headerLen = stream.readUInt16BE(at + 4);
    const version = stream.readUInt16BE(at + 6);
    if (packLen < HEADER_LEN) return { packets, error: 'PACKLEN_TOO_SMALL', rest: Buffer.alloc(0) };
    if (packLen > HEADER_LEN + maxBody) return { packets, error: 'PACKLEN_TOO_LARGE', rest: Buffer.alloc(0) };
    if (headerLen !== HEADER_LEN) return { packets, error: 'BAD_HEADER_LEN', rest: Buffer.alloc(0) };
    if (version !== VERSION) return { packets, error: 'BAD_VERSION', rest: Buffer.alloc(0) };
    if (stream.length - at < packLen) break;
    packets.push({ op: stream.readUInt32BE(at + 8), seq: stream.readUInt32BE(at + 12), body: stream.subarray(at + HEADER_LEN, at + packLen) });
    at += packLen;
  }
  return { packets, rest: stream.subarray(at) };
}

/**
 * Zero bytes that finish the unfinished packet at the end of `stream`: the
 * rest of its header, then the rest of its body. The finished header may
 * itself be a framing error; then nothing more is needed.
 */
export function completion(stream: Buffer, maxBody: number): Buffer {
  const f = frame(stream, maxBody);
  if (f.error || f.rest.length === 0) return Buffer.alloc(0);
  const headerFill = Math.max(0, HEADER_LEN - f.rest.length);
  const withHeader = Buffer.concat([stream, Buffer.alloc(headerFill)]);
  const g = frame(withHeader, maxBody);
  if (g.error || g.rest.length === 0) return Buffer.alloc(headerFill);
  return Buffer.alloc(headerFill + g.rest.readUInt32BE(0) - g.rest.length);
}

/** A body that the server could act on: a complete packet whose body is a JSON object. */
export function isJsonObjectBody(body: Buffer): boolean {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return false;
  }
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
