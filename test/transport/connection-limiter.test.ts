// The connection limiter's per-address rate: a burst, then a steady rate,
// per address (an IPv4-mapped address counts as its IPv4 one), on a clock
// the test turns; the caps on open connections still apply first.
import { describe, expect, it } from 'vitest';
import { ConnectionLimiter } from '../../server/transport/connection-limiter.ts';

describe('ConnectionLimiter', () => {
  it('admits a burst per address, then the rate; other addresses are not touched', () => {
    let now = 1_000;
    const l = new ConnectionLimiter(1_000, 1_000, 2, 5, 0, () => now);
    const admitted = (a: string): number => {
      let n = 0;
      while (l.admit(a) === undefined) n++;
      return n;
    };
    expect(admitted('10.0.0.1')).toBe(5);
    expect(l.admit('10.0.0.1')).toBe('CONN_RATE_LIMIT');
    expect(l.admit('::ffff:10.0.0.1')).toBe('CONN_RATE_LIMIT');
    expect(admitted('10.0.0.2')).toBe(5);
    now += 1_000;
    expect(admitted('10.0.0.1')).toBe(2);
    expect(l.stats.shed).toBe(5);
  });

  it('sheds for the caps before the rate, and a shed connection spends no token', () => {
    const now = 0;
    const l = new ConnectionLimiter(1_000, 2, 1, 3, 0, () => now);
    expect(l.admit('a')).toBeUndefined();
    expect(l.admit('a')).toBeUndefined();
    expect(l.admit('a')).toBe('CONN_ADDRESS_LIMIT');
    l.release('a');
    expect(l.admit('a')).toBeUndefined();
    expect(l.admit('a')).toBe('CONN_ADDRESS_LIMIT');
    l.release('a');
    expect(l.admit('a')).toBe('CONN_RATE_LIMIT');
  });

  it('makes an address pay for a refused request, down to one burst of debt, and no other address', () => {
    let now = 0;
    // 10 connections a second after a burst of 20; a refusal costs 15.
    const l = new ConnectionLimiter(1_000, 1_000, 10, 20, 15, () => now);
    const admitted = (a: string): number => {
      let n = 0;
      while (l.admit(a) === undefined) n++;
      return n;
    };
    l.penalize('a');
    expect(admitted('a')).toBe(5);
    // Deep in debt: many refusals owe at most one burst (20), so 2 s of the rate pay it back.
    for (let i = 0; i < 100; i++) l.penalize('a');
    now += 1_990;
    expect(l.admit('a')).toBe('CONN_RATE_LIMIT');
    now += 200;
    expect(l.admit('a')).toBeUndefined();
    expect(admitted('b')).toBe(20);
  });

  it('charges nothing for refusals when the rate is not limited', () => {
    const l = new ConnectionLimiter(1_000, 1_000, Infinity, Infinity, 15, () => 0);
    for (let i = 0; i < 10; i++) l.penalize('a');
    expect(l.admit('a')).toBeUndefined();
  });
});
