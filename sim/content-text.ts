// The text of the simulated users' messages: drawn character by character
// from the workload's stream, mostly ASCII with some wide characters (CJK,
// accents, emoji as surrogate pairs, NUL and tab) so that every encoding
// path and JSON escape is exercised.
import type { Rng } from './rng.ts';

export const ALPHABET = 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?\n"\\/';
export const WIDE: readonly string[] = ['微', '信', '同', '步', 'é', 'ß', '😀', '🚀', '\u0000', '\t'];

/** ALPHABET and WIDE as UTF-16 code units, and a scratch buffer for the text being drawn. */
const ALPHABET_UNITS = Uint16Array.from(ALPHABET, (c) => c.charCodeAt(0));
const WIDE_UNITS = WIDE.map((w) => Array.from({ length: w.length }, (_, i) => w.charCodeAt(i)));
let units = new Uint16Array(256);
/** Code units given to String.fromCharCode at a time (its arguments live on the stack). */
const UNITS_PER_CALL = 4096;

/**
 * At least `n` UTF-16 code units of text: a wide character (one of WIDE)
 * with probability 0.05, else one of ALPHABET. The draws are rng.chance(0.05)
 * then rng.pick(WIDE) or rng.int over ALPHABET, written out (this runs for
 * every character of every message). The units go to one buffer and become
 * one flat string at the end.
 */
export function contentText(rng: Rng, n: number): string {
  if (units.length < n + 2) units = new Uint16Array(2 * n + 2);
  const buf = units;
  let length = 0;
  while (length < n) {
    if (rng.next() < 0.05) {
      const w = WIDE_UNITS[Math.floor(rng.next() * WIDE_UNITS.length)]!;
      for (let i = 0; i < w.length; i++) buf[length++] = w[i]!;
    } else buf[length++] = ALPHABET_UNITS[Math.floor(rng.next() * ALPHABET_UNITS.length)]!;
  }
  if (length <= UNITS_PER_CALL) return String.fromCharCode.apply(null, buf.subarray(0, length) as unknown as number[]);
  let text = '';
  for (let at = 0; at < length; at += UNITS_PER_CALL) text += String.fromCharCode.apply(null, buf.subarray(at, Math.min(length, at + UNITS_PER_CALL)) as unknown as number[]);
  return text;
}
