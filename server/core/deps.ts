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

/** Bytes of random salt in every password hash. */
export const SALT_BYTES = 16;

export interface CoreDeps {
  random: RandomSource;
  hasher: PasswordHasher;
  bugs?: BugSet;
}
