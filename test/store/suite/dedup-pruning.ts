// Retention of the dedup records: pruning drops one sender's old records only.
import { describe, expect, it } from 'vitest';
import type { AsyncStore } from '../../../server/store/async-store.ts';
import type { Write } from '../../../server/store/store-ops.ts';
import { T0, dedup } from './fixtures.ts';
import { commitTx, freshStorePerCase, type StoreHarness, type SuiteContext } from './harness.ts';

export function dedupPruningCases(ctx: SuiteContext): void {
  describe('dedup pruning', () => {
    let h: StoreHarness;
    let store: AsyncStore;
    freshStorePerCase(ctx, (made) => ((h = made), (store = made.store)));

    it('pruneDedup drops one sender’s records created before the time', async () => {
      const rs = [1, 2, 3, 4].map((i) => dedup(1, `c${i}`, T0 + i * 10));
      const other = dedup(2, 'c1', T0);
      await commitTx(store, [
        ...rs.map((d): Write => ({ kind: 'putDedup', dedup: d })),
        { kind: 'putDedup', dedup: other },
      ]);
      await commitTx(store, [{ kind: 'pruneDedup', uin: 1, before: T0 + 30 }]);
      expect(await store.read({ kind: 'dedup', uin: 1, clientMsgId: 'c1' })).toBeUndefined();
      expect(await store.read({ kind: 'dedup', uin: 1, clientMsgId: 'c2' })).toBeUndefined();
      // `before` is exclusive.
      expect(await store.read({ kind: 'dedup', uin: 1, clientMsgId: 'c3' })).toEqual(rs[2]);
      expect(await store.read({ kind: 'dedup', uin: 1, clientMsgId: 'c4' })).toEqual(rs[3]);
      expect(await store.read({ kind: 'dedup', uin: 2, clientMsgId: 'c1' })).toEqual(other);
      // A pruned id can be recorded again.
      const again = dedup(1, 'c1', T0 + 50);
      await commitTx(store, [
        { kind: 'putDedup', dedup: again },
        { kind: 'pruneDedup', uin: 7, before: T0 + 1000 },
      ]);
      expect(await store.read({ kind: 'dedup', uin: 1, clientMsgId: 'c1' })).toEqual(again);
      await commitTx(store, [{ kind: 'pruneDedup', uin: 1, before: T0 + 1000 }]);
      for (const id of ['c1', 'c2', 'c3', 'c4']) {
        expect(await store.read({ kind: 'dedup', uin: 1, clientMsgId: id })).toBeUndefined();
      }
      expect(await store.read({ kind: 'dedup', uin: 2, clientMsgId: 'c1' })).toEqual(other);
    });
  });
}
