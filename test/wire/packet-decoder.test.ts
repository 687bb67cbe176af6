import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PacketDecoder } from '../../server/wire/packet-decoder.ts';
import type { PacketDecoderOptions } from '../../server/wire/packet-decoder.ts';
import { DEFAULT_MAX_BODY, Op, encodePacket, encodePackets } from '../../server/wire/packet.ts';
import type { Packet } from '../../server/wire/packet.ts';
import { WireError } from '../../server/wire/wire-error.ts';

interface Plain {
  op: number;
  seq: number;
  body: string; // hex, so that toEqual compares bytes and not Buffer vs Uint8Array
}

function plain(p: Packet): Plain {
  return { op: p.op, seq: p.seq, body: Buffer.from(p.body).toString('hex') };
}

function header(packLen: number, headerLen = 16, version = 1, op = 2, seq = 0): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32BE(packLen, 0);
  h.writeUInt16BE(headerLen, 4);
  h.writeUInt16BE(version, 6);
  h.writeUInt32BE(op, 8);
  h.writeUInt32BE(seq, 12);
  return h;
}

interface Outcome {
  packets: Plain[];
  codes: string[];
}

function feed(chunks: Uint8Array[], options?: PacketDecoderOptions): Outcome & { decoder: PacketDecoder } {
  const decoder = new PacketDecoder(options);
  const packets: Plain[] = [];
  const codes: string[] = [];
  for (const c of chunks) {
    const r = decoder.push(c);
    packets.push(...r.packets.map(plain));
    if (r.error) codes.push(r.error.code);
  }
  return { packets, codes, decoder };
}

// Splits `buf` at the given cut points (any numbers; clamped, sorted, deduplicated).
function split(buf: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.min(Math.max(c, 0), buf.length)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, buf.length]) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  return out;
}

function bytes(buf: Uint8Array): Uint8Array[] {
  return Array.from(buf, (_b, i) => buf.subarray(i, i + 1));
}

const packetArb = fc.record({
  op: fc.oneof(fc.constantFrom(...Object.values(Op)), fc.nat({ max: 0xffffffff })),
  seq: fc.nat({ max: 0xffffffff }),
  body: fc.uint8Array({ maxLength: 300 }),
});

