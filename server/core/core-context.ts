// What every command family is given: the limits, the world's randomness and
// password hashing, and the planted bugs with the little state they keep.
import type { CoreConfig } from './config.ts';
import { SALT_BYTES, type CoreDeps, type PasswordHasher, type RandomSource } from './deps.ts';
import type { LogItem } from './model.ts';
import { NO_BUGS, type BugSet } from './planted-bugs.ts';

export interface CoreContext {
  readonly config: CoreConfig;
  readonly random: RandomSource;
  readonly hasher: PasswordHasher;
  /** Unknown user names still pay for one verify (against this), so timing does not tell them apart. */
  readonly dummyHash: string;
  readonly bugs: BugSet;
  readonly bugState: PlantedBugState;
}

/** Planted-bug state only: the real core keeps nothing between commands. */
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
    bugs,
    bugState: { volatileSeq: new Map(), deferredFanout: new Map() },
  };
}
