// A QR code as a PNG, computed without I/O so that the sans-IO node can
// answer GET /qrcode/UUID itself: the qrcode package's encoder gives the
// module matrix, and the PNG is written here, one bit per pixel, its image
// data in stored (uncompressed) deflate blocks. That costs a few KiB more
// than zlib would, needs no zlib, and the same text always gives the same
// bytes.
import { create } from 'qrcode/lib/core/qrcode.js';

/** The modules of a QR code, row by row: 1 dark, 0 light. */
export interface QrMatrix {
  size: number;
  dark: Uint8Array;
}

/** Pixels per module, and light modules around the code (the standard's quiet zone). */
const SCALE = 6;
const MARGIN = 4;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const STORED_BLOCK_MAX = 0xffff;

/** `text` encoded in byte mode (or shorter modes where they fit), error correction level M. */
export function qrMatrix(text: string): QrMatrix {
  const q = create(text, { errorCorrectionLevel: 'M' });
  return { size: q.modules.size, dark: Uint8Array.from(q.modules.data) };
}

/** The matrix as a 1-bit grayscale PNG, black on white, `scale` pixels a module inside `margin` light modules. */
export function qrPng(m: QrMatrix, scale = SCALE, margin = MARGIN): Uint8Array {
  const side = (m.size + 2 * margin) * scale;
  const rowBytes = 1 + Math.ceil(side / 8);
  const raw = new Uint8Array(rowBytes * side);
  // Each module row makes `scale` identical pixel rows: build one, copy it.
  for (let y = 0; y < side; y += scale) {
    const my = y / scale - margin;
    const row = y * rowBytes;
    // Filter type 0 (none) leads each row; bits are white (1) unless a dark module covers them.
    raw[row] = 0;
    raw.fill(0xff, row + 1, row + rowBytes);
    for (let x = 0; my >= 0 && my < m.size && x < side; x++) {
      const mx = Math.floor(x / scale) - margin;
      if (mx >= 0 && mx < m.size && m.dark[my * m.size + mx] === 1) raw[row + 1 + (x >> 3)]! &= ~(0x80 >> (x & 7));
    }
    for (let k = 1; k < scale; k++) raw.copyWithin(row + k * rowBytes, row, row + rowBytes);
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, side);
  v.setUint32(4, side);
  ihdr.set([1, 0, 0, 0, 0], 8); // bit depth 1, grayscale, deflate, no filter method, no interlace
  return concat([Uint8Array.from(PNG_SIGNATURE), chunk('IHDR', ihdr), chunk('IDAT', zlibStored(raw)), chunk('IEND', new Uint8Array(0))]);
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A zlib stream of stored deflate blocks. */
function zlibStored(data: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / STORED_BLOCK_MAX));
  const out = new Uint8Array(2 + blocks * 5 + data.length + 4);
  out[0] = 0x78; // deflate, 32 KiB window
  out[1] = 0x01; // no dictionary, fastest; (0x78 << 8 | 0x01) % 31 === 0
  let at = 2;
  for (let b = 0; b < blocks; b++) {
    const part = data.subarray(b * STORED_BLOCK_MAX, Math.min(data.length, (b + 1) * STORED_BLOCK_MAX));
    out[at++] = b === blocks - 1 ? 1 : 0; // BFINAL, BTYPE 00 (stored)
    out[at++] = part.length & 0xff;
    out[at++] = part.length >> 8;
    out[at++] = ~part.length & 0xff;
    out[at++] = (~part.length >> 8) & 0xff;
    out.set(part, at);
    at += part.length;
  }
  new DataView(out.buffer).setUint32(at, adler32(data));
  return out;
}

function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; i++) {
    a = (a + data[i]!) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

const CRC_TABLE = ((): Uint32Array => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
