// Streaming decoder for long-link packets, modelled on ws's receiver.js: named
// states, one loop switching on the state, and a consume(n) that takes bytes
// across buffered chunks. A TCP read may hold many packets or a part of one,
// so both are the normal path, not the edge case.

import { DEFAULT_MAX_BODY, HEADER_LEN, PROTOCOL_VERSION } from './packet.ts';
import type { Packet } from './packet.ts';
import { WireError, previewBytes } from './wire-error.ts';

const HEADER = 0;
const BODY = 1;
const FAILED = 2;
type State = typeof HEADER | typeof BODY | typeof FAILED;

const EMPTY = new Uint8Array(0);

export interface PacketDecoderOptions {
  /** Largest body accepted, in bytes; packLen may be at most 16 + maxBody. */
  maxBody?: number;
}

export interface PushResult {
  packets: Packet[];
  error?: WireError;
}

function readU16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function readU32(b: Uint8Array, o: number): number {
  // Multiply rather than shift the top byte so the result stays unsigned.
  return b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

/**
 * Bodies that lie within one pushed chunk are views of that chunk (no copy),
 * so a caller must not reuse a chunk's memory after pushing it.
 */
export class PacketDecoder {
  readonly maxBody: number;

  #state: State = HEADER;
  // Pending chunks are #chunks[#head..]; an index instead of shift() keeps
  // one-byte-at-a-time input linear.
  #chunks: Uint8Array[] = [];
  #head = 0;
  #buffered = 0; // bytes in #chunks[#head..]
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

  /** Bytes pushed but not yet returned in a packet (a partial packet's header included). */
  get bufferedBytes(): number {
    return this.#buffered + (this.#state === BODY ? HEADER_LEN : 0);
  }

  push(chunk: Uint8Array): PushResult {
    if (this.#state === FAILED) {
      const first = this.#error;
      return {
        packets: [],
        error: new WireError(
          'WIRE_DECODER_FAILED',
          `decoder already failed (${first?.code ?? 'unknown'}); no further input is read on this connection`,
        ),
      };
    }
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const packets: Packet[] = [];
    for (;;) {
      switch (this.#state) {
        case HEADER: {
          if (this.#buffered < HEADER_LEN) return { packets };
          const error = this.#readHeader(this.#consume(HEADER_LEN));
          if (error !== undefined) {
            this.#fail(error);
            return { packets, error };
          }
          if (this.#bodyLen === 0) {
            packets.push({ op: this.#op, seq: this.#seq, body: EMPTY });
          } else {
            this.#state = BODY;
          }
          break;
        }
        case BODY: {
          if (this.#buffered < this.#bodyLen) return { packets };
          packets.push({ op: this.#op, seq: this.#seq, body: this.#consume(this.#bodyLen) });
          this.#state = HEADER;
          break;
        }
        default:
          // FAILED is handled above; the loop never enters it.
          return { packets };
      }
    }
  }

  // Validates a header and stores its fields; returns the error instead of throwing
  // so push can hand back the packets decoded before it.
  #readHeader(h: Uint8Array): WireError | undefined {
    const packLen = readU32(h, 0);
    const headerLen = readU16(h, 4);
    const version = readU16(h, 6);
    const raw = previewBytes(h);
    if (packLen < HEADER_LEN) {
      return new WireError(
        'WIRE_PACKLEN_TOO_SMALL',
        `packet length ${packLen} is below the ${HEADER_LEN}-byte header (header ${raw})`,
      );
    }
    if (packLen > HEADER_LEN + this.maxBody) {
      return new WireError(
        'WIRE_PACKLEN_TOO_LARGE',
        `packet length ${packLen} exceeds the limit of ${HEADER_LEN + this.maxBody} (${this.maxBody}-byte body) (header ${raw})`,
      );
    }
    if (headerLen !== HEADER_LEN) {
      return new WireError(
        'WIRE_BAD_HEADER_LEN',
        `header length must be ${HEADER_LEN}, got ${headerLen} (header ${raw})`,
      );
    }
    if (version !== PROTOCOL_VERSION) {
      return new WireError(
        'WIRE_BAD_VERSION',
        `protocol version must be ${PROTOCOL_VERSION}, got ${version} (header ${raw})`,
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
    // Nothing more is read; let the chunks go.
    this.#chunks = [];
    this.#head = 0;
    this.#buffered = 0;
  }

  // Takes n (<= #buffered, > 0) bytes: a view when they lie in the first chunk,
  // a copy only when they span chunks.
  #consume(n: number): Uint8Array {
    this.#buffered -= n;
    const first = this.#chunks[this.#head]!;
    if (n === first.length) {
      this.#dropHead();
      return first;
    }
    if (n < first.length) {
      this.#chunks[this.#head] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.#chunks[this.#head]!;
      const take = n - filled;
      if (take >= c.length) {
        out.set(c, filled);
        filled += c.length;
        this.#dropHead();
      } else {
        out.set(c.subarray(0, take), filled);
        this.#chunks[this.#head] = c.subarray(take);
        filled = n;
      }
    }
    return out;
  }

  #dropHead(): void {
    this.#chunks[this.#head] = EMPTY; // release the chunk before compaction
    this.#head++;
    if (this.#head === this.#chunks.length) {
      this.#chunks.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#chunks.length) {
      // Compact now and then so a long run of partial packets does not grow the array.
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }
}
