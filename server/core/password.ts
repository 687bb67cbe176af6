// Salted scrypt hashes, compared in constant time. The cost is a parameter:
// real servers use the default; the simulation uses a tiny one for speed.
import { scryptSync, timingSafeEqual } from 'node:crypto';
import type { PasswordHasher } from './deps.ts';

export const DEFAULT_SCRYPT_N = 16384;
const KEY_LEN = 32;

export function scryptHasher(n = DEFAULT_SCRYPT_N, r = 8, p = 1): PasswordHasher {
  if (!Number.isInteger(n) || n < 2 || (n & (n - 1)) !== 0) throw new RangeError(`scrypt N must be a power of two >= 2, got ${n}`);
  const derive = (password: string, salt: Buffer, nn: number, rr: number, pp: number): Buffer =>
    scryptSync(password.normalize('NFC'), salt, KEY_LEN, { N: nn, r: rr, p: pp, maxmem: 256 * nn * rr + 1024 * 1024 });
  return {
    hash(password, salt) {
      const key = derive(password, Buffer.from(salt), n, r, p);
      return `scrypt$${n}$${r}$${p}$${Buffer.from(salt).toString('base64')}$${key.toString('base64')}`;
    },
    verify(password, stored) {
      const parts = stored.split('$');
      if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
      const [nn, rr, pp] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
      const salt = Buffer.from(parts[4]!, 'base64');
      const want = Buffer.from(parts[5]!, 'base64');
      const got = derive(password, salt, nn, rr, pp);
      return got.length === want.length && timingSafeEqual(got, want);
    },
  };
}
