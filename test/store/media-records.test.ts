// The `media` record of SQLite (schema version 4): a version 3 file opens
// migrated, its records kept, and the upload's reads go by index. What every
// store answers about media records is a part of the store suite
// (suite/media-records.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../server/store/sqlite-schema.ts';
import { SqliteStore } from '../../server/store/sqlite-store.ts';
import { account } from './suite/fixtures.ts';
import { commitTxSync as commitTx } from './suite/harness.ts';
import { media, mediaMessage as message } from './suite/media-records.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-records-'));
  dirs.push(dir);
  return path.join(dir, 'store.db');
}

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
