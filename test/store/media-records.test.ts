// The `media` record (schema version 4): each store keeps finished uploads by
// MediaId and by (owner, ClientMediaId), sums an account's stored bytes,
// refuses a second record, and answers who holds a message naming a MediaId.
// A version 3 file opens migrated, its records kept.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { MediaRecord } from '../../server/media/media-id.ts';
import { MemoryStore } from '../../server/store/memory-store.ts';
import { SCHEMA_VERSION } from '../../server/store/sqlite-schema.ts';
import { SqliteStore } from '../../server/store/sqlite-store.ts';
import type { Store } from '../../server/store/store.ts';
import type { Write } from '../../server/store/store-ops.ts';
import { account } from './suite/fixtures.ts';
import { commitTx } from './suite/harness.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-records-'));
  dirs.push(dir);
  return path.join(dir, 'store.db');
}

function media(mediaId: string, ownerUin: number, clientMediaId: string, size: number): MediaRecord {
  return { mediaId, ownerUin, clientMediaId, sha256: 'a'.repeat(64), md5: 'b'.repeat(32), size, name: 'photo.png', mediaType: 'pic', createdAt: 5 };
}

function message(uin: number, seq: number, msgId: number, mediaId?: string): Write {
  const data = { MsgId: msgId, NewMsgId: msgId, FromUserName: 'a', ToUserName: 'b', MsgType: 3, Content: '', CreateTime: 1, ClientMsgId: `c${msgId}`, Status: 3, GroupSeq: 0, ...(mediaId ? { MediaId: mediaId } : {}) };
  return { kind: 'appendItem', item: { uin, category: 1, seq, createdAt: seq, data } };
}

const STORES: Array<[string, () => Store]> = [
  ['memory', () => new MemoryStore({ freeze: true })],
  ['sqlite', () => SqliteStore.open(tempFile())],
];

describe.each(STORES)('media records (%s)', (_name, open) => {
  it('keeps a record by MediaId and ClientMediaId, and sums the owner\'s bytes', () => {
    const s = open();
    commitTx(s, [{ kind: 'putMedia', media: media('@media_1', 7, 'c1', 100) }, { kind: 'putMedia', media: media('@media_2', 7, 'c2', 50) }, { kind: 'putMedia', media: media('@media_3', 8, 'c1', 9) }]);
    expect(s.read({ kind: 'media', mediaId: '@media_1' })).toEqual(media('@media_1', 7, 'c1', 100));
    expect(s.read({ kind: 'media', mediaId: '@media_9' })).toBeUndefined();
    expect(s.read({ kind: 'mediaByClient', uin: 8, clientMediaId: 'c1' })?.mediaId).toBe('@media_3');
    expect(s.read({ kind: 'mediaByClient', uin: 9, clientMediaId: 'c1' })).toBeUndefined();
    expect(s.read({ kind: 'mediaBytes', uin: 7 })).toBe(150);
    expect(s.read({ kind: 'mediaBytes', uin: 9 })).toBe(0);
    s.close();
  });

  it('refuses a second record for the same (owner, ClientMediaId) or MediaId, and a rollback forgets a record', () => {
    const s = open();
    commitTx(s, [{ kind: 'putMedia', media: media('@media_1', 7, 'c1', 100) }]);
    expect(() => commitTx(s, [{ kind: 'putMedia', media: media('@media_2', 7, 'c1', 100) }])).toThrow();
    expect(() => commitTx(s, [{ kind: 'putMedia', media: media('@media_1', 8, 'c9', 100) }])).toThrow();
    s.begin();
    s.apply([{ kind: 'putMedia', media: media('@media_5', 7, 'c5', 1) }]);
    s.rollback();
    expect(s.read({ kind: 'media', mediaId: '@media_5' })).toBeUndefined();
    expect(s.read({ kind: 'mediaBytes', uin: 7 })).toBe(100);
    s.close();
  });

  it('answers which message of an account\'s log names a MediaId', () => {
    const s = open();
    commitTx(s, [{ kind: 'putAccount', account: account(1) }, message(1, 1, 10), message(1, 2, 11, '@media_x'), message(2, 1, 11, '@media_x')]);
    expect(s.read({ kind: 'logMedia', uin: 1, msgId: 11 })).toBe('@media_x');
    expect(s.read({ kind: 'logMedia', uin: 1, msgId: 10 })).toBe('');
    expect(s.read({ kind: 'logMedia', uin: 1, msgId: 12 })).toBeUndefined();
    expect(s.read({ kind: 'logHasMedia', uin: 1, mediaId: '@media_x' })).toBe(true);
    expect(s.read({ kind: 'logHasMedia', uin: 3, mediaId: '@media_x' })).toBe(false);
    // Pruned from the log: no longer the account's to fetch.
    commitTx(s, [{ kind: 'pruneItems', uin: 1, category: 1, throughSeq: 2 }]);
    expect(s.read({ kind: 'logHasMedia', uin: 1, mediaId: '@media_x' })).toBe(false);
    expect(s.read({ kind: 'logMedia', uin: 1, msgId: 11 })).toBeUndefined();
    s.close();
  });
});

describe('SqliteStore schema version 4', () => {
  it('migrates a version 3 file, keeping its records, and then keeps media records', () => {
    const file = tempFile();
    const s = SqliteStore.open(file);
    commitTx(s, [{ kind: 'putAccount', account: account(1) }, message(1, 1, 10)]);
    s.close();
    // Turn it back into what version 3 wrote.
    const db = new Database(file);
    db.exec('DROP TABLE media;');
    db.pragma('user_version = 3');
    db.close();

    const again = SqliteStore.open(file);
    expect(again.pragma('user_version')).toBe(SCHEMA_VERSION);
    expect(again.read({ kind: 'account', uin: 1 })).toEqual(account(1));
    expect(again.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 })).toHaveLength(1);
    commitTx(again, [{ kind: 'putMedia', media: media('@media_1', 1, 'c1', 10) }]);
    again.close();
    const reopened = SqliteStore.open(file);
    expect(reopened.read({ kind: 'media', mediaId: '@media_1' })).toEqual(media('@media_1', 1, 'c1', 10));
    reopened.close();
    // The upload's reads go by index, never a scan of the table.
    const check = new Database(file, { readonly: true });
    const plan = (sql: string): string =>
      check
        .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...Array.from(sql.matchAll(/\?/g), () => 1))
        .map((r) => r.detail)
        .join('; ');
    expect(plan('SELECT * FROM media WHERE owner_uin = ? AND client_media_id = ?')).not.toMatch(/SCAN/);
    expect(plan('SELECT sum(size) FROM media WHERE owner_uin = ?')).not.toMatch(/SCAN/);
    expect(plan("SELECT 1 FROM items WHERE uin = ? AND category = 1 AND json_extract(data, '$.MediaId') = ?")).toMatch(/USING/);
    check.close();
  });
});