describe('PacketDecoder: valid input', () => {
  it('decodes a 16-byte packet with no body', () => {
    const d = new PacketDecoder();
    const r = d.push(encodePacket(Op.Heartbeat, 42));
    expect(r.error).toBeUndefined();
    expect(r.packets.map(plain)).toEqual([{ op: 2, seq: 42, body: '' }]);
    expect(r.packets[0]!.body.length).toBe(0);
    expect(d.bufferedBytes).toBe(0);
  });

  it('decodes several packets in one chunk, in order', () => {
    const buf = encodePackets([
      { op: Op.Auth, seq: 1, body: '{"Uin":1}' },
      { op: Op.Heartbeat, seq: 2 },
      { op: Op.Sync, seq: 3, body: new Uint8Array([0, 255]) },
    ]);
    const r = new PacketDecoder().push(buf);
    expect(r.error).toBeUndefined();
    expect(r.packets.map(plain)).toEqual([
      { op: 7, seq: 1, body: Buffer.from('{"Uin":1}').toString('hex') },
      { op: 2, seq: 2, body: '' },
      { op: 10, seq: 3, body: '00ff' },
    ]);
  });

  it('keeps a partial packet for the next push and counts its bytes', () => {
    const buf = encodePacket(Op.Send, 9, 'hello'); // 21 bytes
    const d = new PacketDecoder();
    expect(d.push(buf.subarray(0, 10)).packets).toEqual([]);
    expect(d.bufferedBytes).toBe(10);
    expect(d.push(buf.subarray(10, 18)).packets).toEqual([]);
    expect(d.bufferedBytes).toBe(18);
    const r = d.push(buf.subarray(18));
    expect(r.packets.map(plain)).toEqual([{ op: 4, seq: 9, body: Buffer.from('hello').toString('hex') }]);
    expect(d.bufferedBytes).toBe(0);
  });

  it('returns complete packets and keeps the tail of a chunk', () => {
    const buf = encodePackets([
      { op: 3, seq: 1 },
      { op: 5, seq: 2, body: 'abc' },
    ]);
    const d = new PacketDecoder();
    const r = d.push(buf.subarray(0, 20));
    expect(r.packets.map((p) => p.seq)).toEqual([1]);
    expect(d.bufferedBytes).toBe(4);
    expect(d.push(buf.subarray(20)).packets.map((p) => p.seq)).toEqual([2]);
  });

  it('ignores an empty push', () => {
    const d = new PacketDecoder();
    expect(d.push(new Uint8Array(0))).toEqual({ packets: [] });
    expect(d.bufferedBytes).toBe(0);
  });

  it('does not check the op and reads op and seq unsigned', () => {
    const r = new PacketDecoder().push(encodePacket(0xffffffff, 0x80000000, 'x'));
    expect(r.error).toBeUndefined();
    expect(r.packets.map(plain)).toEqual([{ op: 0xffffffff, seq: 0x80000000, body: '78' }]);
  });

  it('accepts a body exactly at the default limit', () => {
    const body = new Uint8Array(DEFAULT_MAX_BODY).fill(7);
    const r = new PacketDecoder().push(encodePacket(Op.Send, 1, body));
    expect(r.error).toBeUndefined();
    expect(r.packets).toHaveLength(1);
    expect(r.packets[0]!.body.length).toBe(65536);
  });

  it('accepts a body exactly at a custom limit, split across chunks', () => {
    const buf = encodePacket(Op.Send, 1, new Uint8Array(100).fill(1));
    const out = feed(split(buf, [3, 16, 50]), { maxBody: 100 });
    expect(out.codes).toEqual([]);
    expect(out.packets).toHaveLength(1);
    expect(out.packets[0]!.body).toBe('01'.repeat(100));
  });

  it('with maxBody 0 accepts only empty packets', () => {
    const d = new PacketDecoder({ maxBody: 0 });
    expect(d.push(encodePacket(2, 1)).packets).toHaveLength(1);
    expect(d.push(encodePacket(2, 2, 'x')).error?.code).toBe('WIRE_PACKLEN_TOO_LARGE');
  });

  it('returns a view of the chunk when the body lies within it', () => {
    const chunk = encodePackets([
      { op: 4, seq: 1, body: 'abc' },
      { op: 4, seq: 2, body: 'defg' },
    ]);
    const [a, b] = new PacketDecoder().push(chunk).packets;
    expect(a!.body.buffer).toBe(chunk.buffer);
    expect(a!.body.byteOffset).toBe(chunk.byteOffset + 16);
    expect(b!.body.buffer).toBe(chunk.buffer);
    expect(b!.body.byteOffset).toBe(chunk.byteOffset + 19 + 16);
  });

  it('copies a body that spans chunks', () => {
    const buf = encodePacket(4, 1, 'abcdef');
    const d = new PacketDecoder();
    d.push(buf.subarray(0, 18));
    const [p] = d.push(buf.subarray(18)).packets;
    expect(p!.body.buffer).not.toBe(buf.buffer);
    expect(Buffer.from(p!.body).toString()).toBe('abcdef');
  });

  it('decodes large bodies pushed in many tiny chunks', () => {
    // Thousands of pending chunks exercise the chunk list's compaction.
    const list = [
      { op: 4, seq: 1, body: Uint8Array.from({ length: 3000 }, (_v, i) => i & 0xff) },
      { op: 2, seq: 2, body: new Uint8Array(0) },
      { op: 4, seq: 3, body: Uint8Array.from({ length: 2500 }, (_v, i) => (i * 7) & 0xff) },
    ];
    const buf = encodePackets(list);
    const expected = list.map(plain);
    expect(feed(bytes(buf)).packets).toEqual(expected);
    const threes = split(buf, Array.from({ length: Math.ceil(buf.length / 3) }, (_v, i) => i * 3));
    expect(feed(threes).packets).toEqual(expected);
  });

  it('rejects a bad maxBody', () => {
    expect(() => new PacketDecoder({ maxBody: -1 })).toThrow(RangeError);
    expect(() => new PacketDecoder({ maxBody: 1.5 })).toThrow(RangeError);
    expect(() => new PacketDecoder({ maxBody: Number.NaN })).toThrow(RangeError);
    expect(new PacketDecoder().maxBody).toBe(DEFAULT_MAX_BODY);
  });
});

