// `npm start` refuses a --store that is not a PostgreSQL URL, and --store
// given with --db, as usage errors (exit 2) that name the flag and not the
// URL. (Starting on --store and on DATABASE_URL: two-nodes.test.ts.)
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/** Runs the CLI to its exit: its code and stderr. */
function runToExit(args: string[]): Promise<{ code: number | null; err: string }> {
  const { DATABASE_URL: _ignored, ...env } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'server/main.ts'), ...args], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c) => (err += c));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, err })));
}

describe('the CLI on PostgreSQL', () => {
  it('refuses a --store that is not a PostgreSQL URL, and --store with --db, with exit 2', async () => {
    const [notUrl, both] = await Promise.all([
      runToExit(['--store', 'mysql://root:hunter2@x/y']),
      runToExit(['--store', 'postgres://u:hunter2@127.0.0.1:1/d', '--db', ':memory:']),
    ]);
    expect(notUrl.code).toBe(2);
    expect(notUrl.err).toContain('--store must be a postgres:// or postgresql:// URL');
    expect(both.code).toBe(2);
    expect(both.err).toContain('--store and --db name two databases');
    for (const r of [notUrl, both]) expect(r.err).not.toContain('hunter2');
  });
});
