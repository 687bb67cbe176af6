// MediaIds: random, shaped, and worth nothing to another account.
import { describe, expect, it } from 'vitest';
import { isMediaId, newMediaId, ownedMedia, type MediaRecord } from '../../server/media/media-id.ts';

function counter(): { bytes(n: number): Uint8Array } {
  let next = 0;
  return { bytes: (n) => Uint8Array.from({ length: n }, () => next++ & 0xff) };
}

const record: MediaRecord = { mediaId: '', ownerUin: 7, clientMediaId: 'c', sha256: 'a'.repeat(64), md5: 'b'.repeat(32), size: 3, name: 'a.jpg', mediaType: 'pic', createdAt: 0 };

describe('MediaId', () => {
  it('is drawn from the random source, and different each time', () => {
    const random = counter();
    const a = newMediaId(random);
    const b = newMediaId(random);
    expect(isMediaId(a)).toBe(true);
    expect(a).not.toBe(b);
    expect(a).toBe('@media_' + Buffer.from(Uint8Array.from({ length: 24 }, (_, i) => i)).toString('base64url'));
  });

  it.each(['', '@media_short', '@media_' + 'a'.repeat(31) + '/', 'media_' + 'a'.repeat(32), 42])('%j is not one', (s) => {
    expect(isMediaId(s)).toBe(false);
  });

  it('is usable by its owner only, and another account hears the same as for an unknown one', () => {
    expect(ownedMedia(record, 7)).toBe(record);
    const other = ownedMedia(record, 8);
    const unknown = ownedMedia(undefined, 8);
    expect(other).toEqual(unknown);
    expect('code' in other && other.code).toBe('MEDIA_UNKNOWN');
  });
});
