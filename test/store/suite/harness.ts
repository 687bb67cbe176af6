// What every part of the store suite drives: a harness around one store kind,
// and the small helpers the parts share.
import type { LogItem } from '../../../server/core/model.ts';
import type { Store } from '../../../server/store/store.ts';
import type { Write } from '../../../server/store/store-ops.ts';

export interface StoreHarness {
  /** A fresh, empty, open store. */
  store: Store;
  /** Closes the current store cleanly and opens the same data again. */
  reopen: () => Store;
  /** Abandons the current store as a crash would (no commit) and opens what survived. */
  crash: () => Store;
  /** Closes whatever is open and removes its files. */
  cleanup: () => void;
}

/** begin + apply + commit. */
export function commitTx(store: Store, writes: readonly Write[]): void {
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
