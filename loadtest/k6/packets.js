// @ts-check
// The long link's packets (docs/protocol.md section 6): a 16-byte big-endian
// header and a JSON body, built with DataView, and UTF-8 by hand (k6 has no
// TextEncoder). Imports nothing from k6.

export const OP = { Heartbeat: 2, HeartbeatReply: 3, Send: 4, SendReply: 5, Disconnect: 6, Auth: 7, AuthReply: 8, Sync: 10, SyncReply: 11, Notify: 122 };

/**
 * @param {string} s
 * @returns {Uint8Array}
 */
export function utf8Encode(s) {
  /** @type {number[]} */
  const out = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return new Uint8Array(out);
}

/**
 * @param {Uint8Array} b
 * @returns {string}
 */
export function utf8Decode(b) {
  let s = '';
  for (let i = 0; i < b.length; ) {
    const c = /** @type {number} */ (b[i++]);
    let cp;
    if (c < 0x80) cp = c;
    else if (c < 0xe0) cp = ((c & 31) << 6) | (/** @type {number} */ (b[i++]) & 63);
    else if (c < 0xf0) cp = ((c & 15) << 12) | ((/** @type {number} */ (b[i++]) & 63) << 6) | (/** @type {number} */ (b[i++]) & 63);
    else
      cp =
        ((c & 7) << 18) |
        ((/** @type {number} */ (b[i++]) & 63) << 12) |
        ((/** @type {number} */ (b[i++]) & 63) << 6) |
        (/** @type {number} */ (b[i++]) & 63);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      s += String.fromCharCode(0xd800 + (cp >> 10), 0xdc00 + (cp & 1023));
    } else s += String.fromCharCode(cp);
  }
  return s;
}

/**
 * One packet: 16-byte big-endian header (packLen, headerLen 16, version 1, op, seq) and a JSON body.
 * @param {number} op
 * @param {number} seq
 * @param {unknown} [body]
 * @returns {ArrayBuffer}
 */
export function encodePacket(op, seq, body) {
  const bytes = body === undefined ? new Uint8Array(0) : utf8Encode(JSON.stringify(body));
  const buf = new ArrayBuffer(16 + bytes.length);
  const v = new DataView(buf);
  v.setUint32(0, 16 + bytes.length);
  v.setUint16(4, 16);
  v.setUint16(6, 1);
  v.setUint32(8, op);
  v.setUint32(12, seq);
  new Uint8Array(buf, 16).set(bytes);
  return buf;
}

/**
 * Reassembles packets across WebSocket messages (one message may hold several, or part of one).
 */
export class PacketReader {
  constructor() {
    /** @type {Uint8Array} */
    this.buf = new Uint8Array(0);
  }

  /**
   * @param {ArrayBuffer} data
   * @returns {Array<{ op: number, seq: number, body: any }>}
   */
  push(data) {
    const add = new Uint8Array(data);
    const merged = new Uint8Array(this.buf.length + add.length);
    merged.set(this.buf);
    merged.set(add, this.buf.length);
    /** @type {Array<{ op: number, seq: number, body: any }>} */
    const out = [];
    let off = 0;
    while (merged.length - off >= 16) {
      const v = new DataView(merged.buffer, merged.byteOffset + off);
      const len = v.getUint32(0);
      if (len < 16) throw new Error(`bad packet length ${len}`);
      if (merged.length - off < len) break;
      const body = merged.subarray(off + 16, off + len);
      out.push({ op: v.getUint32(8), seq: v.getUint32(12), body: body.length ? JSON.parse(utf8Decode(body)) : undefined });
      off += len;
    }
    this.buf = merged.slice(off);
    return out;
  }
}
