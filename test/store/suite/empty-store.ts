// A new store answers every read with nothing, and its counters start at 0.
import { describe, expect, it } from 'vitest';
import type { AsyncStore } from '../../../server/store/async-store.ts';
import { freshStorePerCase, type StoreHarness, type SuiteContext } from './harness.ts';
import { METAS } from './snapshot.ts';

export function emptyStoreCases(ctx: SuiteContext): void {
  describe('empty store', () => {
    let h: StoreHarness;
    let store: AsyncStore;
    freshStorePerCase(ctx, (made) => ((h = made), (store = made.store)));

    it('answers every read kind with nothing', async () => {
      expect(await store.read({ kind: 'account', uin: 1 })).toBeUndefined();
      expect(await store.read({ kind: 'accountByName', userName: 'user1' })).toBeUndefined();
      expect(await store.read({ kind: 'session', sid: 's1' })).toBeUndefined();
      expect(await store.read({ kind: 'device', uin: 1, deviceId: 'd1' })).toBeUndefined();
      expect(await store.read({ kind: 'devicesOf', uin: 1 })).toEqual([]);
      expect(await store.read({ kind: 'dedup', uin: 1, clientMsgId: 'c1' })).toBeUndefined();
      expect(await store.read({ kind: 'group', userName: '@@g1' })).toBeUndefined();
      expect(await store.read({ kind: 'groupsOf', uin: 1, limit: 10 })).toEqual([]);
      expect(await store.read({ kind: 'remarksOf', uin: 1, limit: 10 })).toEqual([]);
      expect(await store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 })).toEqual([]);
    });

    it('meta defaults to 0', async () => {
      for (const name of METAS) expect(await store.read({ kind: 'meta', name })).toBe(0);
    });
  });
}
