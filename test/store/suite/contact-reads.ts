// The reads behind the contact endpoints: one user's remark (and pin), the
// rooms one is in by id, the accounts one wrote to and the users one
// remarked by uin, and room membership as rooms gain and lose members.
import { describe, expect, it } from 'vitest';
import type { Remark } from '../../../server/core/model.ts';
import type { AsyncStore } from '../../../server/store/async-store.ts';
import { account, group, remark } from './fixtures.ts';
import { commitTx, freshStorePerCase, type StoreHarness, type SuiteContext } from './harness.ts';

export function contactReadCases(ctx: SuiteContext): void {
  describe('contact reads', () => {
    let h: StoreHarness;
    let store: AsyncStore;
    freshStorePerCase(ctx, (made) => ((h = made), (store = made.store)));

    const pinned = (uin: number, target: string, remarkName: string): Remark => ({ uin, target, remarkName, pinned: true });
    const r3 = group('@@3', [1, 2]);
    const r12 = group('@@12', [2, 1]);
    const r5 = group('@@5', [3]);

    async function fill(): Promise<void> {
      await commitTx(store, [
        ...[1, 2, 3, 4].map((uin) => ({ kind: 'putAccount' as const, account: account(uin) })),
        { kind: 'putGroup', group: r12 },
        { kind: 'putGroup', group: r3 },
        { kind: 'putGroup', group: r5 },
        { kind: 'putPeer', uin: 1, peer: 3 },
        { kind: 'putPeer', uin: 1, peer: 2 },
        { kind: 'putPeer', uin: 2, peer: 1 },
        { kind: 'putRemark', remark: pinned(1, 'user4', 'Dee') },
        { kind: 'putRemark', remark: remark(1, '@@12', 'Room') },
        { kind: 'putRemark', remark: remark(1, 'user9', 'Nobody') },
        { kind: 'putRemark', remark: remark(1, 'user2', 'Bee') },
      ]);
    }

    it('remark: what one account set on one contact, its pin included', async () => {
      await fill();
      expect(await store.read({ kind: 'remark', uin: 1, target: 'user4' })).toEqual(pinned(1, 'user4', 'Dee'));
      expect(await store.read({ kind: 'remark', uin: 1, target: 'user2' })).toEqual(remark(1, 'user2', 'Bee'));
      expect(await store.read({ kind: 'remark', uin: 1, target: '@@12' })).toEqual(remark(1, '@@12', 'Room'));
      expect(await store.read({ kind: 'remark', uin: 1, target: 'user3' })).toBeUndefined();
      expect(await store.read({ kind: 'remark', uin: 2, target: 'user4' })).toBeUndefined();
      // Unpinned again: the record reads back without the flag.
      await commitTx(store, [{ kind: 'putRemark', remark: remark(1, 'user4', 'Dee') }]);
      expect(await store.read({ kind: 'remark', uin: 1, target: 'user4' })).toEqual(remark(1, 'user4', 'Dee'));
    });

    it('roomsAfter: a member’s rooms by numeric id from a cursor', async () => {
      await fill();
      const ids = async (uin: number, afterId: number, limit: number): Promise<string[]> =>
        (await store.read({ kind: 'roomsAfter', uin, afterId, limit })).map((g) => g.userName);
      expect(await ids(1, 0, 10)).toEqual(['@@3', '@@12']);
      expect(await ids(1, 3, 10)).toEqual(['@@12']);
      expect(await ids(1, 0, 1)).toEqual(['@@3']);
      expect(await ids(1, 12, 10)).toEqual([]);
      expect(await ids(3, 0, 10)).toEqual(['@@5']);
      expect(await ids(4, 0, 10)).toEqual([]);
      expect((await store.read({ kind: 'roomsAfter', uin: 2, afterId: 3, limit: 10 }))[0]).toEqual(r12);
    });

    it('peersAfter and remarkedAfter: by uin from a cursor; rooms and unknown users are not remarked users', async () => {
      await fill();
      expect(await store.read({ kind: 'peersAfter', uin: 1, afterUin: 0, limit: 10 })).toEqual([2, 3]);
      expect(await store.read({ kind: 'peersAfter', uin: 1, afterUin: 2, limit: 10 })).toEqual([3]);
      expect(await store.read({ kind: 'peersAfter', uin: 1, afterUin: 0, limit: 1 })).toEqual([2]);
      expect(await store.read({ kind: 'peersAfter', uin: 3, afterUin: 0, limit: 10 })).toEqual([]);
      expect(await store.read({ kind: 'remarkedAfter', uin: 1, afterUin: 0, limit: 10 })).toEqual([
        { uin: 2, remark: remark(1, 'user2', 'Bee') },
        { uin: 4, remark: pinned(1, 'user4', 'Dee') },
      ]);
      expect(await store.read({ kind: 'remarkedAfter', uin: 1, afterUin: 2, limit: 10 })).toEqual([{ uin: 4, remark: pinned(1, 'user4', 'Dee') }]);
      expect(await store.read({ kind: 'remarkedAfter', uin: 1, afterUin: 0, limit: 1 })).toEqual([{ uin: 2, remark: remark(1, 'user2', 'Bee') }]);
      // A user created later, whose name was remarked before, is a remarked user from then on.
      await commitTx(store, [{ kind: 'putAccount', account: account(9) }]);
      expect((await store.read({ kind: 'remarkedAfter', uin: 1, afterUin: 4, limit: 10 })).map((r) => r.uin)).toEqual([9]);
    });

    it('a member who leaves a room no longer lists it, is no longer in its owner’s rooms, and rejoins last', async () => {
      await fill();
      const r3left = { ...r3, members: [1], seq: 1 };
      await commitTx(store, [{ kind: 'putGroup', group: r3left }]);
      expect(await store.read({ kind: 'groupsOf', uin: 2, limit: 10 })).toEqual([r12]);
      expect(await store.read({ kind: 'roomsAfter', uin: 2, afterId: 0, limit: 10 })).toEqual([r12]);
      expect(await store.read({ kind: 'inRoomOf', member: 2, owner: 1 })).toBe(false);
      expect(await store.read({ kind: 'inRoomOf', member: 1, owner: 2 })).toBe(true);
      expect(await store.read({ kind: 'groupsOf', uin: 1, limit: 10 })).toEqual([r12, r3left]);
      const r3back = { ...r3left, members: [1, 2], seq: 2 };
      await commitTx(store, [{ kind: 'putGroup', group: r3back }]);
      expect(await store.read({ kind: 'groupsOf', uin: 2, limit: 10 })).toEqual([r12, r3back]);
      expect(await store.read({ kind: 'roomsAfter', uin: 2, afterId: 0, limit: 10 })).toEqual([r3back, r12]);
      expect(await store.read({ kind: 'inRoomOf', member: 2, owner: 1 })).toBe(true);
      // Undone by a rollback, membership and all.
      await store.begin();
      await store.apply([{ kind: 'putGroup', group: { ...r3back, members: [2], ownerUin: 2, seq: 3 } }]);
      expect(await store.read({ kind: 'groupsOf', uin: 1, limit: 10 })).toEqual([r12]);
      await store.rollback();
      expect(await store.read({ kind: 'groupsOf', uin: 1, limit: 10 })).toEqual([r12, r3back]);
      expect(await store.read({ kind: 'inRoomOf', member: 1, owner: 1 })).toBe(true);
    });
  });
}
