import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_MAX_BODY,
  HEADER_LEN,
  Op,
  PROTOCOL_VERSION,
  decodeJsonBody,
  encodeJsonPacket,
  encodePacket,
  encodePackets,
} from '../../server/wire/packet.ts';
import type { Packet } from '../../server/wire/packet.ts';

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

function bodyOf(buf: Buffer): Packet {
  return { op: buf.readUInt32BE(8), seq: buf.readUInt32BE(12), body: buf.subarray(HEADER_LEN) };
}

describe('constants', () => {
  it('match the protocol', () => {
    expect(HEADER_LEN).toBe(16);
    expect(PROTOCOL_VERSION).toBe(1);
    expect(DEFAULT_MAX_BODY).toBe(65536);
    expect(Op).toEqual({
      Heartbeat: 2,
      HeartbeatReply: 3,
      Send: 4,
      SendReply: 5,
      Disconnect: 6,
      Auth: 7,
      AuthReply: 8,
      Sync: 10,
      SyncReply: 11,
      Notify: 122,
    });
  });
});

describe('encodePacket', () => {
  it('writes a big-endian header and no body for a heartbeat', () => {
    const buf = encodePacket(Op.Heartbeat, 0x01020304);
    expect(buf.length).toBe(16);
    expect(hex(buf)).toBe('00000010' + '0010' + '0001' + '00000002' + '01020304');
  });

  it('writes a byte body after the header', () => {
    const buf = encodePacket(Op.Send, 7, new Uint8Array([0xde, 0xad, 0xbe]));
    expect(hex(buf)).toBe('00000013' + '0010' + '0001' + '00000004' + '00000007' + 'deadbe');
  });

  it('writes a string body as UTF-8 and counts bytes, not characters', () => {
    const buf = encodePacket(Op.Notify, 0, 'é€😀');
    expect(buf.readUInt32BE(0)).toBe(16 + 2 + 3 + 4);
    expect(hex(buf.subarray(16))).toBe('c3a9' + 'e282ac' + 'f09f9880');
  });

  it('treats an empty string body as no body', () => {
    expect(hex(encodePacket(Op.Notify, 0, ''))).toBe(hex(encodePacket(Op.Notify, 0)));
  });

  it('reads op and seq as unsigned 32-bit values', () => {
    const buf = encodePacket(0xffffffff, 0xfffffffe);
    expect(buf.readUInt32BE(8)).toBe(0xffffffff);
    expect(buf.readUInt32BE(12)).toBe(0xfffffffe);
  });

  it.each([
    ['op', -1, 0],
    ['op', 2 ** 32, 0],
    ['op', 1.5, 0],
    ['op', Number.NaN, 0],
    ['seq', 2, -1],
    ['seq', 2, 2 ** 32],
  ])('rejects %s out of u32 range (%d, %d)', (_name, op, seq) => {
    expect(() => encodePacket(op, seq)).toThrow(RangeError);
  });
});

describe('encodePackets', () => {
  it('equals the concatenation of single packets', () => {
    const list = [
      { op: Op.Heartbeat, seq: 1 },
      { op: Op.Send, seq: 2, body: 'hi' },
      { op: Op.Notify, seq: 0, body: new Uint8Array([1, 2, 3]) },
    ];
    const batch = encodePackets(list);
    const each = Buffer.concat(list.map((p) => encodePacket(p.op, p.seq, p.body)));
    expect(hex(batch)).toBe(hex(each));
    expect(batch.length).toBe(16 + 18 + 19);
  });

  it('accepts any iterable and an empty list', () => {
    function* gen() {
      yield { op: 3, seq: 9 };
    }
    expect(hex(encodePackets(gen()))).toBe(hex(encodePacket(3, 9)));
    expect(encodePackets([]).length).toBe(0);
  });

  it('matches single encoding for arbitrary packets', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            op: fc.nat({ max: 0xffffffff }),
            seq: fc.nat({ max: 0xffffffff }),
            body: fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 10 })),
          }),
          { maxLength: 8 },
        ),
        (list) => {
          const each = Buffer.concat(list.map((p) => encodePacket(p.op, p.seq, p.body)));
          expect(hex(encodePackets(list))).toBe(hex(each));
        },
      ),
    );
  });
});

describe('JSON bodies', () => {
  it('encodes JSON and decodes it back', () => {
    const buf = encodeJsonPacket(Op.Sync, 5, { SyncKey: { Count: 0, List: [] } });
    expect(buf.subarray(16).toString('utf8')).toBe('{"SyncKey":{"Count":0,"List":[]}}');
    expect(buf.readUInt32BE(0)).toBe(16 + 33);
    expect(decodeJsonBody(bodyOf(buf))).toEqual({ SyncKey: { Count: 0, List: [] } });
  });

  it('maps undefined to an empty body and back', () => {
    const buf = encodeJsonPacket(Op.Notify, 0, undefined);
    expect(buf.length).toBe(16);
    expect(decodeJsonBody(bodyOf(buf))).toBeUndefined();
    expect(decodeJsonBody({ op: 2, seq: 0, body: new Uint8Array(0) })).toBeUndefined();
  });

  it('encodes null as a body, distinct from no body', () => {
    const buf = encodeJsonPacket(Op.Notify, 0, null);
    expect(buf.subarray(16).toString('utf8')).toBe('null');
    expect(decodeJsonBody(bodyOf(buf))).toBeNull();
  });

  it('round-trips any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat({ max: 0xffffffff }), (value, seq) => {
        const p = bodyOf(encodeJsonPacket(Op.SendReply, seq, value));
        expect(p.seq).toBe(seq);
        expect(decodeJsonBody(p)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('round-trips any Unicode string body byte for byte', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        const body = encodePacket(Op.Send, 1, s).subarray(16);
        expect(new TextDecoder('utf-8', { fatal: true }).decode(body)).toBe(s);
      }),
    );
  });

  it('throws SyntaxError for invalid JSON', () => {
    const p = bodyOf(encodePacket(Op.Send, 1, '{"a":'));
    expect(() => decodeJsonBody(p)).toThrow(SyntaxError);
    expect(() => decodeJsonBody(p)).toThrow(/op 4, 5 bytes\) is not valid JSON/);
  });

  it.each([
    ['lone continuation byte', [0x80]],
    ['0xff', [0x7b, 0xff, 0x7d]],
    ['truncated sequence', [0x22, 0xc3, 0x22]],
    ['overlong encoding', [0x22, 0xc0, 0xaf, 0x22]],
    ['UTF-16 surrogate', [0x22, 0xed, 0xa0, 0x80, 0x22]],
  ])('throws SyntaxError for invalid UTF-8 (%s)', (_name, bytes) => {
    const p: Packet = { op: Op.Send, seq: 1, body: new Uint8Array(bytes) };
    expect(() => decodeJsonBody(p)).toThrow(SyntaxError);
    expect(() => decodeJsonBody(p)).toThrow(`packet body (op 4, ${bytes.length} bytes) is not valid UTF-8`);
  });

  it('quotes at most a short preview of bad input', () => {
    const junk = 'x'.repeat(5000);
    const p = bodyOf(encodePacket(Op.Send, 1, junk));
    let message = '';
    try {
      decodeJsonBody(p);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('"' + 'x'.repeat(32) + '"...');
    expect(message).not.toContain('x'.repeat(33));
  });
});
