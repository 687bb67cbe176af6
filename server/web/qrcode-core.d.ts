// The qrcode package's encoder alone (lib/core/qrcode.js): pure computation.
// Its main entry also loads the PNG, file and terminal renderers (zlib, fs),
// which the sans-IO node has no use for.
declare module 'qrcode/lib/core/qrcode.js' {
  import type { QRCode, QRCodeOptions } from 'qrcode';
  export function create(text: string, options?: QRCodeOptions): QRCode;
}
