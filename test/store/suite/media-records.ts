// The `media` records: each store keeps finished uploads by MediaId and by
// (owner, ClientMediaId), sums an account's stored bytes, refuses a second
// record, and answers who holds a message naming a MediaId.
import { describe, expect, it } from 'vitest';
import type { MediaRecord } from '../../../server/media/media-id.ts';
import type { AsyncStore } from '../../../server/store/async-store.ts';
import type { Write } from '../../../server/store/store-ops.ts';
import { account } from './fixtures.ts';
import { commitTx, freshStorePerCase, type StoreHarness, type SuiteContext } from './harness.ts';

export function media(mediaId: string, ownerUin: number, clientMediaId: string, size: number): MediaRecord {
  return { mediaId, ownerUin, clientMediaId, sha256: 'a'.repeat(64), md5: 'b'.repeat(32), size, name: 'photo.png', mediaType: 'pic', createdAt: 5 };
}

export function mediaMessage(uin: number, seq: number, msgId: number, mediaId?: string): Write {
  const data = { MsgId: msgId, NewMsgId: msgId, FromUserName: 'a', ToUserName: 'b', MsgType: 3, Content: '', CreateTime: 1, ClientMsgId: `c${msgId}`, Status: 3, GroupSeq: 0, ...(mediaId ? { MediaId: mediaId } : {}) };
  return { kind: 'appendItem', item: { uin, category: 1, seq, createdAt: seq, data } };
}

export function mediaRecordCases(ctx: SuiteContext): void {
  describe('media records', () => {
    let h: StoreHarness;
    let s: AsyncStore;
    freshStorePerCase(ctx, (made) => ((h = made), (s = made.store)));

    it("keeps a record by MediaId and ClientMediaId, and sums the owner's bytes", async () => {
      await commitTx(s, [{ kind: 'putMedia', media: media('@media_1', 7, 'c1', 100) }, { kind: 'putMedia', media: media('@media_2', 7, 'c2', 50) }, { kind: 'putMedia', media: media('@media_3', 8, 'c1', 9) }]);
      expect(await s.read({ kind: 'media', mediaId: '@media_1' })).toEqual(media('@media_1', 7, 'c1', 100));
      expect(await s.read({ kind: 'media', mediaId: '@media_9' })).toBeUndefined();
      expect((await s.read({ kind: 'mediaByClient', uin: 8, clientMediaId: 'c1' }))?.mediaId).toBe('@media_3');
      expect(await s.read({ kind: 'mediaByClient', uin: 9, clientMediaId: 'c1' })).toBeUndefined();
      expect(await s.read({ kind: 'mediaBytes', uin: 7 })).toBe(150);
      expect(await s.read({ kind: 'mediaBytes', uin: 9 })).toBe(0);
    });

    it('refuses a second record for the same (owner, ClientMediaId) or MediaId, and a rollback forgets a record', async () => {
      await commitTx(s, [{ kind: 'putMedia', media: media('@media_1', 7, 'c1', 100) }]);
      await expect(commitTx(s, [{ kind: 'putMedia', media: media('@media_2', 7, 'c1', 100) }])).rejects.toThrow();
      await expect(commitTx(s, [{ kind: 'putMedia', media: media('@media_1', 8, 'c9', 100) }])).rejects.toThrow();
      await s.begin();
      await s.apply([{ kind: 'putMedia', media: media('@media_5', 7, 'c5', 1) }]);
      await s.rollback();
      expect(await s.read({ kind: 'media', mediaId: '@media_5' })).toBeUndefined();
      expect(await s.read({ kind: 'mediaBytes', uin: 7 })).toBe(100);
    });

    it("answers which message of an account's log names a MediaId", async () => {
      await commitTx(s, [{ kind: 'putAccount', account: account(1) }, mediaMessage(1, 1, 10), mediaMessage(1, 2, 11, '@media_x'), mediaMessage(2, 1, 11, '@media_x')]);
      expect(await s.read({ kind: 'logMedia', uin: 1, msgId: 11 })).toBe('@media_x');
      expect(await s.read({ kind: 'logMedia', uin: 1, msgId: 10 })).toBe('');
      expect(await s.read({ kind: 'logMedia', uin: 1, msgId: 12 })).toBeUndefined();
      expect(await s.read({ kind: 'logHasMedia', uin: 1, mediaId: '@media_x' })).toBe(true);
      expect(await s.read({ kind: 'logHasMedia', uin: 3, mediaId: '@media_x' })).toBe(false);
      // Pruned from the log: no longer the account's to fetch.
      await commitTx(s, [{ kind: 'pruneItems', uin: 1, category: 1, throughSeq: 2 }]);
      expect(await s.read({ kind: 'logHasMedia', uin: 1, mediaId: '@media_x' })).toBe(false);
      expect(await s.read({ kind: 'logMedia', uin: 1, msgId: 11 })).toBeUndefined();
    });
  });
}
