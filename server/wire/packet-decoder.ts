// Streaming decoder for long-link packets, modelled on ws's receiver.js: named
// states, one step switching on the state. A TCP read may hold many packets
// or a part of one, so both are the normal path, not the edge case.
//
// Memory is what a hostile peer aims at: a packet trickled one byte per read
// must not cost one buffer object per byte. So the decoder keeps at most one
// chunk on loan (the last one appended, read in place, no copy) and copies
// whatever is left of it into a single buffer of its own when the caller is
// done with it (release()). That buffer grows by doubling, is counted by
// `memoryBytes`, and is let go once it is empty.

import { DEFAULT_MAX_BODY, HEADER_LEN, PROTOCOL_VERSION } from './packet.ts';
import type { Packet } from './packet.ts';
import { WireError, previewBytes } from './wire-error.ts';

const HEADER = 0;
const BODY = 1;
const FAILED = 2;
type State = typeof HEADER | typeof BODY | typeof FAILED;

const EMPTY = new Uint8Array(0);
/** The first size of the decoder's own buffer; it doubles from here. */
const MIN_OWN_BYTES = 256;

export interface PacketDecoderOptions {
  /** Largest body accepted, in bytes; packLen may be at most 16 + maxBody. */
  maxBody?: number;
}

export interface PushResult {
  packets: Packet[];
  error?: WireError;
}

/** One step of next(): a packet, a framing error, or nothing until more bytes come. */
export type DecodeStep = { kind: 'packet'; packet: Packet } | { kind: 'error'; error: WireError } | { kind: 'more' };

const MORE: DecodeStep = Object.freeze({ kind: 'more' });

