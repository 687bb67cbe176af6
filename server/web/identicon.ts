// The avatar this server draws for everyone (it keeps no pictures): a 5×5
// mirrored pattern from a hash of the user name, as a 1-bit PNG through the
// QR code's PNG writer. The same name always gives the same bytes, and the
// picture says nothing but the name the client already sent.
import { qrPng, type QrMatrix } from './qr-png.ts';

const SIDE = 5;
/** Pixels per cell and light cells around: a 84×84 picture. */
const SCALE = 12;
const MARGIN = 1;

/** FNV-1a, 32 bits, over the name's UTF-16 code units: spread, not secret. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The cells: the left three columns from the hash's bits, mirrored to the right. */
export function identiconMatrix(name: string): QrMatrix {
  const h = fnv1a(name);
  const dark = new Uint8Array(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < 3; x++) {
      const on = (h >>> (y * 3 + x)) & 1;
      dark[y * SIDE + x] = on;
      dark[y * SIDE + (SIDE - 1 - x)] = on;
    }
  }
  return { size: SIDE, dark };
}

export function identiconPng(name: string): Uint8Array {
  return qrPng(identiconMatrix(name), SCALE, MARGIN);
}
