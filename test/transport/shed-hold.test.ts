// The shed hold: a rate-shed connection is answered only after the delay
// (nothing before), every shed socket is destroyed after its grace, and no
// more than maxHeld are held at once (past it: answered and destroyed at
// once). Timers are vitest's fake ones; the sockets are in-memory streams.
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ShedHold } from '../../server/transport/shed-hold.ts';

function socket(): { s: PassThrough; written: () => string } {
  const s = new PassThrough();
  let out = '';
  s.on('data', (c: Buffer) => (out += c.toString()));
  return { s, written: () => out };
}

describe('ShedHold', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('answers a rate-shed socket only after the delay, then destroys it after the grace', async () => {
    const hold = new ShedHold({ delayMs: 1_000, graceMs: 500, maxHeld: 10 });
    const { s, written } = socket();
    hold.refuse(s, () => 'busy', true);
    expect(hold.stats).toEqual({ held: 1, delayed: 1, overflowed: 0 });
    await vi.advanceTimersByTimeAsync(999);
    expect(written()).toBe('');
    await vi.advanceTimersByTimeAsync(1);
    expect(written()).toBe('busy');
    await vi.advanceTimersByTimeAsync(500);
    expect(s.destroyed).toBe(true);
    expect(hold.stats.held).toBe(0);
  });

  it('answers a cap shed at once', async () => {
    const hold = new ShedHold({ delayMs: 1_000, graceMs: 500, maxHeld: 10 });
    const { s, written } = socket();
    hold.refuse(s, () => 'full', false);
    await vi.advanceTimersByTimeAsync(0);
    expect(written()).toBe('full');
    expect(hold.stats.delayed).toBe(0);
  });

  it('holds at most maxHeld: one more is answered and destroyed at once; a socket that closes frees its place', async () => {
    const hold = new ShedHold({ delayMs: 1_000, graceMs: 500, maxHeld: 2 });
    const a = socket();
    const b = socket();
    const c = socket();
    hold.refuse(a.s, () => 'a', true);
    hold.refuse(b.s, () => 'b', true);
    hold.refuse(c.s, () => 'c', true);
    expect(c.s.destroyed).toBe(true);
    expect(hold.stats).toMatchObject({ held: 2, overflowed: 1 });
    a.s.destroy();
    await vi.advanceTimersByTimeAsync(0);
    expect(hold.stats.held).toBe(1);
    const d = socket();
    hold.refuse(d.s, () => 'd', true);
    expect(d.s.destroyed).toBe(false);
    expect(hold.stats.held).toBe(2);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(d.written()).toBe('d');
    expect(hold.stats.held).toBe(0);
  });
});
