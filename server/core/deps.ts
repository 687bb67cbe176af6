// What the core is given instead of reaching for the world: randomness and
// password hashing. Time comes with every command.
import type { BugSet } from './planted-bugs.ts';

export interface RandomSource {
  /** n random bytes: cryptographic on real sockets, a seeded stream in the simulation. */
  bytes(n: number): Uint8Array;
}

export interface PasswordHasher {
  hash(password: string, salt: Uint8Array): string;
  /** Constant-time comparison against a stored hash. */
  verify(password: string, stored: string): boolean;
}

/**
 * A password hash the core needs and does not compute itself: hashing costs
 * tens of milliseconds, so the node hands it to its driver (off the event
 * loop on a real server) and takes the answer later (ServerNode.hashDone).
 */
export type HashWork =
  /** Hash a new password with this salt: answered with the stored form. */
  | { op: 'hash'; password: string; salt: Uint8Array }
  /** Check a password against a stored hash: answered true or false. */
  | { op: 'verify'; password: string; stored: string };

/** The answer to a HashWork: the stored form for 'hash', the verdict for 'verify'. */
export type HashResult = string | boolean;

/** Bytes of random salt in every password hash. */
export const SALT_BYTES = 16;

export interface CoreDeps {
  random: RandomSource;
  hasher: PasswordHasher;
  bugs?: BugSet;
}
