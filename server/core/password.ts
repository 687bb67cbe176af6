// Salted scrypt hashes, compared in constant time. The cost is a parameter:
// real servers use the default; the simulation uses a tiny one for speed.
// The synchronous form serves the simulation and the one dummy hash each core
// makes at start; a real server answers the node's hash jobs with the
// asynchronous form, which runs on libuv's thread pool, off the event loop.
import { scrypt, scryptSync, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { HashResult, HashWork, PasswordHasher } from './deps.ts';

export const DEFAULT_SCRYPT_N = 16384;
const KEY_LEN = 32;
/** Memory scrypt needs is 128 × N × r bytes; the rest is headroom. */
const MAXMEM_HEADROOM = 1024 * 1024;

/** A hasher that also runs off the event loop. */
export interface ScryptHasher extends PasswordHasher {
  hashAsync(password: string, salt: Uint8Array): Promise<string>;
  verifyAsync(password: string, stored: string): Promise<boolean>;
}

interface Params {
  n: number;
  r: number;
  p: number;
  salt: Buffer;
}

const options = (x: Params): ScryptOptions => ({ N: x.n, r: x.r, p: x.p, maxmem: 256 * x.n * x.r + MAXMEM_HEADROOM });

function deriveSync(password: string, x: Params): Buffer {
  return scryptSync(password.normalize('NFC'), x.salt, KEY_LEN, options(x));
}

function deriveAsync(password: string, x: Params): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), x.salt, KEY_LEN, options(x), (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function format(x: Params, key: Buffer): string {
  return `scrypt$${x.n}$${x.r}$${x.p}$${x.salt.toString('base64')}$${key.toString('base64')}`;
}

/** A stored hash's parameters and key, or undefined if it is no hash of ours. */
function parse(stored: string): { params: Params; want: Buffer } | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const params = { n: Number(parts[1]), r: Number(parts[2]), p: Number(parts[3]), salt: Buffer.from(parts[4]!, 'base64') };
  return { params, want: Buffer.from(parts[5]!, 'base64') };
}

const matches = (got: Buffer, want: Buffer): boolean => got.length === want.length && timingSafeEqual(got, want);

export function scryptHasher(n = DEFAULT_SCRYPT_N, r = 8, p = 1): ScryptHasher {
  if (!Number.isInteger(n) || n < 2 || (n & (n - 1)) !== 0) throw new RangeError(`scrypt N must be a power of two >= 2, got ${n}`);
  const params = (salt: Uint8Array): Params => ({ n, r, p, salt: Buffer.from(salt) });
  return {
    hash(password, salt) {
      const x = params(salt);
      return format(x, deriveSync(password, x));
    },
    verify(password, stored) {
      const s = parse(stored);
      return s !== undefined && matches(deriveSync(password, s.params), s.want);
    },
    async hashAsync(password, salt) {
      const x = params(salt);
      return format(x, await deriveAsync(password, x));
    },
    async verifyAsync(password, stored) {
      const s = parse(stored);
      return s !== undefined && matches(await deriveAsync(password, s.params), s.want);
    },
  };
}

/** A hash job answered at once (the simulation, tests). */
export function runHashWork(hasher: PasswordHasher, w: HashWork): HashResult {
  return w.op === 'hash' ? hasher.hash(w.password, w.salt) : hasher.verify(w.password, w.stored);
}

/** A hash job answered off the event loop (a real server). */
export function runHashWorkAsync(hasher: ScryptHasher, w: HashWork): Promise<HashResult> {
  return w.op === 'hash' ? hasher.hashAsync(w.password, w.salt) : hasher.verifyAsync(w.password, w.stored);
}
