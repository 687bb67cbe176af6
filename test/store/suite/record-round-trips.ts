// Every record kind comes back exactly as it was put, and the list reads
// (devicesOf, groupsOf, remarksOf, accountsAfter) keep their documented order.
import { describe, expect, it } from 'vitest';
import type { AsyncStore } from '../../../server/store/async-store.ts';
import { T0, account, dedup, device, group, remark, session } from './fixtures.ts';
import { commitTx, freshStorePerCase, type StoreHarness, type SuiteContext } from './harness.ts';

export function recordRoundTripCases(ctx: SuiteContext): void {
  describe('records round-trip exactly', () => {
    let h: StoreHarness;
    let store: AsyncStore;
    freshStorePerCase(ctx, (made) => ((h = made), (store = made.store)));

    it('accountsAfter: uin order from a cursor, limited', async () => {
      await commitTx(store, [3, 1, 7, 2, 5].map((uin) => ({ kind: 'putAccount' as const, account: account(uin) })));
      const uins = async (after: number, limit: number): Promise<number[]> => (await store.read({ kind: 'accountsAfter', afterUin: after, limit })).map((a) => a.uin);
      expect(await uins(0, 10)).toEqual([1, 2, 3, 5, 7]);
      expect(await uins(0, 2)).toEqual([1, 2]);
      expect(await uins(2, 2)).toEqual([3, 5]);
      expect(await uins(5, 10)).toEqual([7]);
      expect(await uins(7, 10)).toEqual([]);
      expect((await store.read({ kind: 'accountsAfter', afterUin: 2, limit: 1 }))[0]).toEqual(account(3));
    });

    it('accounts, by uin and by name', async () => {
      const a = account(7, {
        nickName: 'Zoë 🐼 "quoted"',
        seq: 2 ** 40,
        floor: { 1: 3, 2: 4 },
        itemCount: { 1: 5, 2: 6 },
        lastPrunedAt: T0 + 99,
      });
      const b = account(4_294_967_295, { userName: 'max_uin-1' });
      await commitTx(store, [
        { kind: 'putAccount', account: a },
        { kind: 'putAccount', account: b },
      ]);
      expect(await store.read({ kind: 'account', uin: 7 })).toEqual(a);
      expect(await store.read({ kind: 'accountByName', userName: 'user7' })).toEqual(a);
      expect(await store.read({ kind: 'account', uin: 4_294_967_295 })).toEqual(b);
      expect(await store.read({ kind: 'accountByName', userName: 'max_uin-1' })).toEqual(b);
      expect(await store.read({ kind: 'accountByName', userName: 'USER7' })).toBeUndefined();
      expect(await store.read({ kind: 'account', uin: 8 })).toBeUndefined();
    });

    it('a second put replaces the account', async () => {
      await commitTx(store, [{ kind: 'putAccount', account: account(1) }]);
      const next = account(1, { seq: 10, floor: { 1: 2, 2: 0 }, itemCount: { 1: 8, 2: 1 }, lastPrunedAt: T0 + 5 });
      await commitTx(store, [{ kind: 'putAccount', account: next }]);
      expect(await store.read({ kind: 'account', uin: 1 })).toEqual(next);
      expect(await store.read({ kind: 'accountByName', userName: 'user1' })).toEqual(next);
    });

    it('sessions', async () => {
      const s = session('a'.repeat(32), 1, { state: 'replaced', prevSkey: '@crypt_old', skeyAt: T0 + 1 });
      await commitTx(store, [{ kind: 'putSession', session: s }]);
      expect(await store.read({ kind: 'session', sid: s.sid })).toEqual(s);
      const out = { ...s, state: 'loggedout' as const, skey: '@crypt_new', prevSkey: s.skey };
      await commitTx(store, [{ kind: 'putSession', session: out }]);
      expect(await store.read({ kind: 'session', sid: s.sid })).toEqual(out);
      expect(await store.read({ kind: 'session', sid: 'other' })).toBeUndefined();
      // Deleting forgets it; a rollback of a delete brings it back.
      await store.begin();
      await store.apply([{ kind: 'deleteSession', sid: s.sid }]);
      expect(await store.read({ kind: 'session', sid: s.sid })).toBeUndefined();
      await store.rollback();
      expect(await store.read({ kind: 'session', sid: s.sid })).toEqual(out);
      await commitTx(store, [{ kind: 'deleteSession', sid: s.sid }, { kind: 'deleteSession', sid: 'never-there' }]);
      expect(await store.read({ kind: 'session', sid: s.sid })).toBeUndefined();
    });

    it('devices, and devicesOf in insertion order', async () => {
      const d2 = device(1, 'd2');
      const d1 = device(1, 'd1', { acked: { 1: 17, 2: 3 } });
      const d3 = device(1, 'd3', { sid: '' });
      const other = device(2, 'd1');
      await commitTx(store, [
        { kind: 'putDevice', device: d2 },
        { kind: 'putDevice', device: d1 },
        { kind: 'putDevice', device: other },
        { kind: 'putDevice', device: d3 },
      ]);
      expect(await store.read({ kind: 'device', uin: 1, deviceId: 'd1' })).toEqual(d1);
      expect(await store.read({ kind: 'device', uin: 2, deviceId: 'd1' })).toEqual(other);
      expect(await store.read({ kind: 'device', uin: 2, deviceId: 'd2' })).toBeUndefined();
      expect(await store.read({ kind: 'devicesOf', uin: 1 })).toEqual([d2, d1, d3]);
      expect(await store.read({ kind: 'devicesOf', uin: 2 })).toEqual([other]);
      // An update keeps the device's place.
      const d2b = { ...d2, acked: { 1: 40, 2: 41 }, lastSeenAt: T0 + 40 };
      await commitTx(store, [{ kind: 'putDevice', device: d2b }]);
      expect(await store.read({ kind: 'devicesOf', uin: 1 })).toEqual([d2b, d1, d3]);
    });

    it('dedup records, per sender', async () => {
      const r = dedup(1, 'client-1', T0 + 1);
      await commitTx(store, [{ kind: 'putDedup', dedup: r }]);
      expect(await store.read({ kind: 'dedup', uin: 1, clientMsgId: 'client-1' })).toEqual(r);
      expect(await store.read({ kind: 'dedup', uin: 2, clientMsgId: 'client-1' })).toBeUndefined();
      expect(await store.read({ kind: 'dedup', uin: 1, clientMsgId: 'client-2' })).toBeUndefined();
    });

    it('groups, and groupsOf in join order', async () => {
      const g2 = group('@@2', [1, 2]);
      const g1 = group('@@1', [3, 1]);
      const g3 = group('@@3', [2, 3]);
      await commitTx(store, [
        { kind: 'putGroup', group: g2 },
        { kind: 'putGroup', group: g1 },
      ]);
      await commitTx(store, [{ kind: 'putGroup', group: g3 }]);
      expect(await store.read({ kind: 'group', userName: '@@1' })).toEqual(g1);
      expect(await store.read({ kind: 'groupsOf', uin: 1, limit: 10 })).toEqual([g2, g1]);
      expect(await store.read({ kind: 'groupsOf', uin: 2, limit: 10 })).toEqual([g2, g3]);
      expect(await store.read({ kind: 'groupsOf', uin: 3, limit: 10 })).toEqual([g1, g3]);
      expect(await store.read({ kind: 'groupsOf', uin: 3, limit: 1 })).toEqual([g1]);
      expect(await store.read({ kind: 'groupsOf', uin: 4, limit: 10 })).toEqual([]);
    });

    it('a group update keeps join order; a later joiner gets it last', async () => {
      const g1 = group('@@1', [1, 2]);
      const g2 = group('@@2', [1, 3]);
      await commitTx(store, [
        { kind: 'putGroup', group: g1 },
        { kind: 'putGroup', group: g2 },
      ]);
      const g1b = { ...g1, seq: 5, topic: 'renamed', members: [1, 2, 3] };
      await commitTx(store, [{ kind: 'putGroup', group: g1b }]);
      expect(await store.read({ kind: 'group', userName: '@@1' })).toEqual(g1b);
      expect(await store.read({ kind: 'groupsOf', uin: 1, limit: 10 })).toEqual([g1b, g2]);
      expect(await store.read({ kind: 'groupsOf', uin: 3, limit: 10 })).toEqual([g2, g1b]);
      // A seq bump with the same members changes nothing else.
      const g1c = { ...g1b, seq: 6 };
      await commitTx(store, [{ kind: 'putGroup', group: g1c }]);
      expect(await store.read({ kind: 'groupsOf', uin: 3, limit: 10 })).toEqual([g2, g1c]);
    });

    it('remarks in insertion order; an update keeps its place', async () => {
      const rb = remark(1, 'user2', 'Bob');
      const ra = remark(1, 'user3', 'Alice');
      const rg = remark(1, '@@9', 'Family 家');
      await commitTx(store, [
        { kind: 'putRemark', remark: rb },
        { kind: 'putRemark', remark: ra },
        { kind: 'putRemark', remark: remark(2, 'user1', 'Me') },
        { kind: 'putRemark', remark: rg },
      ]);
      expect(await store.read({ kind: 'remarksOf', uin: 1, limit: 10 })).toEqual([rb, ra, rg]);
      expect(await store.read({ kind: 'remarksOf', uin: 1, limit: 2 })).toEqual([rb, ra]);
      const rb2 = remark(1, 'user2', 'Robert');
      await commitTx(store, [{ kind: 'putRemark', remark: rb2 }]);
      expect(await store.read({ kind: 'remarksOf', uin: 1, limit: 10 })).toEqual([rb2, ra, rg]);
      expect(await store.read({ kind: 'remarksOf', uin: 2, limit: 10 })).toEqual([remark(2, 'user1', 'Me')]);
    });

    it('meta counters', async () => {
      await commitTx(store, [
        { kind: 'setMeta', name: 'nextUin', value: 100_000 },
        { kind: 'setMeta', name: 'nextMsgId', value: 2 ** 50 },
      ]);
      await commitTx(store, [{ kind: 'setMeta', name: 'nextUin', value: 100_001 }]);
      expect(await store.read({ kind: 'meta', name: 'nextUin' })).toBe(100_001);
      expect(await store.read({ kind: 'meta', name: 'nextMsgId' })).toBe(2 ** 50);
      expect(await store.read({ kind: 'meta', name: 'nextGroupId' })).toBe(0);
    });
  });
}
