// An HTTP request body as it arrives: one buffer of our own, grown by
// doubling up to the body limit, so a body sent one byte per chunk costs its
// bytes and not one Buffer object (and the read buffer behind it) per chunk.
// `memoryBytes` is what it really holds, for the transport's accounting.

const FIRST_BYTES = 1024;
/**
 * Pieces (reads, or chunks of a chunked body) a body may arrive in: this many,
 * plus one per MIN_PIECE_BYTES of body. Each piece costs the server a parse
 * and an event whatever its size, so a body trickled a byte per chunk would
 * make one client spend the CPU every other client needs; an honest client's
 * pieces are socket reads, kilobytes each.
 */
const FREE_PIECES = 64;
const MIN_PIECE_BYTES = 64;
const EMPTY = Buffer.alloc(0);

/** Whether a body of `bytes` that came in `pieces` is being trickled. */
export function tooFragmented(pieces: number, bytes: number): boolean {
  return pieces > FREE_PIECES + bytes / MIN_PIECE_BYTES;
}

export class BodyBuffer {
  private buf: Buffer = EMPTY;
  private len = 0;
  private pieces = 0;

  constructor(private readonly maxBytes: number) {}

  get size(): number {
    return this.len;
  }

  get memoryBytes(): number {
    return this.buf.byteLength;
  }

  /** Too many pieces for its size: the body is being trickled. */
  get fragmented(): boolean {
    return tooFragmented(this.pieces, this.len);
  }

  /** Append a chunk; false (and nothing kept) if the body would pass maxBytes. */
  append(chunk: Buffer): boolean {
    this.pieces++;
    const need = this.len + chunk.length;
    if (need > this.maxBytes) return false;
    if (need > this.buf.byteLength) {
      let size = Math.max(FIRST_BYTES, this.buf.byteLength * 2);
      while (size < need) size *= 2;
      const grown = Buffer.allocUnsafeSlow(Math.min(size, this.maxBytes));
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    chunk.copy(this.buf, this.len);
    this.len = need;
    return true;
  }

  /** The body so far (a view: valid until the next append or clear). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  /** Let the memory go. */
  clear(): void {
    this.buf = EMPTY;
    this.len = 0;
    this.pieces = 0;
  }
}
