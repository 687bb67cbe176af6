// The per-account logs: items page by sequence, prune through a sequence, and
// only ever grow at the end.
import { describe, expect, it } from 'vitest';
import type { AsyncStore } from '../../../server/store/async-store.ts';
import type { Write } from '../../../server/store/store-ops.ts';
import { contact, message } from './fixtures.ts';
import { commitTx, freshStorePerCase, seqs, type StoreHarness, type SuiteContext } from './harness.ts';

export function itemLogCases(ctx: SuiteContext): void {
  describe('items', () => {
    let h: StoreHarness;
    let store: AsyncStore;
    freshStorePerCase(ctx, (made) => ((h = made), (store = made.store)));

    it('message and contact items round-trip with their data', async () => {
      const m = message(1, 1, { Content: 'line1\nline2 \u0000 \u2028 😀 <b>&amp;</b>', MsgType: 10000 });
      const c = contact(1, 2, { MemberList: ['user1', 'user2', 'user3'], MemberCount: 3, RemarkName: 'Fam' });
      await commitTx(store, [
        { kind: 'appendItem', item: m },
        { kind: 'appendItem', item: c },
      ]);
      expect(await store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 })).toEqual([m]);
      expect(await store.read({ kind: 'items', uin: 1, category: 2, afterSeq: 0, limit: 10 })).toEqual([c]);
      expect(await store.read({ kind: 'items', uin: 2, category: 1, afterSeq: 0, limit: 10 })).toEqual([]);
    });

    it('pages with afterSeq and limit, oldest first', async () => {
      // Sequences need not be consecutive; categories share the account's generator.
      const msgSeqs = [1, 2, 4, 7, 8, 10, 11];
      await commitTx(store, [
        ...msgSeqs.map((s): Write => ({ kind: 'appendItem', item: message(1, s) })),
        ...[3, 5, 6, 9].map((s): Write => ({ kind: 'appendItem', item: contact(1, s) })),
      ]);
      const page = async (afterSeq: number, limit: number): Promise<number[]> =>
        seqs(await store.read({ kind: 'items', uin: 1, category: 1, afterSeq, limit }));
      expect(await page(0, 3)).toEqual([1, 2, 4]);
      expect(await page(4, 3)).toEqual([7, 8, 10]);
      expect(await page(10, 3)).toEqual([11]);
      expect(await page(11, 3)).toEqual([]);
      expect(await page(3, 1)).toEqual([4]);
      expect(await page(5, 100)).toEqual([7, 8, 10, 11]);
      expect(await page(0, 0)).toEqual([]);
      expect(seqs(await store.read({ kind: 'items', uin: 1, category: 2, afterSeq: 0, limit: 100 }))).toEqual([3, 5, 6, 9]);
      // Paging to the end visits every item once, in order.
      const seen: number[] = [];
      for (let after = 0; ; ) {
        const got = await page(after, 2);
        if (got.length === 0) break;
        seen.push(...got);
        after = got[got.length - 1]!;
      }
      expect(seen).toEqual(msgSeqs);
    });

    it('pruneItems deletes through a seq for one (uin, category)', async () => {
      await commitTx(store, [
        ...[1, 2, 3, 4, 5].map((s): Write => ({ kind: 'appendItem', item: message(1, s) })),
        ...[1, 2, 3].map((s): Write => ({ kind: 'appendItem', item: message(2, s) })),
        { kind: 'appendItem', item: contact(1, 6) },
      ]);
      await commitTx(store, [{ kind: 'pruneItems', uin: 1, category: 1, throughSeq: 3 }]);
      expect(seqs(await store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([4, 5]);
      expect(seqs(await store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 4, limit: 10 }))).toEqual([5]);
      expect(seqs(await store.read({ kind: 'items', uin: 2, category: 1, afterSeq: 0, limit: 10 }))).toEqual([1, 2, 3]);
      expect(seqs(await store.read({ kind: 'items', uin: 1, category: 2, afterSeq: 0, limit: 10 }))).toEqual([6]);
      // Pruning is idempotent, and appending continues after it.
      await commitTx(store, [
        { kind: 'pruneItems', uin: 1, category: 1, throughSeq: 3 },
        { kind: 'pruneItems', uin: 9, category: 1, throughSeq: 3 },
        { kind: 'appendItem', item: message(1, 7) },
      ]);
      expect(seqs(await store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([4, 5, 7]);
      await commitTx(store, [{ kind: 'pruneItems', uin: 1, category: 1, throughSeq: 100 }]);
      expect(await store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 })).toEqual([]);
    });

    it('appending out of order is an error', async () => {
      await commitTx(store, [
        { kind: 'appendItem', item: message(1, 5) },
        { kind: 'appendItem', item: message(2, 1) },
        { kind: 'appendItem', item: contact(1, 1) },
      ]);
      await store.begin();
      await expect(store.apply([{ kind: 'appendItem', item: message(1, 5) }])).rejects.toThrow(/out of order/);
      await expect(store.apply([{ kind: 'appendItem', item: message(1, 3) }])).rejects.toThrow(/out of order/);
      await store.rollback();
      // Other logs are independent; the log itself still accepts the next seq.
      await commitTx(store, [{ kind: 'appendItem', item: message(1, 6) }]);
      expect(seqs(await store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([5, 6]);
    });
  });
}
