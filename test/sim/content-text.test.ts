// The users' message text is part of what a seed means: the fast drawing of
// it must give the very text, and take the very draws, of the plain one.
import { describe, expect, it } from 'vitest';
import { ALPHABET, WIDE, contentText } from '../../sim/content-text.ts';
import { Rng } from '../../sim/rng.ts';

/** The text as first written: a character at a time through Rng's helpers. */
function plainText(rng: Rng, n: number): string {
  const parts: string[] = [];
  let length = 0;
  while (length < n) {
    const c = rng.chance(0.05) ? rng.pick(WIDE) : ALPHABET[rng.int(0, ALPHABET.length - 1)]!;
    parts.push(c);
    length += c.length;
  }
  return parts.join('');
}

describe('contentText', () => {
  it('draws the same text with the same draws as a character at a time', () => {
    for (const seed of ['1', '2', '3']) {
      const fast = new Rng('workload', seed);
      const plain = new Rng('workload', seed);
      for (let i = 0; i < 300; i++) {
        const n = 1 + ((i * 37) % 250);
        expect(contentText(fast, n)).toBe(plainText(plain, n));
        expect(fast.draws).toBe(plain.draws);
      }
    }
  });

  it('keeps wide characters whole and reaches at least n code units', () => {
    const rng = new Rng('workload', 'wide');
    let wide = 0;
    for (let i = 0; i < 200; i++) {
      const text = contentText(rng, 50);
      expect(text.length).toBeGreaterThanOrEqual(50);
      expect(text.length).toBeLessThanOrEqual(51);
      // No lone surrogate: every wide character arrived whole.
      expect(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text)).toBe(false);
      if ([...text].some((c) => WIDE.includes(c))) wide++;
    }
    expect(wide).toBeGreaterThan(0);
  });

  it('draws texts longer than one String.fromCharCode call takes', () => {
    for (const n of [4095, 4096, 4097, 10_000]) {
      const fast = new Rng('workload', `long-${n}`);
      const plain = new Rng('workload', `long-${n}`);
      expect(contentText(fast, n)).toBe(plainText(plain, n));
    }
  });
});
