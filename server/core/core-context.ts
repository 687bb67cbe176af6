// What every command family is given: the limits, the world's randomness and
// password hashing, the anti-abuse quotas, and the planted bugs with the
// little state they keep.
import type { CoreConfig } from './config.ts';
import { SALT_BYTES, type CoreDeps, type PasswordHasher, type RandomSource } from './deps.ts';
import type { LogItem } from './model.ts';
import { NO_BUGS, type BugSet } from './planted-bugs.ts';
import { quotas, type Quotas } from './rate-limits.ts';

export interface CoreContext {
  readonly config: CoreConfig;
  readonly random: RandomSource;
  readonly hasher: PasswordHasher;
  /** Unknown user names still pay for one verify (against this), so timing does not tell them apart. */
  readonly dummyHash: string;
  /** The only state the real core keeps between commands: rate buckets, in memory (a restart refills them). */
  readonly quotas: Quotas;
  readonly bugs: BugSet;
  readonly bugState: PlantedBugState;
}

/** Planted-bug state: what the bugs keep between commands. */
export interface PlantedBugState {
  /** volatile-seq: each account's sequence counter, in memory only. */
  readonly volatileSeq: Map<number, number>;
  /** group-order-per-member: per group, the members' copies of its last message, held back until its next one. */
  readonly deferredFanout: Map<string, LogItem[]>;
}

export function coreContext(config: CoreConfig, deps: CoreDeps): CoreContext {
  const bugs = deps.bugs ?? NO_BUGS;
  return {
    config,
    random: deps.random,
    hasher: deps.hasher,
    dummyHash: deps.hasher.hash('dummy', new Uint8Array(SALT_BYTES)),
    quotas: quotas(config),
    bugs,
    bugState: { volatileSeq: new Map(), deferredFanout: new Map() },
  };
}