function readU16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function readU32(b: Uint8Array, o: number): number {
  // Multiply rather than shift the top byte so the result stays unsigned.
  return b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

/**
 * Bodies read from the chunk on loan are views of it (no copy), so a caller
 * must not reuse a chunk's memory after appending it. Bodies read from the
 * decoder's own buffer are copies, except the one that empties it: a view of
 * the buffer the decoder lets go.
 */
export class PacketDecoder {
  readonly maxBody: number;

  #state: State = HEADER;
  // The chunk on loan: its unread bytes are #loan[#loanAt..]. While it is
  // set, the own buffer is empty, so bytes are always read from one place.
  #loan: Uint8Array = EMPTY;
  #loanAt = 0;
  // The decoder's own bytes: #own[#start..#end].
  #own: Uint8Array = EMPTY;
  #start = 0;
  #end = 0;
  #op = 0;
  #seq = 0;
  #bodyLen = 0;
  #error: WireError | undefined;

  constructor(options: PacketDecoderOptions = {}) {
    const maxBody = options.maxBody ?? DEFAULT_MAX_BODY;
    if (!Number.isSafeInteger(maxBody) || maxBody < 0) {
      throw new RangeError(`maxBody must be a non-negative integer, got ${maxBody}`);
    }
    this.maxBody = maxBody;
  }

  /** Bytes appended but not yet returned in a packet (a partial packet's header included). */
  get bufferedBytes(): number {
    return this.#unread() + (this.#state === BODY ? HEADER_LEN : 0);
  }

  /** Memory the decoder holds for unread bytes: its own buffer's size, plus a chunk on loan. */
  get memoryBytes(): number {
    return this.#own.byteLength + (this.#loan.length - this.#loanAt);
  }

  /** Some bytes of a packet arrived, not all of it (or more packets wait to be read). */
  get midPacket(): boolean {
    return this.#state === BODY || this.#unread() > 0;
  }

  /** Decode everything: append, read every whole packet, keep the rest. */
  push(chunk: Uint8Array): PushResult {
    this.append(chunk);
    const packets: Packet[] = [];
    for (;;) {
      const s = this.next();
      if (s.kind === 'packet') packets.push(s.packet);
      else {
        this.release();
        return s.kind === 'error' ? { packets, error: s.error } : { packets };
      }
    }
  }

  /** Take bytes without reading them yet; next() reads them. */
  append(chunk: Uint8Array): void {
    if (this.#state === FAILED || chunk.length === 0) return;
    if (this.#loanAt < this.#loan.length) this.release();
    if (this.#end === this.#start) {
      this.#loan = chunk;
      this.#loanAt = 0;
    } else {
      this.#copyIn(chunk, 0);
    }
  }

  /** The next packet, a framing error (then the decoder is failed for good), or `more`. */
  next(): DecodeStep {
    if (this.#state === FAILED) {
      const first = this.#error;
      return {
        kind: 'error',
        error: new WireError(
          'WIRE_DECODER_FAILED',
          `decoder already failed (${first?.code ?? 'unknown'}); no further input is read on this connection`,
        ),
      };
    }
    for (;;) {
      switch (this.#state) {
        case HEADER: {
          if (this.#unread() < HEADER_LEN) return MORE;
          const error = this.#readHeader(this.#take(HEADER_LEN, false));
          if (error !== undefined) {
            this.#fail(error);
            return { kind: 'error', error };
          }
          if (this.#bodyLen === 0) return { kind: 'packet', packet: { op: this.#op, seq: this.#seq, body: EMPTY } };
          this.#state = BODY;
          break;
        }
        case BODY: {
          if (this.#unread() < this.#bodyLen) return MORE;
          this.#state = HEADER;
          return { kind: 'packet', packet: { op: this.#op, seq: this.#seq, body: this.#take(this.#bodyLen, true) } };
        }
        default:
          // FAILED is handled above; the loop never enters it.
          return MORE;
      }
    }
  }

  /** Give the chunk on loan back: its unread bytes are copied into the decoder's own buffer. */
  release(): void {
    const loan = this.#loan;
    const at = this.#loanAt;
    this.#loan = EMPTY;
    this.#loanAt = 0;
    if (at < loan.length) this.#copyIn(loan, at);
  }

  #unread(): number {
    return this.#loan.length - this.#loanAt + this.#end - this.#start;
  }

  // Validates a header and stores its fields; returns the error instead of throwing
  // so the caller can hand back the packets decoded before it.
  #readHeader(h: Uint8Array): WireError | undefined {
    const packLen = readU32(h, 0);
    const headerLen = readU16(h, 4);
    const version = readU16(h, 6);
    if (packLen < HEADER_LEN) {
      return new WireError(
        'WIRE_PACKLEN_TOO_SMALL',
        `packet length ${packLen} is below the ${HEADER_LEN}-byte header (header ${previewBytes(h)})`,
      );
    }
    if (packLen > HEADER_LEN + this.maxBody) {
      return new WireError(
        'WIRE_PACKLEN_TOO_LARGE',
        `packet length ${packLen} exceeds the limit of ${HEADER_LEN + this.maxBody} (${this.maxBody}-byte body) (header ${previewBytes(h)})`,
      );
    }
    if (headerLen !== HEADER_LEN) {
      return new WireError(
        'WIRE_BAD_HEADER_LEN',
        `header length must be ${HEADER_LEN}, got ${headerLen} (header ${previewBytes(h)})`,
      );
    }
    if (version !== PROTOCOL_VERSION) {
      return new WireError(
        'WIRE_BAD_VERSION',
        `protocol version must be ${PROTOCOL_VERSION}, got ${version} (header ${previewBytes(h)})`,
      );
    }
    this.#op = readU32(h, 8);
    this.#seq = readU32(h, 12);
    this.#bodyLen = packLen - HEADER_LEN;
    return undefined;
  }

  #fail(error: WireError): void {
    this.#state = FAILED;
    this.#error = error;
    // Nothing more is read; let the bytes go.
    this.#loan = EMPTY;
    this.#loanAt = 0;
    this.#own = EMPTY;
    this.#start = 0;
    this.#end = 0;
  }

  // Takes n (<= unread) bytes from wherever they are. From the loan: a view.
  // From the own buffer: a copy when the caller keeps it (`keep`) and bytes
  // stay behind it, since the buffer is reused then; a header is read at
  // once, so a view does for it.
  #take(n: number, keep: boolean): Uint8Array {
    if (this.#loanAt < this.#loan.length) {
      const out = this.#loan.subarray(this.#loanAt, this.#loanAt + n);
      this.#loanAt += n;
      if (this.#loanAt === this.#loan.length) {
        this.#loan = EMPTY;
        this.#loanAt = 0;
      }
      return out;
    }
    const from = this.#start;
    this.#start += n;
    if (this.#start === this.#end) {
      // Empty: let the buffer go, so an idle link holds nothing. A view into it
      // stays valid, body or header (nothing writes to a dropped buffer), so
      // the last packet of the buffer needs no copy.
      const out = this.#own.subarray(from, from + n);
      this.#own = EMPTY;
      this.#start = 0;
      this.#end = 0;
      return out;
    }
    return keep ? this.#own.slice(from, from + n) : this.#own.subarray(from, from + n);
  }

  // Appends src[from..] to the own buffer: compact or grow (doubling) as needed.
  #copyIn(src: Uint8Array, from: number): void {
    const n = src.length - from;
    const used = this.#end - this.#start;
    if (this.#end + n > this.#own.byteLength) {
      if (used + n <= this.#own.byteLength) {
        this.#own.copyWithin(0, this.#start, this.#end);
      } else {
        let size = Math.max(MIN_OWN_BYTES, this.#own.byteLength * 2);
        while (size < used + n) size *= 2;
        const grown = new Uint8Array(size);
        grown.set(this.#own.subarray(this.#start, this.#end));
        this.#own = grown;
      }
      this.#start = 0;
      this.#end = used;
    }
    this.#own.set(from === 0 ? src : src.subarray(from), this.#end);
    this.#end += n;
  }
}
