// What every part of the store suite drives: a harness around one store kind,
// seen through the asynchronous store boundary (the synchronous stores
// through asAsync), what that store supports, and the small helpers the
// parts share.
import { afterEach, beforeEach, it } from 'vitest';
import type { LogItem } from '../../../server/core/model.ts';
import type { AsyncStore } from '../../../server/store/async-store.ts';
import type { Store } from '../../../server/store/store.ts';
import type { Write } from '../../../server/store/store-ops.ts';

export interface StoreHarness {
  /** A fresh, empty, open store. */
  store: AsyncStore;
  /** Closes the current store cleanly and opens the same data again. */
  reopen: () => Promise<AsyncStore>;
  /**
   * Abandons the current store as a crash would (no commit, no rollback) and
   * opens what survived: for a file, the files as they are; for a server
   * (PostgreSQL), the connection killed with its transaction open.
   */
  crash: () => Promise<AsyncStore>;
  /** Commits of the current store so far. */
  commits: () => number;
  /** Closes whatever is open and removes what it made (files, a schema). */
  cleanup: () => Promise<void>;
}

/** What a store can be asked to do beyond the contract; a case that needs what a store lacks is skipped for it, and says so in its name. */
export interface StoreSupport {
  /** reopen(): the store's data outlives closing it. */
  reopen: boolean;
  /** crash(): the store can be abandoned mid-transaction and opened again. */
  crash: boolean;
}

export interface SuiteContext {
  make: () => Promise<StoreHarness>;
  supports: StoreSupport;
  /** fast-check runs of the crash property; a store whose transactions are round trips keeps this small. */
  propertyRuns: number;
  /** fast-check runs of the agreement with MemoryStore (suite/reference-agreement.ts). */
  agreementRuns: number;
  /** Whether a failed property shrinks its counterexample (slow on a store of round trips: it then reports the first one). */
  shrink: boolean;
  /** Whether the store is MemoryStore, the reference the agreement property compares with (it skips that property). */
  isReference: boolean;
}

/** A fresh store for each case of a part, handed to `set` before the case and cleaned up after it. */
export function freshStorePerCase(ctx: SuiteContext, set: (h: StoreHarness) => void): void {
  let current: StoreHarness | undefined;
  beforeEach(async () => {
    current = await ctx.make();
    set(current);
  });
  afterEach(async () => {
    await current?.cleanup();
    current = undefined;
  });
}

/** begin + apply + commit; a failed apply rolls back and rethrows. */
export async function commitTx(store: AsyncStore, writes: readonly Write[]): Promise<void> {
  await store.begin();
  try {
    await store.apply(writes);
  } catch (e) {
    await store.rollback();
    throw e;
  }
  await store.commit();
}

/** commitTx for a synchronous store (the tests of one store kind's specifics). */
export function commitTxSync(store: Store, writes: readonly Write[]): void {
  store.begin();
  try {
    store.apply(writes);
  } catch (e) {
    store.rollback();
    throw e;
  }
  store.commit();
}

export function seqs(items: readonly LogItem[]): number[] {
  return items.map((i) => i.seq);
}

/** `it` for a case that needs more than the contract: for a store without it, the case is skipped and its name says what it lacks. */
export function itNeeding(ctx: SuiteContext, ...need: Array<keyof StoreSupport>): (name: string, fn: () => Promise<void>) => void {
  const missing = need.filter((n) => !ctx.supports[n]);
  return (name, fn) => (missing.length > 0 ? it.skip(`${name} (this store has no ${missing.join(', ')})`, fn) : it(name, fn));
}
