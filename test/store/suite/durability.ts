// What survives a clean reopen and a crash: everything committed, nothing of
// the transaction that was open.
import { describe, expect } from 'vitest';
import type { LogItem } from '../../../server/core/model.ts';
import type { AsyncStore } from '../../../server/store/async-store.ts';
import type { Write } from '../../../server/store/store-ops.ts';
import { T0, account, contact, dedup, device, group, message, remark, session } from './fixtures.ts';
import { commitTx, freshStorePerCase, itNeeding, seqs, type StoreHarness, type SuiteContext } from './harness.ts';
import { CATS, snapshot, type Universe } from './snapshot.ts';

export function durabilityCases(ctx: SuiteContext): void {
  describe('durability', () => {
    let h: StoreHarness;
    let store: AsyncStore;
    freshStorePerCase(ctx, (made) => ((h = made), (store = made.store)));

    const u: Universe = {
      uins: [1, 2, 3],
      sids: ['s1', 's2'],
      deviceIds: ['d1', 'd2'],
      clientMsgIds: ['c1', 'c2', 'c3'],
      groups: ['@@1', '@@2'],
    };

    async function fill(s: AsyncStore): Promise<void> {
      await commitTx(s, [
        { kind: 'putAccount', account: account(1) },
        { kind: 'putAccount', account: account(2, { seq: 4, floor: { 1: 1, 2: 0 }, itemCount: { 1: 2, 2: 1 } }) },
        { kind: 'putSession', session: session('s1', 1) },
        { kind: 'putDevice', device: device(1, 'd2') },
        { kind: 'putDevice', device: device(1, 'd1') },
        { kind: 'putDedup', dedup: dedup(1, 'c1', T0) },
        { kind: 'putDedup', dedup: dedup(1, 'c2', T0 + 1) },
        { kind: 'putGroup', group: group('@@2', [2, 1]) },
        { kind: 'putGroup', group: group('@@1', [1, 2, 3], { seq: 3 }) },
        { kind: 'putRemark', remark: remark(1, 'user3', 'Carol') },
        { kind: 'putRemark', remark: remark(1, 'user2', 'Bob') },
        { kind: 'setMeta', name: 'nextUin', value: 4 },
        { kind: 'setMeta', name: 'nextGroupId', value: 3 },
      ]);
      await commitTx(s, [
        { kind: 'appendItem', item: message(1, 1) },
        { kind: 'appendItem', item: message(1, 2) },
        { kind: 'appendItem', item: contact(1, 3) },
        { kind: 'appendItem', item: message(2, 1) },
        { kind: 'appendItem', item: message(2, 3) },
        { kind: 'pruneItems', uin: 2, category: 1, throughSeq: 1 },
        { kind: 'pruneDedup', uin: 1, before: T0 + 1 },
      ]);
    }

    itNeeding(ctx, 'reopen')('commit then reopen keeps everything', async () => {
      await fill(store);
      const committed = await snapshot(store, u);
      expect(committed['devicesOf 1']).toEqual([device(1, 'd2'), device(1, 'd1')]);
      store = await h.reopen();
      expect(await snapshot(store, u)).toEqual(committed);
      store = await h.reopen();
      expect(await snapshot(store, u)).toEqual(committed);
    });

    itNeeding(ctx, 'crash', 'reopen')('a crash keeps what was committed and loses exactly the open transaction', async () => {
      await fill(store);
      const committed = await snapshot(store, u);
      await store.begin();
      await store.apply([
        { kind: 'putAccount', account: account(3) },
        { kind: 'putAccount', account: account(1, { seq: 50 }) },
        { kind: 'putSession', session: session('s2', 3) },
        { kind: 'putDevice', device: device(3, 'd1') },
        { kind: 'putDedup', dedup: dedup(1, 'c3', T0 + 9) },
        { kind: 'pruneDedup', uin: 1, before: T0 + 100 },
        { kind: 'putGroup', group: group('@@1', [1, 2, 3], { seq: 4 }) },
        { kind: 'putRemark', remark: remark(1, 'user2', 'Robert') },
        { kind: 'appendItem', item: message(1, 4) },
        { kind: 'pruneItems', uin: 1, category: 1, throughSeq: 2 },
        { kind: 'setMeta', name: 'nextUin', value: 5 },
      ]);
      store = await h.crash();
      expect(await snapshot(store, u)).toEqual(committed);
      // The recovered store takes new transactions and keeps them.
      await commitTx(store, [{ kind: 'appendItem', item: message(1, 4) }]);
      store = await h.reopen();
      expect(seqs(await store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([1, 2, 4]);
    });

    itNeeding(ctx, 'crash')('a crash between transactions loses nothing', async () => {
      await fill(store);
      const committed = await snapshot(store, u);
      store = await h.crash();
      expect(await snapshot(store, u)).toEqual(committed);
    });

    itNeeding(ctx, 'reopen')('500 appends in 50 transactions survive a reopen, in order', async () => {
      let seq = 0;
      const expected: LogItem[] = [];
      for (let t = 0; t < 50; t++) {
        const writes: Write[] = [];
        for (let i = 0; i < 10; i++) {
          seq += 1 + (i % 3);
          const item = i % 4 === 3 ? contact(1, seq) : message(1, seq, { Content: `tx ${t} item ${i}` });
          writes.push({ kind: 'appendItem', item });
          expected.push(item);
        }
        writes.push({ kind: 'putAccount', account: account(1, { seq }) });
        await commitTx(store, writes);
      }
      store = await h.reopen();
      for (const category of CATS) {
        const got = await store.read({ kind: 'items', uin: 1, category, afterSeq: 0, limit: 1000 });
        expect(got).toEqual(expected.filter((i) => i.category === category));
      }
      expect((await store.read({ kind: 'account', uin: 1 }))?.seq).toBe(seq);
    });
  });
}
