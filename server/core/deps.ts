// What the core is given instead of reaching for the world: randomness and
// password hashing. Time comes with every command.
export interface RandomSource {
  /** n random bytes: cryptographic on real sockets, a seeded stream in the simulation. */
  bytes(n: number): Uint8Array;
}

export interface PasswordHasher {
  hash(password: string, salt: Uint8Array): string;
  /** Constant-time comparison against a stored hash. */
  verify(password: string, stored: string): boolean;
}
