// The shape of one attack of the abuse profile: a name and what it does (for
// the report), the password-hash cost its server runs with, and a plan of
// two steps: `prepare` (accounts, data; not measured) and `run` (the attack
// itself, until the environment's deadline or its own bound).
import type { AbuseStage, AttackName } from '../../../profiles.ts';
import type { AttackEnv } from '../attack-kit.ts';

export interface AttackPlan {
  prepare: () => Promise<void>;
  run: () => Promise<void>;
}

export interface Attack {
  name: AttackName | 'reference';
  title: string;
  /** What the attacker does, in a sentence, with the profile's figures. */
  what: (s: AbuseStage) => string;
  /** The server's password-hash cost for this attack (default: the profile's). */
  scryptN?: (s: AbuseStage) => number;
  plan: (env: AttackEnv, s: AbuseStage) => AttackPlan;
}

/** Runs `n` workers of `f` at once and waits for all. */
export async function workers(n: number, f: (i: number) => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: n }, (_, i) => f(i)));
}
