// Schema version 2 (issue 11): a version 1 file opens and is migrated in
// place, its records kept; the new reads use indexes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../server/store/sqlite-schema.ts';
import { SqliteStore } from '../../server/store/sqlite-store.ts';
import { account, device, group } from './suite/fixtures.ts';
import { commitTxSync as commitTx } from './suite/harness.ts';
import type { Write } from '../../server/store/store-ops.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlite-migration-'));
  dirs.push(dir);
  return path.join(dir, 'store.db');
}

describe('SqliteStore schema version 2', () => {
  it('migrates a version 1 file, keeping its records', () => {
    const file = tempFile();
    const s = SqliteStore.open(file);
    commitTx(s, [
      { kind: 'putAccount', account: account(1, { lastEvictedAt: 0 }) },
      { kind: 'putDevice', device: device(1, 'd1') },
    ]);
    s.close();
    // Turn it back into what version 1 wrote.
    const db = new Database(file);
    db.exec('DROP TABLE media; DROP TABLE peers; ALTER TABLE accounts DROP COLUMN last_evicted_at; ALTER TABLE devices DROP COLUMN retired_sids;');
    db.pragma('user_version = 1');
    db.close();

    const again = SqliteStore.open(file);
    expect(again.pragma('user_version')).toBe(SCHEMA_VERSION);
    expect(again.read({ kind: 'account', uin: 1 })).toEqual(account(1));
    expect(again.read({ kind: 'device', uin: 1, deviceId: 'd1' })).toEqual(device(1, 'd1'));
    commitTx(again, [{ kind: 'putPeer', uin: 1, peer: 2 }]);
    expect(again.read({ kind: 'peers', a: 1, b: 2 })).toEqual({ aToB: true, bToA: false });
    again.close();
  });

  it('answers peers and inRoomOf by index', () => {
    const file = tempFile();
    const s = SqliteStore.open(file);
    commitTx(s, [{ kind: 'putGroup', group: group('@@1', [1, 2]) }]);
    s.close();
    const db = new Database(file, { readonly: true });
    const plan = (sql: string): string =>
      db
        .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...Array.from(sql.matchAll(/\?/g), () => 1))
        .map((r) => r.detail)
        .join('; ');
    expect(plan('SELECT uin FROM peers WHERE uin = ? AND peer = ? UNION ALL SELECT uin FROM peers WHERE uin = ? AND peer = ?')).not.toMatch(/SCAN/);
    expect(
      plan('SELECT 1 FROM group_members m JOIN "groups" g ON g.user_name = m.user_name WHERE m.uin = ? AND g.owner_uin = ? LIMIT 1'),
    ).not.toMatch(/SCAN/);
    db.close();
  });

  it('moves a version 2 file\'s log items into the insertion-ordered table of version 3, keeping them, and pages them by index', () => {
    const file = tempFile();
    const s = SqliteStore.open(file);
    const item = (uin: number, seq: number): Write => ({ kind: 'appendItem', item: { uin, category: 1, seq, createdAt: seq, data: { MsgId: seq, Content: `m${uin}-${seq}` } } as never });
    commitTx(s, [item(1, 1), item(2, 1), item(1, 2), item(2, 2), item(1, 3)]);
    const before = s.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 });
    s.close();
    // Turn the items back into what version 2 wrote: clustered by the log's key.
    const db = new Database(file);
    db.exec(`DROP TABLE media; CREATE TABLE items_v2 (uin INTEGER NOT NULL, category INTEGER NOT NULL, seq INTEGER NOT NULL, created_at INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (uin, category, seq)) WITHOUT ROWID;
      INSERT INTO items_v2 SELECT uin, category, seq, created_at, data FROM items; DROP TABLE items; ALTER TABLE items_v2 RENAME TO items;`);
    db.pragma('user_version = 2');
    db.close();

    const again = SqliteStore.open(file);
    expect(again.pragma('user_version')).toBe(SCHEMA_VERSION);
    expect(again.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 })).toEqual(before);
    expect(again.read({ kind: 'items', uin: 2, category: 1, afterSeq: 1, limit: 10 }).map((i) => i.seq)).toEqual([2]);
    commitTx(again, [item(2, 3)]);
    again.close();
    const check = new Database(file, { readonly: true });
    const sql = check.prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'items'").get()!.sql;
    expect(sql).not.toMatch(/WITHOUT ROWID/);
    const plan = check
      .prepare<[number, number, number], { detail: string }>('EXPLAIN QUERY PLAN SELECT seq, created_at, data FROM items WHERE uin = ? AND category = ? AND seq > ? ORDER BY seq LIMIT 5')
      .all(1, 1, 0)
      .map((r) => r.detail)
      .join('; ');
    expect(plan).not.toMatch(/SCAN/);
    expect(check.prepare('SELECT count(*) AS n FROM items').get()).toEqual({ n: 6 });
    check.close();
  });
});
