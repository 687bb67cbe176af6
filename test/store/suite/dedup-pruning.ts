// Retention of the dedup records: pruning drops one sender's old records only.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../server/store/store.ts';
import type { Write } from '../../../server/store/store-ops.ts';
import { T0, dedup } from './fixtures.ts';
import { commitTx, type StoreHarness } from './harness.ts';

export function dedupPruningCases(make: () => StoreHarness): void {
  describe('dedup pruning', () => {
    let h: StoreHarness;
    let store: Store;

    beforeEach(() => {
      h = make();
      store = h.store;
    });
    afterEach(() => {
      h.cleanup();
    });

    it('pruneDedup drops one sender’s records created before the time', () => {
      const rs = [1, 2, 3, 4].map((i) => dedup(1, `c${i}`, T0 + i * 10));
      const other = dedup(2, 'c1', T0);
      commitTx(store, [
        ...rs.map((d): Write => ({ kind: 'putDedup', dedup: d })),
        { kind: 'putDedup', dedup: other },
      ]);
      commitTx(store, [{ kind: 'pruneDedup', uin: 1, before: T0 + 30 }]);
      expect(store.read({ kind: 'dedup', uin: 1, clientMsgId: 'c1' })).toBeUndefined();
      expect(store.read({ kind: 'dedup', uin: 1, clientMsgId: 'c2' })).toBeUndefined();
      // `before` is exclusive.
      expect(store.read({ kind: 'dedup', uin: 1, clientMsgId: 'c3' })).toEqual(rs[2]);
      expect(store.read({ kind: 'dedup', uin: 1, clientMsgId: 'c4' })).toEqual(rs[3]);
      expect(store.read({ kind: 'dedup', uin: 2, clientMsgId: 'c1' })).toEqual(other);
      // A pruned id can be recorded again.
      const again = dedup(1, 'c1', T0 + 50);
      commitTx(store, [
        { kind: 'putDedup', dedup: again },
        { kind: 'pruneDedup', uin: 7, before: T0 + 1000 },
      ]);
      expect(store.read({ kind: 'dedup', uin: 1, clientMsgId: 'c1' })).toEqual(again);
      commitTx(store, [{ kind: 'pruneDedup', uin: 1, before: T0 + 1000 }]);
      for (const id of ['c1', 'c2', 'c3', 'c4']) {
        expect(store.read({ kind: 'dedup', uin: 1, clientMsgId: id })).toBeUndefined();
      }
      expect(store.read({ kind: 'dedup', uin: 2, clientMsgId: 'c1' })).toEqual(other);
    });
  });
}
