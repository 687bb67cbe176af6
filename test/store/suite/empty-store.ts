// A new store answers every read with nothing, and its counters start at 0.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../server/store/store.ts';
import type { StoreHarness } from './harness.ts';
import { METAS } from './snapshot.ts';

export function emptyStoreCases(make: () => StoreHarness): void {
  describe('empty store', () => {
    let h: StoreHarness;
    let store: Store;

    beforeEach(() => {
      h = make();
      store = h.store;
    });
    afterEach(() => {
      h.cleanup();
    });

    it('answers every read kind with nothing', () => {
      expect(store.read({ kind: 'account', uin: 1 })).toBeUndefined();
      expect(store.read({ kind: 'accountByName', userName: 'user1' })).toBeUndefined();
      expect(store.read({ kind: 'session', sid: 's1' })).toBeUndefined();
      expect(store.read({ kind: 'device', uin: 1, deviceId: 'd1' })).toBeUndefined();
      expect(store.read({ kind: 'devicesOf', uin: 1 })).toEqual([]);
      expect(store.read({ kind: 'dedup', uin: 1, clientMsgId: 'c1' })).toBeUndefined();
      expect(store.read({ kind: 'group', userName: '@@g1' })).toBeUndefined();
      expect(store.read({ kind: 'groupsOf', uin: 1, limit: 10 })).toEqual([]);
      expect(store.read({ kind: 'remarksOf', uin: 1, limit: 10 })).toEqual([]);
      expect(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 })).toEqual([]);
    });

    it('meta defaults to 0', () => {
      for (const name of METAS) expect(store.read({ kind: 'meta', name })).toBe(0);
    });
  });
}
