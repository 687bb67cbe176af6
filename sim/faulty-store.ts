// The server's store as the simulation hands it to the node: the real store,
// behind a shell that fails a command's writes or a batch's commit when the
// scenario's storage faults (scenarios/scenario.ts) say so. A failure does
// to the real store what a failing database does: a write that fails
// part-way goes through the store's own savepoint undo (the writes before it
// really were applied, then undone), and a failure that costs the whole
// transaction really rolls it back, so the node meets the store in the state
// a real one would leave. Every draw comes from the run's 'store-faults'
// stream and only while the faults are on, so a run without storage faults
// is the same run, byte for byte, with or without this shell.
import type { StorageFaults } from '../scenarios/scenario.ts';
import type { Store } from '../server/store/store.ts';
import type { Write } from '../server/store/store-ops.ts';
import { ForwardingStore } from '../server/store/forwarding-store.ts';
import type { Rng } from './rng.ts';

/** What the simulated database says when it fails. */
export class StorageFaultError extends Error {
  override readonly name = 'StorageFaultError';
}

/**
 * A StorageFaultError without a stack: the dice threw it, so a stack would
 * say nothing, and capturing one costs about eight times as much as the
 * error itself.
 */
function storageFault(message: string): StorageFaultError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new StorageFaultError(message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The dice of the storage faults, shared by every store shell the server host builds. */
export class StorageFaultDice {
  /** Only in the safety phase: the liveness phase runs on a healthy disk. */
  on = false;
  /** Faults so far, for the run's counters. */
  applyFaults = 0;
  commitFaults = 0;

  constructor(
    private readonly f: StorageFaults,
    private readonly rng: Rng,
    private readonly note: (detail: string) => void,
  ) {}

  /** Whether this apply of `n` writes fails: then at which write, and whether the transaction goes with it. */
  applyFault(n: number): { at: number; lost: boolean } | undefined {
    if (!this.on || n === 0 || !this.rng.chance(this.f.applyFailProbability)) return undefined;
    const at = this.rng.int(0, n - 1);
    const lost = this.rng.chance(this.f.transactionLostProbability);
    this.applyFaults++;
    this.note(`apply failed at write ${at + 1} of ${n}${lost ? ', transaction rolled back' : ''}`);
    return { at, lost };
  }

  /** How many of the last commits a power cut takes: 0 to `most`. */
  powerCutCommits(most: number): number {
    return this.rng.int(0, most);
  }

  /** Whether this commit fails, and whether the database rolled the transaction back itself. */
  commitFault(): { lost: boolean } | undefined {
    if (!this.on || !this.rng.chance(this.f.commitFailProbability)) return undefined;
    const lost = this.rng.chance(this.f.transactionLostProbability);
    this.commitFaults++;
    this.note(`commit failed${lost ? ', transaction rolled back' : ', transaction still open'}`);
    return { lost };
  }
}

export class FaultyStore extends ForwardingStore {
  constructor(
    inner: Store,
    /** The dice in force now; undefined: the store never fails. */
    private readonly dice: () => StorageFaultDice | undefined,
  ) {
    super(inner);
  }

  override apply(writes: readonly Write[]): void {
    const fault = this.dice()?.applyFault(writes.length);
    if (!fault) return this.inner.apply(writes);
    const error = storageFault('disk I/O error');
    let met = false;
    try {
      this.inner.apply(failingAt(writes, fault.at, error));
    } catch (e) {
      if (e !== error) throw e;
      met = true;
    }
    // A store that never read the failing write kept every write: failing the command now would lie
    // about it (test/sim/storage-faults.test.ts holds both stores to reading it).
    if (!met) throw new Error('FaultyStore: the store applied the writes without reading the one that fails');
    if (fault.lost) this.inner.rollback();
    throw error;
  }

  override commit(): void {
    const fault = this.dice()?.commitFault();
    if (!fault) return this.inner.commit();
    if (fault.lost) {
      this.inner.rollback();
      throw storageFault('disk I/O error (the transaction was rolled back)');
    }
    throw storageFault('database is locked');
  }
}

/**
 * `writes` as seen by a store that fails at write `at`: reading that element
 * throws `error`, so the store meets the failure in the middle of its own
 * loop, with the writes before it applied, and undoes them itself.
 */
function failingAt(writes: readonly Write[], at: number, error: Error): readonly Write[] {
  const index = String(at);
  return new Proxy(writes, {
    get(target, p, receiver) {
      if (p === index) throw error;
      return Reflect.get(target, p, receiver) as unknown;
    },
  });
}
