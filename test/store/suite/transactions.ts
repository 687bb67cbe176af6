// The transaction protocol: reads see the open transaction, rollback undoes
// every kind of write, and misuse throws.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../server/store/store.ts';
import { T0, account, contact, dedup, device, group, message, remark, session } from './fixtures.ts';
import { commitTx, seqs, type StoreHarness } from './harness.ts';
import { snapshot, type Universe } from './snapshot.ts';

export function transactionCases(make: () => StoreHarness): void {
  describe('transactions', () => {
    let h: StoreHarness;
    let store: Store;

    beforeEach(() => {
      h = make();
      store = h.store;
    });
    afterEach(() => {
      h.cleanup();
    });

    it('reads inside a transaction see its earlier writes', () => {
      store.begin();
      store.apply([
        { kind: 'putAccount', account: account(1) },
        { kind: 'setMeta', name: 'nextUin', value: 2 },
        { kind: 'appendItem', item: message(1, 1) },
        { kind: 'putGroup', group: group('@@1', [1]) },
      ]);
      expect(store.read({ kind: 'account', uin: 1 })).toEqual(account(1));
      expect(store.read({ kind: 'accountByName', userName: 'user1' })).toEqual(account(1));
      expect(store.read({ kind: 'meta', name: 'nextUin' })).toBe(2);
      expect(seqs(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([1]);
      expect(store.read({ kind: 'groupsOf', uin: 1, limit: 10 })).toEqual([group('@@1', [1])]);
      store.apply([
        { kind: 'appendItem', item: message(1, 2) },
        { kind: 'pruneItems', uin: 1, category: 1, throughSeq: 1 },
      ]);
      expect(seqs(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([2]);
      store.commit();
      expect(seqs(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([2]);
    });

    it('rollback discards every kind of write and restores replaced records', () => {
      const u: Universe = {
        uins: [1, 2],
        sids: ['s1', 's2'],
        deviceIds: ['d1', 'd2'],
        clientMsgIds: ['c1', 'c2'],
        groups: ['@@1', '@@2'],
      };
      commitTx(store, [
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
      const before = snapshot(store, u);
      store.begin();
      store.apply([
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
      expect(snapshot(store, u)).not.toEqual(before);
      store.rollback();
      expect(snapshot(store, u)).toEqual(before);
      // The store works normally afterwards, and nothing of the rollback returns.
      commitTx(store, [{ kind: 'appendItem', item: message(1, 3) }]);
      expect(seqs(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([1, 2, 3]);
      store = h.reopen();
      expect(store.read({ kind: 'account', uin: 2 })).toBeUndefined();
      expect(store.read({ kind: 'meta', name: 'nextGroupId' })).toBe(0);
    });

    it('guards the transaction protocol', () => {
      expect(() => store.apply([{ kind: 'setMeta', name: 'nextUin', value: 1 }])).toThrow();
      expect(() => store.commit()).toThrow();
      expect(() => store.rollback()).toThrow();
      store.begin();
      expect(() => store.begin()).toThrow();
      store.apply([{ kind: 'setMeta', name: 'nextUin', value: 1 }]);
      store.commit();
      expect(store.read({ kind: 'meta', name: 'nextUin' })).toBe(1);
    });

    it('counts commits', () => {
      const counted = store as Store & { commits?: number };
      const start = counted.commits ?? 0;
      commitTx(store, [{ kind: 'setMeta', name: 'nextUin', value: 1 }]);
      store.begin();
      store.rollback();
      commitTx(store, []);
      expect(counted.commits).toBe(start + 2);
    });

    it('a closed store refuses reads', () => {
      store.close();
      expect(() => store.read({ kind: 'meta', name: 'nextUin' })).toThrow();
    });

    it('close rolls back an open transaction', () => {
      commitTx(store, [{ kind: 'setMeta', name: 'nextUin', value: 1 }]);
      store.begin();
      store.apply([{ kind: 'setMeta', name: 'nextUin', value: 2 }]);
      store = h.reopen();
      expect(store.read({ kind: 'meta', name: 'nextUin' })).toBe(1);
    });
  });
}
