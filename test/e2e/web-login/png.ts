// Reading back the QR code's PNG: chunks and their CRCs, the image data
// inflated, and the modules sampled at each module's centre.
import zlib from 'node:zlib';

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface Gray1 {
  width: number;
  height: number;
  /** 1 for a black pixel. */
  black(x: number, y: number): boolean;
}

/** A 1-bit grayscale, non-interlaced PNG (what the server writes); anything else throws. */
export function decodePng(png: Buffer): Gray1 {
  if (!png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('no PNG signature');
  let at = 8;
  let ihdr: Buffer | undefined;
  const idat: Buffer[] = [];
  for (;;) {
    const len = png.readUInt32BE(at);
    const type = png.subarray(at + 4, at + 8).toString('latin1');
    const data = png.subarray(at + 8, at + 8 + len);
    if (zlib.crc32(png.subarray(at + 4, at + 8 + len)) !== png.readUInt32BE(at + 8 + len)) throw new Error(`bad CRC in ${type}`);
    at += 12 + len;
    if (type === 'IHDR') ihdr = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
  }
  if (!ihdr) throw new Error('no IHDR');
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  if (ihdr[8] !== 1 || ihdr[9] !== 0 || ihdr[12] !== 0) throw new Error(`not 1-bit grayscale: depth ${ihdr[8]}, colour ${ihdr[9]}`);
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const rowBytes = 1 + Math.ceil(width / 8);
  if (raw.length !== rowBytes * height) throw new Error(`image data is ${raw.length} bytes, not ${rowBytes * height}`);
  for (let y = 0; y < height; y++) if (raw[y * rowBytes] !== 0) throw new Error(`row ${y} uses filter ${raw[y * rowBytes]}`);
  return { width, height, black: (x, y) => ((raw[y * rowBytes + 1 + (x >> 3)]! >> (7 - (x & 7))) & 1) === 0 };
}

/** The modules of a QR code of `size` modules drawn with a quiet zone of `margin` modules: 1 dark. */
export function sampleModules(img: Gray1, size: number, margin = 4): Uint8Array {
  const scale = img.width / (size + 2 * margin);
  if (!Number.isInteger(scale) || img.height !== img.width) throw new Error(`a ${img.width}x${img.height} image is no ${size}-module code with margin ${margin}`);
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) out[y * size + x] = img.black((x + margin) * scale + (scale >> 1), (y + margin) * scale + (scale >> 1)) ? 1 : 0;
  }
  return out;
}
