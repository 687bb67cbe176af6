import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../server/store/sqlite-schema.ts';
import { asAsync } from '../../server/store/async-store.ts';
import { SqliteStore } from '../../server/store/sqlite-store.ts';
import type { Write } from '../../server/store/store-ops.ts';
import { account, group, message } from './suite/fixtures.ts';
import { commitTxSync as commitTx } from './suite/harness.ts';
import { runStoreSuite } from './store-suite.ts';

const STORE_MODULE = path.resolve(import.meta.dirname, '../../server/store/sqlite-store.ts');
const REPO = path.resolve(import.meta.dirname, '../..');

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'sqlite-store-'));
}

runStoreSuite('SqliteStore', async () => {
  const dir = tempDir();
  // A missing parent directory: open creates it.
  let file = path.join(dir, 'data', 'store.db');
  let current = SqliteStore.open(file);
  let crashes = 0;
  return {
    store: asAsync(current),
    reopen: async () => {
      current.close();
      current = SqliteStore.open(file);
      return asAsync(current);
    },
    // A process crash: the files exactly as they are on disk while the
    // transaction is still open (uncommitted pages may already sit in the
    // WAL), opened by a new process. The old connection is then dropped; it
    // never commits.
    crash: async () => {
      const copy = path.join(dir, `crash${++crashes}`, 'store.db');
      fs.mkdirSync(path.dirname(copy), { recursive: true });
      for (const suffix of ['', '-wal']) {
        if (fs.existsSync(file + suffix)) fs.copyFileSync(file + suffix, copy + suffix);
      }
      current.close();
      file = copy;
      current = SqliteStore.open(file);
      return asAsync(current);
    },
    commits: () => current.commits,
    cleanup: async () => {
      current.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteStore specifics', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('opens in WAL mode with synchronous FULL by default, and records the schema version', () => {
    const file = path.join(dir, 'a', 'b', 'store.db');
    const s = SqliteStore.open(file);
    expect(s.kind).toBe('sqlite');
    expect(fs.existsSync(file)).toBe(true);
    expect(s.pragma('journal_mode')).toBe('wal');
    expect(s.pragma('synchronous')).toBe(2);
    expect(s.pragma('foreign_keys')).toBe(0);
    expect(s.pragma('busy_timeout')).toBeGreaterThan(0);
    expect(s.pragma('user_version')).toBe(SCHEMA_VERSION);
    s.close();
    const n = SqliteStore.open(file, { synchronous: 'NORMAL' });
    expect(n.pragma('synchronous')).toBe(1);
    n.close();
  });

  it('has a table with a primary key for every record kind', () => {
    const file = path.join(dir, 'store.db');
    SqliteStore.open(file).close();
    const db = new Database(file, { readonly: true });
    const tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .all()
      .map((r) => r.name);
    expect(tables).toEqual([
      'accounts',
      'dedup',
      'devices',
      'group_members',
      'groups',
      'items',
      'media',
      'meta',
      'peers',
      'remarks',
      'sessions',
    ]);
    // The hot reads use an index, never a scan.
    const plan = (sql: string): string =>
      db
        .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...Array.from(sql.matchAll(/\?/g), () => 1))
        .map((r) => r.detail)
        .join('; ');
    const itemsPlan = plan('SELECT * FROM items WHERE uin = ? AND category = ? AND seq > ? ORDER BY seq LIMIT ?');
    expect(itemsPlan).not.toMatch(/SCAN|TEMP/);
    expect(plan('DELETE FROM dedup WHERE uin = ? AND created_at < ?')).toMatch(/dedup_by_time/);
    expect(plan('SELECT * FROM group_members WHERE uin = ? ORDER BY ord LIMIT ?')).not.toMatch(/SCAN|TEMP/);
    expect(plan('SELECT * FROM accounts WHERE user_name = ?')).toMatch(/INDEX/);
    db.close();
  });

  it('refuses a file written by a newer schema version', () => {
    const file = path.join(dir, 'store.db');
    SqliteStore.open(file).close();
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => SqliteStore.open(file)).toThrow(/newer/);
  });

  it('works in memory', () => {
    const s = SqliteStore.open(':memory:');
    expect(s.pragma('journal_mode')).toBe('memory');
    commitTx(s, [{ kind: 'putAccount', account: account(1) }]);
    expect(s.read({ kind: 'accountByName', userName: 'user1' })).toEqual(account(1));
    s.close();
    s.close();
  });

  it('a second account with a taken user name is refused', () => {
    const s = SqliteStore.open(path.join(dir, 'store.db'));
    commitTx(s, [{ kind: 'putAccount', account: account(1, { userName: 'alice' }) }]);
    expect(() => commitTx(s, [{ kind: 'putAccount', account: account(2, { userName: 'alice' }) }])).toThrow(/UNIQUE/);
    expect(s.read({ kind: 'account', uin: 2 })).toBeUndefined();
    s.close();
  });

  it('a member who leaves a group no longer lists it; rejoining puts it last', () => {
    const s = SqliteStore.open(path.join(dir, 'store.db'));
    const g1 = group('@@1', [1, 2]);
    const g2 = group('@@2', [1, 2]);
    commitTx(s, [
      { kind: 'putGroup', group: g1 },
      { kind: 'putGroup', group: g2 },
    ]);
    const g1left = { ...g1, members: [1] };
    commitTx(s, [{ kind: 'putGroup', group: g1left }]);
    expect(s.read({ kind: 'groupsOf', uin: 2, limit: 10 })).toEqual([g2]);
    expect(s.read({ kind: 'groupsOf', uin: 1, limit: 10 })).toEqual([g1left, g2]);
    const g1back = { ...g1, members: [1, 2] };
    commitTx(s, [{ kind: 'putGroup', group: g1back }]);
    expect(s.read({ kind: 'groupsOf', uin: 2, limit: 10 })).toEqual([g2, g1back]);
    s.close();
  });

  it('a killed process loses exactly its open transaction', () => {
    const file = path.join(dir, 'store.db');
    const committed: Write[] = [
      { kind: 'putAccount', account: account(1, { seq: 2 }) },
      { kind: 'appendItem', item: message(1, 1) },
      { kind: 'appendItem', item: message(1, 2) },
    ];
    // A small page cache and enough uncommitted data to spill pages into the
    // WAL before the kill: recovery must ignore frames without a commit.
    const open: Write[] = [{ kind: 'putAccount', account: account(1, { seq: 3000 }) }];
    for (let seq = 3; seq <= 3000; seq++) {
      open.push({ kind: 'appendItem', item: message(1, seq, { Content: 'x'.repeat(500) }) });
    }
    const script = path.join(dir, 'child.ts');
    fs.writeFileSync(
      script,
      `import { SqliteStore } from ${JSON.stringify(pathToFileURL(STORE_MODULE).href)};
import fs from 'node:fs';
const s = SqliteStore.open(${JSON.stringify(file)}, { synchronous: 'NORMAL' });
s.pragma('cache_size = 64');
s.begin(); s.apply(${JSON.stringify(committed)}); s.commit();
const committedWal = fs.statSync(${JSON.stringify(file + '-wal')}).size;
s.begin(); s.apply(${JSON.stringify(open)});
const spilled = fs.statSync(${JSON.stringify(file + '-wal')}).size - committedWal;
process.stdout.write(spilled > 1_000_000 ? 'spilled\\n' : 'not spilled ' + spilled + '\\n');
process.kill(process.pid, 'SIGKILL');
`,
    );
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: REPO, encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(child.stdout).toBe('spilled\n');
    expect(child.signal).toBe('SIGKILL');
    const s = SqliteStore.open(file);
    expect(s.read({ kind: 'account', uin: 1 })).toEqual(account(1, { seq: 2 }));
    const items = s.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10_000 });
    expect(items).toEqual([message(1, 1), message(1, 2)]);
    s.close();
  });
});
