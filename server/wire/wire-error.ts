// Errors raised while reading the long link's framing or a SyncKey. The code is
// stable (callers and tests match on it); the message is for people and goes
// out in a disconnect's ErrMsg, so it never echoes more than a short preview.

export type WireErrorCode =
  | 'WIRE_PACKLEN_TOO_SMALL'
  | 'WIRE_PACKLEN_TOO_LARGE'
  | 'WIRE_BAD_HEADER_LEN'
  | 'WIRE_BAD_VERSION'
  | 'WIRE_DECODER_FAILED'
  | 'SYNCKEY_MALFORMED'
  | 'SYNCKEY_TOO_MANY_KEYS'
  | 'SYNCKEY_BAD_VALUE'
  | 'SYNCKEY_DUPLICATE_KEY'
  | 'SYNCKEY_COUNT_MISMATCH';

export class WireError extends Error {
  readonly code: WireErrorCode;

  constructor(code: WireErrorCode, message: string) {
    super(message);
    this.name = 'WireError';
    this.code = code;
  }
}

/** Longest slice of untrusted input that a message may quote. */
export const PREVIEW_LIMIT = 32;

/** Quotes at most PREVIEW_LIMIT characters of `s`, escaped, marking a cut. */
export function previewText(s: string): string {
  const cut = s.length > PREVIEW_LIMIT;
  return JSON.stringify(cut ? s.slice(0, PREVIEW_LIMIT) : s) + (cut ? '...' : '');
}

/** Hex of at most PREVIEW_LIMIT bytes of `b`, marking a cut. */
export function previewBytes(b: Uint8Array): string {
  const cut = b.length > PREVIEW_LIMIT;
  return Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, PREVIEW_LIMIT)).toString('hex') + (cut ? '...' : '');
}
