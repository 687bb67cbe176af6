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
import { commitTx } from './suite/harness.ts';

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
    db.exec('DROP TABLE peers; ALTER TABLE accounts DROP COLUMN last_evicted_at; ALTER TABLE devices DROP COLUMN retired_sids;');
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
});
