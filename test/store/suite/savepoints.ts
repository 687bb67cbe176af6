// One apply is all or nothing (a savepoint per command): a write that throws
// undoes the writes of its own apply, the transaction stays open with the
// applies before it, and the records the store caches are not fooled. Also
// the records of issue 11: device deletion, who wrote to whom, shared rooms.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../server/store/store.ts';
import { account, device, group, message, session } from './fixtures.ts';
import { commitTx, seqs, type StoreHarness } from './harness.ts';
import { snapshot, type Universe } from './snapshot.ts';

const U: Universe = { uins: [1, 2, 3], sids: ['s1', 's2'], deviceIds: ['d1', 'd2'], clientMsgIds: [], groups: ['@@1'] };

export function savepointCases(make: () => StoreHarness): void {
  describe('one apply is all or nothing', () => {
    let h: StoreHarness;
    let store: Store;

    beforeEach(() => {
      h = make();
      store = h.store;
    });
    afterEach(() => {
      h.cleanup();
    });

    it('an apply that throws part-way leaves no trace of its writes; earlier applies stay and commit', () => {
      commitTx(store, [
        { kind: 'putAccount', account: account(1) },
        { kind: 'appendItem', item: message(1, 5) },
      ]);
      store.begin();
      store.apply([{ kind: 'putAccount', account: account(2) }]);
      const before = snapshot(store, U);
      expect(() =>
        store.apply([
          { kind: 'putAccount', account: account(1, { seq: 9, nickName: 'changed' }) },
          { kind: 'putSession', session: session('s1', 1) },
          { kind: 'putDevice', device: device(1, 'd1') },
          { kind: 'appendItem', item: message(1, 6) },
          { kind: 'appendItem', item: message(1, 3) }, // out of order: throws
        ]),
      ).toThrow(/out of order/);
      expect(snapshot(store, U)).toEqual(before);
      // The transaction goes on: more applies, then a commit of everything but the failed apply.
      store.apply([{ kind: 'putAccount', account: account(3) }]);
      store.commit();
      store = h.reopen();
      expect(store.read({ kind: 'account', uin: 1 })).toEqual(account(1));
      expect(store.read({ kind: 'account', uin: 2 })).toEqual(account(2));
      expect(store.read({ kind: 'account', uin: 3 })).toEqual(account(3));
      expect(store.read({ kind: 'session', sid: 's1' })).toBeUndefined();
      expect(seqs(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 }))).toEqual([5]);
    });

    it('a rollback after a failed apply drops the earlier applies too', () => {
      store.begin();
      store.apply([{ kind: 'putAccount', account: account(1) }]);
      expect(() => store.apply([{ kind: 'putAccount', account: account(2, { userName: 'user1' }) }])).toThrow();
      store.rollback();
      expect(store.read({ kind: 'account', uin: 1 })).toBeUndefined();
      expect(store.read({ kind: 'account', uin: 2 })).toBeUndefined();
    });

    it('deleteDevice forgets a device (devicesOf keeps the others in order); undone by a rollback', () => {
      commitTx(store, [
        { kind: 'putDevice', device: device(1, 'd1') },
        { kind: 'putDevice', device: device(1, 'd2', { retiredSids: ['abc', 'x9'] }) },
        { kind: 'putDevice', device: device(1, 'd3') },
      ]);
      expect(store.read({ kind: 'device', uin: 1, deviceId: 'd2' })!.retiredSids).toEqual(['abc', 'x9']);
      store.begin();
      store.apply([{ kind: 'deleteDevice', uin: 1, deviceId: 'd2' }]);
      expect(store.read({ kind: 'device', uin: 1, deviceId: 'd2' })).toBeUndefined();
      expect(store.read({ kind: 'devicesOf', uin: 1 }).map((d) => d.deviceId)).toEqual(['d1', 'd3']);
      store.rollback();
      expect(store.read({ kind: 'devicesOf', uin: 1 }).map((d) => d.deviceId)).toEqual(['d1', 'd2', 'd3']);
      commitTx(store, [
        { kind: 'deleteDevice', uin: 1, deviceId: 'd1' },
        { kind: 'deleteDevice', uin: 1, deviceId: 'nobody' },
        { kind: 'putDevice', device: device(1, 'd1') },
      ]);
      store = h.reopen();
      expect(store.read({ kind: 'devicesOf', uin: 1 }).map((d) => d.deviceId)).toEqual(['d2', 'd3', 'd1']);
    });

    it('peer records are directed; inRoomOf follows room membership and ownership', () => {
      commitTx(store, [
        { kind: 'putPeer', uin: 1, peer: 2 },
        { kind: 'putPeer', uin: 1, peer: 2 },
        { kind: 'putGroup', group: group('@@1', [2, 3]) },
      ]);
      store = h.reopen();
      expect(store.read({ kind: 'peers', a: 1, b: 2 })).toEqual({ aToB: true, bToA: false });
      expect(store.read({ kind: 'peers', a: 2, b: 1 })).toEqual({ aToB: false, bToA: true });
      expect(store.read({ kind: 'peers', a: 1, b: 3 })).toEqual({ aToB: false, bToA: false });
      expect(store.read({ kind: 'inRoomOf', member: 3, owner: 2 })).toBe(true);
      expect(store.read({ kind: 'inRoomOf', member: 2, owner: 2 })).toBe(true);
      expect(store.read({ kind: 'inRoomOf', member: 2, owner: 3 })).toBe(false);
      expect(store.read({ kind: 'inRoomOf', member: 1, owner: 2 })).toBe(false);
      expect(store.read({ kind: 'inRoomOf', member: 9, owner: 2 })).toBe(false);
    });
  });
}