describe('PacketDecoder: malformed input', () => {
  it.each([
    ['packLen 0', header(0), 'WIRE_PACKLEN_TOO_SMALL', 'packet length 0 is below the 16-byte header'],
    ['packLen 15', header(15), 'WIRE_PACKLEN_TOO_SMALL', 'packet length 15 is below the 16-byte header'],
    ['headerLen 15', header(16, 15), 'WIRE_BAD_HEADER_LEN', 'header length must be 16, got 15'],
    ['headerLen 17', header(16, 17), 'WIRE_BAD_HEADER_LEN', 'header length must be 16, got 17'],
    ['version 0', header(16, 16, 0), 'WIRE_BAD_VERSION', 'protocol version must be 1, got 0'],
    ['version 2', header(16, 16, 2), 'WIRE_BAD_VERSION', 'protocol version must be 1, got 2'],
    [
      'packLen one over the default limit, header only',
      header(16 + 65536 + 1),
      'WIRE_PACKLEN_TOO_LARGE',
      'packet length 65553 exceeds the limit of 65552',
    ],
    ['packLen 2^32-1, header only', header(0xffffffff), 'WIRE_PACKLEN_TOO_LARGE', 'packet length 4294967295 exceeds'],
  ])('%s', (_name, h, code, message) => {
    const d = new PacketDecoder();
    const r = d.push(h);
    expect(r.packets).toEqual([]);
    expect(r.error).toBeInstanceOf(WireError);
    expect(r.error?.code).toBe(code);
    expect(r.error?.message).toContain(message);
    expect(r.error?.message).toContain(`(header ${h.toString('hex')})`);
    expect(d.bufferedBytes).toBe(0);
  });

  it('detects an oversized packet from its header without waiting for the body', () => {
    const d = new PacketDecoder({ maxBody: 10 });
    const h = header(27, 16, 1, Op.Send, 1);
    expect(d.push(h.subarray(0, 15))).toEqual({ packets: [] });
    const r = d.push(h.subarray(15));
    expect(r.error?.code).toBe('WIRE_PACKLEN_TOO_LARGE');
    expect(r.error?.message).toContain('packet length 27 exceeds the limit of 26 (10-byte body)');
  });

  it('checks packLen before headerLen and version', () => {
    expect(new PacketDecoder().push(header(3, 99, 99)).error?.code).toBe('WIRE_PACKLEN_TOO_SMALL');
    expect(new PacketDecoder({ maxBody: 0 }).push(header(17, 99, 99)).error?.code).toBe('WIRE_PACKLEN_TOO_LARGE');
    expect(new PacketDecoder().push(header(16, 99, 99)).error?.code).toBe('WIRE_BAD_HEADER_LEN');
  });

  it('returns the packets decoded before an error in the same chunk', () => {
    const chunk = Buffer.concat([
      encodePacket(Op.Heartbeat, 1),
      encodePacket(Op.Send, 2, 'ok'),
      header(16, 16, 2),
      encodePacket(Op.Heartbeat, 3),
    ]);
    const r = new PacketDecoder().push(chunk);
    expect(r.packets.map((p) => p.seq)).toEqual([1, 2]);
    expect(r.error?.code).toBe('WIRE_BAD_VERSION');
  });

  it('fails every push after the first error, even with valid input', () => {
    const d = new PacketDecoder();
    expect(d.push(header(15)).error?.code).toBe('WIRE_PACKLEN_TOO_SMALL');
    const again = d.push(encodePacket(Op.Heartbeat, 1));
    expect(again.packets).toEqual([]);
    expect(again.error?.code).toBe('WIRE_DECODER_FAILED');
    expect(again.error?.message).toContain('WIRE_PACKLEN_TOO_SMALL');
    expect(d.push(new Uint8Array(0)).error?.code).toBe('WIRE_DECODER_FAILED');
    expect(d.bufferedBytes).toBe(0);
  });

  it('quotes at most 32 bytes of input in a message', () => {
    const junk = Buffer.alloc(4096, 0xab);
    const r = new PacketDecoder().push(junk);
    expect(r.error?.code).toBe('WIRE_PACKLEN_TOO_LARGE');
    expect(r.error!.message.length).toBeLessThan(200);
    expect(r.error!.message).not.toContain('ab'.repeat(33));
  });
});

