// The per-account logs: items page by sequence, prune through a sequence, and
// only ever grow at the end.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../server/store/store.ts';
import type { Write } from '../../../server/store/store-ops.ts';
import { contact, message } from './fixtures.ts';
import { commitTx, seqs, type StoreHarness } from './harness.ts';

export function itemLogCases(make: () => StoreHarness): void {
  describe('items', () => {
    let h: StoreHarness;
    let store: Store;

    beforeEach(() => {
      h = make();
      store = h.store;
    });
    afterEach(() => {
      h.cleanup();
    });

    it('message and contact items round-trip with their data', () => {
      const m = message(1, 1, { Content: 'line1\nline2 \u0000 \u2028 😀 <b>&amp;</b>', MsgType: 10000 });
      const c = contact(1, 2, { MemberList: ['user1', 'user2', 'user3'], MemberCount: 3, RemarkName: 'Fam' });
      commitTx(store, [
        { kind: 'appendItem', item: m },
        { kind: 'appendItem', item: c },
      ]);
      expect(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 })).toEqual([m]);
      expect(store.read({ kind: 'items', uin: 1, category: 2, afterSeq: 0, limit: 10 })).toEqual([c]);
      expect(store.read({ kind: 'items', uin: 2, category: 1, afterSeq: 0, limit: 10 })).toEqual([]);
    });

    it('pages with afterSeq and limit, oldest first', () => {
      // Sequences need not be consecutive; categories share the account's generator.
      const msgSeqs = [1, 2, 4, 7, 8, 10, 11];
      commitTx(store, [
        ...msgSeqs.map((s): Write => ({ kind: 'appendItem', item: message(1, s) })),
        ...[3, 5, 6, 9].map((s): Write => ({ kind: 'appendItem', item: contact(1, s) })),
      ]);
      const page = (afterSeq: number, limit: number) =>
        seqs(store.read({ kind: 'items', uin: 1, category: 1, afterSeq, limit }));
      expect(page(0, 3)).toEqual([1, 2, 4]);
      expect(page(4, 3)).toEqual([7, 8, 10]);
      expect(page(10, 3)).toEqual([11]);
      expect(page(11, 3)).toEqual([]);
      expect(page(3, 1)).toEqual([4]);
      expect(page(5, 100)).toEqual([7, 8, 10, 11]);
      expect(page(0, 0)).toEqual([]);
      expect(seqs(store.read({ kind: 'items', uin: 1, category: 2, afterSeq: 0, limit: 100 }))).toEqual([3, 5, 6, 9]);
      // Paging to the end visits every item once, in order.
      const seen: number[] = [];
      for (let after = 0; ; ) {
        const got = page(after, 2);
        if (got.length === 0) break;
        seen.push(...got);
        after = got[got.length - 1]!;
      }
      expect(seen).toEqual(msgSeqs);
    });

    it('pruneItems deletes through a seq for one (uin, category)', () => {
      commitTx(store, [
        ...[1, 2, 3, 4, 5].map((s): Write => ({ kind: 'appendItem', item: message(1, s) })),
        ...[1, 2, 3].map((s): Write => ({ kind: 'appendItem', item: message(2, s) })),
        { kind: 'appendItem', item: contact(1, 6) },
      ]);
      commitTx(store, [{ kind: 'pruneItems', uin: 1, category: 1, throughSeq: 3 }]);
      expect(seqs(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([4, 5]);
      expect(seqs(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 4, limit: 10 }))).toEqual([5]);
      expect(seqs(store.read({ kind: 'items', uin: 2, category: 1, afterSeq: 0, limit: 10 }))).toEqual([1, 2, 3]);
      expect(seqs(store.read({ kind: 'items', uin: 1, category: 2, afterSeq: 0, limit: 10 }))).toEqual([6]);
      // Pruning is idempotent, and appending continues after it.
      commitTx(store, [
        { kind: 'pruneItems', uin: 1, category: 1, throughSeq: 3 },
        { kind: 'pruneItems', uin: 9, category: 1, throughSeq: 3 },
        { kind: 'appendItem', item: message(1, 7) },
      ]);
      expect(seqs(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([4, 5, 7]);
      commitTx(store, [{ kind: 'pruneItems', uin: 1, category: 1, throughSeq: 100 }]);
      expect(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 })).toEqual([]);
    });

    it('appending out of order is an error', () => {
      commitTx(store, [
        { kind: 'appendItem', item: message(1, 5) },
        { kind: 'appendItem', item: message(2, 1) },
        { kind: 'appendItem', item: contact(1, 1) },
      ]);
      store.begin();
      expect(() => store.apply([{ kind: 'appendItem', item: message(1, 5) }])).toThrow(/out of order/);
      expect(() => store.apply([{ kind: 'appendItem', item: message(1, 3) }])).toThrow(/out of order/);
      store.rollback();
      // Other logs are independent; the log itself still accepts the next seq.
      commitTx(store, [{ kind: 'appendItem', item: message(1, 6) }]);
      expect(seqs(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([5, 6]);
    });
  });
}
