// The trace hash is SHA-256 of text lines `${n} ${t} ${kind} ${who}[ ${detail}]`
// (t as String(Math.round(t * 1000) / 1000) writes it). The trace writes
// those bytes itself, digit by digit, to skip building strings: here it is
// held to the text, on the numbers where digit writing goes wrong.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Trace, formatMs } from '../../sim/trace.ts';

type Line = [n: number, t: number, kind: string, who: string, detail?: string];

function textDigest(lines: Line[]): string {
  const h = createHash('sha256');
  for (const [n, t, kind, who, detail] of lines) {
    const ms = String(Math.round(t * 1000) / 1000);
    h.update(`${n} ${ms} ${kind} ${who}${detail === undefined ? '' : ` ${detail}`}\n`);
  }
  return h.digest('hex').slice(0, 16);
}

function traceDigest(lines: Line[]): string {
  const trace = new Trace(false);
  for (const [n, t, kind, who, detail] of lines) trace.event(n, t, kind, who, detail);
  return trace.digest();
}

const EDGE_INTS = [0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 9999, 10_000, 99_999, 100_000, 999_999, 1e6, 9_999_999, 1e7, 99_999_999, 1e8, 999_999_999, 1e9, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, 1e15, Number.MAX_SAFE_INTEGER];
const EDGE_TIMES = [0, 0.0004, 0.0005, 0.001, 0.01, 0.1, 0.1234, 0.9995, 1, 1.05, 1.5, 2.25, 12.3456789, 999.9999, 1000, 65_432.1, 2 ** 31 + 0.5, 1e12 + 0.125, 1e13, -0.0001, -1.5];

describe('trace bytes', () => {
  it('are the text lines, for numbers of every digit count and fraction', () => {
    const lines: Line[] = [];
    for (const n of EDGE_INTS) for (const t of EDGE_TIMES) lines.push([n, t, 'link-down', 'u1.d0']);
    expect(traceDigest(lines)).toBe(textDigest(lines));
  });

  it('are the text lines for many drawn times, details and non-ASCII text', () => {
    const lines: Line[] = [];
    let x = 12345;
    const next = (): number => (x = (x * 48271) % 2147483647) / 2147483647;
    const details = [undefined, '#12 345', '#3 1_23|2_4', 'u0 → @@group 微信 😀', 'lone \ud800 surrogate', ''];
    for (let i = 1; i <= 20_000; i++) lines.push([i, next() * 1e6, i % 7 ? 'applied' : 'synckey', `u${i % 13}.d${i % 3}`, details[i % details.length]]);
    expect(traceDigest(lines)).toBe(textDigest(lines));
  });

  it('take a line longer than the hash buffer', () => {
    const lines: Line[] = [[1, 1.5, 'note', 'server', 'x'.repeat(70_000)], [2, 2, 'note', 'server', '微'.repeat(30_000)], [3, 3, 'tick', 'server']];
    expect(traceDigest(lines)).toBe(textDigest(lines));
  });

  it('formatMs writes a time as the trace text does', () => {
    for (const t of EDGE_TIMES) expect(formatMs(t)).toBe(String(Math.round(t * 1000) / 1000));
  });
});