describe('PacketDecoder: properties', () => {
  it('decodes any list of packets split at arbitrary chunk boundaries', () => {
    fc.assert(
      fc.property(fc.array(packetArb, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 }), (list, cuts) => {
        const buf = encodePackets(list);
        const cutsInRange = cuts.map((c) => (buf.length === 0 ? 0 : c % (buf.length + 1)));
        const out = feed(split(buf, cutsInRange));
        expect(out.codes).toEqual([]);
        expect(out.packets).toEqual(list.map(plain));
        expect(out.decoder.bufferedBytes).toBe(0);
      }),
    );
  });

  it('decodes any list of packets pushed one byte at a time', () => {
    fc.assert(
      fc.property(fc.array(packetArb, { maxLength: 6 }), (list) => {
        const out = feed(bytes(encodePackets(list)));
        expect(out.codes).toEqual([]);
        expect(out.packets).toEqual(list.map(plain));
      }),
      { numRuns: 50 },
    );
  });

  it('on a prefix, returns the complete packets and buffers exactly the rest', () => {
    fc.assert(
      fc.property(fc.array(packetArb, { minLength: 1, maxLength: 6 }), fc.nat(), (list, at) => {
        const buf = encodePackets(list);
        const cut = at % (buf.length + 1);
        const out = feed(split(buf.subarray(0, cut), [cut >> 1]));
        let whole = 0;
        let n = 0;
        for (const p of list) {
          const len = 16 + p.body.length;
          if (whole + len > cut) break;
          whole += len;
          n++;
        }
        expect(out.codes).toEqual([]);
        expect(out.packets).toEqual(list.slice(0, n).map(plain));
        expect(out.decoder.bufferedBytes).toBe(cut - whole);
      }),
    );
  });

  it('gives the same packets and error for any byte stream however it is chunked', () => {
    // Headers that are often valid, so that streams mix good packets and errors.
    const chunkArb = fc.oneof(
      packetArb.map((p) => encodePacket(p.op, p.seq, p.body) as Uint8Array),
      fc.record({
        packLen: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.nat({ max: 0xffffffff })),
        headerLen: fc.constantFrom(16, 16, 16, 15, 17),
        version: fc.constantFrom(1, 1, 1, 0, 2),
      }).map((h) => header(h.packLen, h.headerLen, h.version) as Uint8Array),
      fc.uint8Array({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(
        fc.array(chunkArb, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.integer({ min: 0, max: 64 }),
        (parts, cuts, maxBody) => {
          const buf = Buffer.concat(parts);
          const once = feed([buf], { maxBody });
          const chunked = feed(
            split(buf, cuts.map((c) => c % (buf.length + 1))),
            { maxBody },
          );
          expect(chunked.packets).toEqual(once.packets);
          // Chunked input may see extra DECODER_FAILED codes after the first error.
          expect(chunked.codes.slice(0, 1)).toEqual(once.codes);
          expect(chunked.codes.slice(1).every((c) => c === 'WIRE_DECODER_FAILED')).toBe(true);
          expect(chunked.decoder.bufferedBytes).toBe(once.decoder.bufferedBytes);
        },
      ),
      { numRuns: 300 },
    );
  });
});
