// The transaction protocol: reads see the open transaction, rollback undoes
// every kind of write, and misuse throws.
import { describe, expect, it } from 'vitest';
import type { AsyncStore } from '../../../server/store/async-store.ts';
import { T0, account, contact, dedup, device, group, message, remark, session } from './fixtures.ts';
import { commitTx, freshStorePerCase, itNeeding, seqs, type StoreHarness, type SuiteContext } from './harness.ts';
import { snapshot, type Universe } from './snapshot.ts';

export function transactionCases(ctx: SuiteContext): void {
  describe('transactions', () => {
    let h: StoreHarness;
    let store: AsyncStore;
    freshStorePerCase(ctx, (made) => ((h = made), (store = made.store)));

    it('reads inside a transaction see its earlier writes', async () => {
      await store.begin();
      await store.apply([
        { kind: 'putAccount', account: account(1) },
        { kind: 'setMeta', name: 'nextUin', value: 2 },
        { kind: 'appendItem', item: message(1, 1) },
        { kind: 'putGroup', group: group('@@1', [1]) },
      ]);
      expect(await store.read({ kind: 'account', uin: 1 })).toEqual(account(1));
      expect(await store.read({ kind: 'accountByName', userName: 'user1' })).toEqual(account(1));
      expect(await store.read({ kind: 'meta', name: 'nextUin' })).toBe(2);
      expect(seqs(await store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([1]);
      expect(await store.read({ kind: 'groupsOf', uin: 1, limit: 10 })).toEqual([group('@@1', [1])]);
      await store.apply([
        { kind: 'appendItem', item: message(1, 2) },
        { kind: 'pruneItems', uin: 1, category: 1, throughSeq: 1 },
      ]);
      expect(seqs(await store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([2]);
      await store.commit();
      expect(seqs(await store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([2]);
    });

    itNeeding(ctx, 'reopen')('rollback discards every kind of write and restores replaced records', async () => {
      const u: Universe = {
        uins: [1, 2],
        sids: ['s1', 's2'],
        deviceIds: ['d1', 'd2'],
        clientMsgIds: ['c1', 'c2'],
        groups: ['@@1', '@@2'],
      };
      await commitTx(store, [
        { kind: 'putAccount', account: account(1) },
        { kind: 'putSession', session: session('s1', 1) },
        { kind: 'putDevice', device: device(1, 'd1') },
        { kind: 'putDedup', dedup: dedup(1, 'c1', T0) },
        { kind: 'putGroup', group: group('@@1', [1, 2]) },
        { kind: 'putRemark', remark: remark(1, 'user2', 'Bob') },
        { kind: 'appendItem', item: message(1, 1) },
        { kind: 'appendItem', item: message(1, 2) },
        { kind: 'setMeta', name: 'nextUin', value: 3 },
      ]);
      const before = await snapshot(store, u);
      await store.begin();
      await store.apply([
        { kind: 'putAccount', account: account(1, { seq: 9 }) },
        { kind: 'putAccount', account: account(2) },
        { kind: 'putSession', session: session('s1', 1, { state: 'replaced' }) },
        { kind: 'putSession', session: session('s2', 2) },
        { kind: 'putDevice', device: device(1, 'd1', { acked: { 1: 2, 2: 0 } }) },
        { kind: 'putDevice', device: device(1, 'd2') },
        { kind: 'putDedup', dedup: dedup(1, 'c2', T0 + 5) },
        { kind: 'pruneDedup', uin: 1, before: T0 + 1 },
        { kind: 'putGroup', group: group('@@1', [1, 2], { seq: 1 }) },
        { kind: 'putGroup', group: group('@@2', [2, 1]) },
        { kind: 'putRemark', remark: remark(1, 'user2', 'Robert') },
        { kind: 'putRemark', remark: remark(1, '@@1', 'Team') },
        { kind: 'appendItem', item: message(1, 3) },
        { kind: 'pruneItems', uin: 1, category: 1, throughSeq: 2 },
        { kind: 'appendItem', item: contact(2, 1) },
        { kind: 'setMeta', name: 'nextUin', value: 4 },
        { kind: 'setMeta', name: 'nextGroupId', value: 3 },
      ]);
      expect(await snapshot(store, u)).not.toEqual(before);
      await store.rollback();
      expect(await snapshot(store, u)).toEqual(before);
      // The store works normally afterwards, and nothing of the rollback returns.
      await commitTx(store, [{ kind: 'appendItem', item: message(1, 3) }]);
      expect(seqs(await store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([1, 2, 3]);
      store = await h.reopen();
      expect(await store.read({ kind: 'account', uin: 2 })).toBeUndefined();
      expect(await store.read({ kind: 'meta', name: 'nextGroupId' })).toBe(0);
    });

    it('guards the transaction protocol', async () => {
      await expect(store.apply([{ kind: 'setMeta', name: 'nextUin', value: 1 }])).rejects.toThrow();
      await expect(store.commit()).rejects.toThrow();
      await expect(store.rollback()).rejects.toThrow();
      await store.begin();
      await expect(store.begin()).rejects.toThrow();
      await store.apply([{ kind: 'setMeta', name: 'nextUin', value: 1 }]);
      await store.commit();
      expect(await store.read({ kind: 'meta', name: 'nextUin' })).toBe(1);
    });

    it('counts commits', async () => {
      const start = h.commits();
      await commitTx(store, [{ kind: 'setMeta', name: 'nextUin', value: 1 }]);
      await store.begin();
      await store.rollback();
      await commitTx(store, []);
      expect(h.commits()).toBe(start + 2);
    });

    it('a closed store refuses reads', async () => {
      await store.close();
      await expect(store.read({ kind: 'meta', name: 'nextUin' })).rejects.toThrow();
    });

    itNeeding(ctx, 'reopen')('close rolls back an open transaction', async () => {
      await commitTx(store, [{ kind: 'setMeta', name: 'nextUin', value: 1 }]);
      await store.begin();
      await store.apply([{ kind: 'setMeta', name: 'nextUin', value: 2 }]);
      store = await h.reopen();
      expect(await store.read({ kind: 'meta', name: 'nextUin' })).toBe(1);
    });
  });
}
