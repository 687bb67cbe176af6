// Range headers against RFC 9110 section 14.
import { describe, expect, it } from 'vitest';
import { parseRange } from '../../server/media/range.ts';

describe('parseRange', () => {
  it.each<[string, number, number, number]>([
    ['bytes=0-99', 1000, 0, 99],
    ['bytes=100-', 1000, 100, 999],
    ['bytes=-100', 1000, 900, 999],
    ['bytes=-5000', 1000, 0, 999],
    ['bytes=990-5000', 1000, 990, 999],
    ['bytes=999-999', 1000, 999, 999],
    ['BYTES=0-0', 1000, 0, 0],
    ['bytes= 5-9 ', 1000, 5, 9],
    ['bytes=5-9, ,', 1000, 5, 9],
  ])('%j of %d bytes is 206 %d-%d', (h, size, start, end) => {
    expect(parseRange(h, size)).toEqual({ status: 206, start, end, length: end - start + 1, contentRange: `bytes ${start}-${end}/${size}` });
  });

  it.each<[string, number]>([
    ['bytes=1000-', 1000],
    ['bytes=1000-2000', 1000],
    ['bytes=-0', 1000],
    ['bytes=0-', 0],
    ['bytes=99999999999999999999-', 1000],
  ])('%j of %d bytes is 416', (h, size) => {
    expect(parseRange(h, size)).toEqual({ status: 416, contentRange: `bytes */${size}` });
  });

  it.each<[string | undefined, number]>([
    [undefined, 1000],
    ['', 1000],
    ['bytes=', 1000],
    ['bytes=9-5', 1000],
    ['bytes=a-b', 1000],
    ['bytes=1-2-3', 1000],
    ['bytes=+1-2', 1000],
    ['bytes=0x10-', 1000],
    ['bytes 0-5', 1000],
    ['items=0-5', 1000],
    ['bytes=0-1,5-9', 1000],
    ['bytes=0-1, 2000-', 1000],
    ['bytes=-5', 0],
  ])('%j of %d bytes is ignored: 200 with the whole file', (h, size) => {
    expect(parseRange(h, size)).toEqual({ status: 200 });
  });
});
