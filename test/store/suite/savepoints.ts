// One apply is all or nothing (a savepoint per command): a write that throws
// undoes the writes of its own apply, the transaction stays open with the
// applies before it, and the records the store caches are not fooled. Also
// the records of issue 11: device deletion, who wrote to whom, shared rooms.
import { describe, expect, it } from 'vitest';
import type { AsyncStore } from '../../../server/store/async-store.ts';
import { account, device, group, message, session } from './fixtures.ts';
import { commitTx, freshStorePerCase, itNeeding, seqs, type StoreHarness, type SuiteContext } from './harness.ts';
import { snapshot, type Universe } from './snapshot.ts';

const U: Universe = { uins: [1, 2, 3], sids: ['s1', 's2'], deviceIds: ['d1', 'd2'], clientMsgIds: [], groups: ['@@1'] };

export function savepointCases(ctx: SuiteContext): void {
  describe('one apply is all or nothing', () => {
    let h: StoreHarness;
    let store: AsyncStore;
    freshStorePerCase(ctx, (made) => ((h = made), (store = made.store)));

    itNeeding(ctx, 'reopen')('an apply that throws part-way leaves no trace of its writes; earlier applies stay and commit', async () => {
      await commitTx(store, [
        { kind: 'putAccount', account: account(1) },
        { kind: 'appendItem', item: message(1, 5) },
      ]);
      await store.begin();
      await store.apply([{ kind: 'putAccount', account: account(2) }]);
      const before = await snapshot(store, U);
      await expect(
        store.apply([
          { kind: 'putAccount', account: account(1, { seq: 9, nickName: 'changed' }) },
          { kind: 'putSession', session: session('s1', 1) },
          { kind: 'putDevice', device: device(1, 'd1') },
          { kind: 'appendItem', item: message(1, 6) },
          { kind: 'appendItem', item: message(1, 3) }, // out of order: throws
        ]),
      ).rejects.toThrow(/out of order/);
      expect(await snapshot(store, U)).toEqual(before);
      // The transaction goes on: more applies, then a commit of everything but the failed apply.
      await store.apply([{ kind: 'putAccount', account: account(3) }]);
      await store.commit();
      store = await h.reopen();
      expect(await store.read({ kind: 'account', uin: 1 })).toEqual(account(1));
      expect(await store.read({ kind: 'account', uin: 2 })).toEqual(account(2));
      expect(await store.read({ kind: 'account', uin: 3 })).toEqual(account(3));
      expect(await store.read({ kind: 'session', sid: 's1' })).toBeUndefined();
      expect(seqs(await store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([5]);
    });

    it('a rollback after a failed apply drops the earlier applies too', async () => {
      await store.begin();
      await store.apply([{ kind: 'putAccount', account: account(1) }]);
      await expect(store.apply([{ kind: 'putAccount', account: account(2, { userName: 'user1' }) }])).rejects.toThrow();
      await store.rollback();
      expect(await store.read({ kind: 'account', uin: 1 })).toBeUndefined();
      expect(await store.read({ kind: 'account', uin: 2 })).toBeUndefined();
    });

    itNeeding(ctx, 'reopen')('deleteDevice forgets a device (devicesOf keeps the others in order); undone by a rollback', async () => {
      await commitTx(store, [
        { kind: 'putDevice', device: device(1, 'd1') },
        { kind: 'putDevice', device: device(1, 'd2', { retiredSids: ['abc', 'x9'] }) },
        { kind: 'putDevice', device: device(1, 'd3') },
      ]);
      expect((await store.read({ kind: 'device', uin: 1, deviceId: 'd2' }))!.retiredSids).toEqual(['abc', 'x9']);
      await store.begin();
      await store.apply([{ kind: 'deleteDevice', uin: 1, deviceId: 'd2' }]);
      expect(await store.read({ kind: 'device', uin: 1, deviceId: 'd2' })).toBeUndefined();
      expect((await store.read({ kind: 'devicesOf', uin: 1 })).map((d) => d.deviceId)).toEqual(['d1', 'd3']);
      await store.rollback();
      expect((await store.read({ kind: 'devicesOf', uin: 1 })).map((d) => d.deviceId)).toEqual(['d1', 'd2', 'd3']);
      await commitTx(store, [
        { kind: 'deleteDevice', uin: 1, deviceId: 'd1' },
        { kind: 'deleteDevice', uin: 1, deviceId: 'nobody' },
        { kind: 'putDevice', device: device(1, 'd1') },
      ]);
      store = await h.reopen();
      expect((await store.read({ kind: 'devicesOf', uin: 1 })).map((d) => d.deviceId)).toEqual(['d2', 'd3', 'd1']);
    });

    itNeeding(ctx, 'reopen')('peer records are directed; inRoomOf follows room membership and ownership', async () => {
      await commitTx(store, [
        { kind: 'putPeer', uin: 1, peer: 2 },
        { kind: 'putPeer', uin: 1, peer: 2 },
        { kind: 'putGroup', group: group('@@1', [2, 3]) },
      ]);
      store = await h.reopen();
      expect(await store.read({ kind: 'peers', a: 1, b: 2 })).toEqual({ aToB: true, bToA: false });
      expect(await store.read({ kind: 'peers', a: 2, b: 1 })).toEqual({ aToB: false, bToA: true });
      expect(await store.read({ kind: 'peers', a: 1, b: 3 })).toEqual({ aToB: false, bToA: false });
      expect(await store.read({ kind: 'inRoomOf', member: 3, owner: 2 })).toBe(true);
      expect(await store.read({ kind: 'inRoomOf', member: 2, owner: 2 })).toBe(true);
      expect(await store.read({ kind: 'inRoomOf', member: 2, owner: 3 })).toBe(false);
      expect(await store.read({ kind: 'inRoomOf', member: 1, owner: 2 })).toBe(false);
      expect(await store.read({ kind: 'inRoomOf', member: 9, owner: 2 })).toBe(false);
    });
  });
}
