// Two servers on one SQLite file would hand out the same MsgIds (issue 11,
// item 6): the store takes the file's lock at open, so a second open, in
// this process or another, refuses at once with a message naming the file;
// the lock goes with the connection (a close, or the process's death).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore, StoreLockedError } from '../../server/store/sqlite-store.ts';
import { tempDb } from './fixture.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'server/main.ts');

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
}

function server(db: string): Proc {
  const args = ['--http-port', '0', '--tcp-port', '0', '--db', db, '--scrypt-n', '2', '--log-level', 'silent'];
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (err += c));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exit };
}

async function ready(p: Proc): Promise<void> {
  while (!p.out().startsWith('ready ')) {
    if (p.child.exitCode !== null) throw new Error(`server exited: ${p.err()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('one server per database file', () => {
  const tmp = tempDb('e2e-lock');
  afterAll(() => tmp.cleanup());

  it('a second open in the same process refuses, naming the file; after a close the file opens again', () => {
    const db = path.join(tmp.dir, 'same-process.db');
    const first = SqliteStore.open(db);
    let err: unknown;
    try {
      SqliteStore.open(db).close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreLockedError);
    expect((err as Error).message).toContain(db);
    // The first connection still works, WAL and all.
    expect(String(first.pragma('journal_mode'))).toBe('wal');
    first.begin();
    first.apply([{ kind: 'setMeta', name: 'nextUin', value: 7 }]);
    first.commit();
    first.close();
    const again = SqliteStore.open(db);
    expect(again.read({ kind: 'meta', name: 'nextUin' })).toBe(7);
    again.close();
  });

  it('a second server process on the same file exits 1 with a message naming the file; the first keeps serving', async () => {
    const db = path.join(tmp.dir, 'two-servers.db');
    const first = server(db);
    try {
      await ready(first);
      const second = server(db);
      expect(await second.exit).toBe(1);
      expect(second.out()).toBe('');
      expect(second.err()).toContain(db);
      expect(second.err()).toMatch(/in use by another process/);
      expect(first.child.exitCode).toBeNull();
    } finally {
      first.child.kill('SIGTERM');
      expect(await first.exit).toBe(0);
    }
    // The lock went with the first process: a new server starts.
    const third = server(db);
    await ready(third);
    third.child.kill('SIGTERM');
    expect(await third.exit).toBe(0);
  }, 60_000);
});
