// `npm start` as a user runs it: one ready line, a database created on first
// start, a clean exit 0 on SIGTERM/SIGINT with the data kept, and exit 2 with
// the help on a bad flag.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDb } from './fixture.ts';
import { register } from './raw-client/http.ts';
import { HttpDevice } from './raw-client/http-device.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'server/main.ts');

function run(args: string[]): { child: ChildProcess; out: () => string; err: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (err += c));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exit };
}

async function ready(p: ReturnType<typeof run>): Promise<{ http: string; tcp: string; db: string }> {
  const t0 = Date.now();
  for (;;) {
    const m = /^ready http=(\S+) ws=(\S+) tcp=(\S+) db=(\S+)\n$/.exec(p.out());
    if (m) {
      expect(m[2]).toBe(`${m[1]!.replace('http:', 'ws:')}/longlink`);
      return { http: m[1]!, tcp: m[3]!, db: m[4]! };
    }
    if (Date.now() - t0 > 15_000 || p.child.exitCode !== null) throw new Error(`no ready line: ${p.out()} ${p.err()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the CLI', () => {
  const tmp = tempDb('e2e-cli');
  afterAll(() => tmp.cleanup());
  const db = path.join(tmp.dir, 'nested', 'synckey.db');
  const args = ['--http-port', '0', '--tcp-port', '0', '--db', db, '--scrypt-n', '2', '--hold-ms', '1000', '--heartbeat-sec', '30'];

  it('starts, prints one ready line, keeps the data across a SIGTERM and a restart, and exits 0', async () => {
    const first = run(args);
    const a = await ready(first);
    expect(a.db).toBe(db);
    expect(fs.existsSync(db)).toBe(true);
    await register(a.http, 'erin', 'pw');
    const dev = new HttpDevice(a.http, 'erin', 'pw', 'e000000000000009');
    await dev.login();
    expect((await dev.send('erin', 'note to self', 'n1')).BaseResponse.Ret).toBe(0);
    first.child.kill('SIGTERM');
    expect(await first.exit).toBe(0);
    expect(first.out().split('\n').filter(Boolean)).toHaveLength(1);
    // stderr holds the structured log: a clean run says only that it started and stopped.
    const log = first.err().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event?: string });
    expect(log.map((l) => l.event)).toEqual(['started', 'stopping', 'stopped']);

    const second = run(args);
    const b = await ready(second);
    dev.base = b.http;
    const sync = await dev.syncOnce();
    expect(sync.AddMsgList.map((m: { Content: string }) => m.Content)).toEqual(['note to self']);
    second.child.kill('SIGINT');
    expect(await second.exit).toBe(0);
  });

  it('describes every flag with --help and exits 0', async () => {
    const p = run(['--help']);
    expect(await p.exit).toBe(0);
    for (const flag of ['--http-port', '--tcp-port', '--host', '--db', '--hold-ms', '--heartbeat-sec', '--scrypt-n', '--help']) {
      expect(p.out()).toContain(flag);
    }
    expect(p.out()).toContain('(default 8080)');
  });

  it('rejects a bad flag with the error and the help, exit 2', async () => {
    const cases: Array<[string[], string]> = [
      [['--bogus'], "Unknown option '--bogus'"],
      [['--http-port', 'eighty'], '--http-port must be a whole number'],
      [['--tcp-port', '70000'], '--tcp-port must be between 0 and 65535'],
      [['--scrypt-n', '1000'], '--scrypt-n must be a power of two'],
      [['--hold-ms', '0'], '--hold-ms must be between 1 and'],
      [['extra'], "'extra'"],
    ];
    await Promise.all(
      cases.map(async ([argv, msg]) => {
        const p = run(argv);
        expect(await p.exit, argv.join(' ')).toBe(2);
        expect(p.err()).toContain(msg);
        expect(p.err()).toContain('Usage: npm start');
        expect(p.out()).toBe('');
      }),
    );
  });
});
