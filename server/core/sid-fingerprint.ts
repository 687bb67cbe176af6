// A deleted session's Sid as its device remembers it (Device.retiredSids), so
// that the Sid still answers 1101. No hash of node:crypto here: the core is
// sans-IO, and this needs no secrecy (a deleted Sid grants nothing).

/** The 53 bits are h2's low 21 bits above h1's 32. */
const HIGH_BITS_MASK = 0x1fffff;
const TWO_TO_32 = 2 ** 32;
const FINGERPRINT_RADIX = 36;

/**
 * What a device keeps of a deleted session's Sid: 53 bits of a hash (cyrb53),
 * in base 36. Enough to tell the device's own old Sids from unknown ones; a
 * chance match only turns an unknown Sid's 1100 into a 1101 of that device.
 * It holds no space (retired fingerprints are stored space-separated).
 */
export function sidFingerprint(sid: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < sid.length; i++) {
    const c = sid.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (TWO_TO_32 * (HIGH_BITS_MASK & h2) + (h1 >>> 0)).toString(FINGERPRINT_RADIX);
}
