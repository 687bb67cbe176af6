// `npm run client` as a person uses it: two terminal clients (TCP and HTTP)
// against the real server, typed commands on stdin, the printed lines on
// stdout, and a restart from the state file that keeps inbox and SyncKey.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDb, type TestServer } from './fixture.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'client/net/cli.ts');

class Term {
  readonly child: ChildProcess;
  out = '';
  err = '';
  readonly exit: Promise<number | null>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (c) => (this.out += c));
    this.child.stderr!.on('data', (c) => (this.err += c));
    this.exit = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  type(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** Resolves with the first match of `re` in stdout printed so far or later. */
  async waitFor(re: RegExp, ms = 10_000): Promise<RegExpExecArray> {
    const t0 = Date.now();
    for (;;) {
      const m = re.exec(this.out);
      if (m) return m;
      if (Date.now() - t0 > ms || this.child.exitCode !== null) {
        throw new Error(`no ${re} in stdout:\n${this.out}\nstderr:\n${this.err}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describe('the terminal client', () => {
  const tmp = tempDb('e2e-client-cli');
  let t: TestServer;
  let common: string[] = [];
  const terms: Term[] = [];
  const term = (args: string[]): Term => {
    const x = new Term([...common, ...args]);
    terms.push(x);
    return x;
  };

  beforeAll(async () => {
    t = await startTestServer(tmp.db, { node: { holdMs: 800 } });
    common = ['--server', t.base, '--tcp', `127.0.0.1:${t.tcpPort}`];
  });

  afterAll(async () => {
    for (const x of terms) x.child.kill('SIGKILL');
    await t?.srv.close();
    tmp.cleanup();
  });

  it('prints its help and exits 0; a bad flag exits 2 with the help', async () => {
    const h = new Term(['--help']);
    expect(await h.exit).toBe(0);
    expect(h.out).toMatch(/Usage: npm run client -- --user NAME --password P/);
    const bad = new Term(['--user', 'x', '--password', 'y', '--transport', 'carrier-pigeon']);
    expect(await bad.exit).toBe(2);
    expect(bad.err).toMatch(/--transport must be tcp, ws or http/);
  });

  it('registers, sends both ways, names groups, reports a failed send with how to resend, and keeps state across a restart', async () => {
    const aliceState = path.join(tmp.dir, 'alice.json');
    const bobState = path.join(tmp.dir, 'bob.json');
    const alice = term(['--register', '--user', 'alice', '--password', 'pw', '--state', aliceState]);
    const bob = term(['--register', '--user', 'bob', '--password', 'pw', '--transport', 'http', '--state', bobState]);
    await alice.waitFor(/logged in as alice \(uin \d+\) over tcp/);
    await bob.waitFor(/logged in as bob \(uin \d+\) over http/);

    alice.type('@bob hello bob');
    await alice.waitFor(/sent ✓ local \d+ MsgID \d+/);
    await bob.waitFor(/^\[\d\d:\d\d:\d\d\] alice → bob: hello bob$/m);
    bob.type('@alice hi alice');
    await alice.waitFor(/^\[\d\d:\d\d:\d\d\] bob → alice: hi alice$/m);

    alice.type('/group bob Pals');
    await alice.waitFor(/created group (@@\d+) with alice, bob/);
    await bob.waitFor(/\* group Pals \(@@\d+\): alice, bob/);
    bob.type('@@Pals hello pals');
    await alice.waitFor(/bob → Pals: hello pals/);

    alice.type('/remark bob Bobby');
    await alice.waitFor(/bob is now shown as 'Bobby'/);

    alice.type('@nobody are you there');
    const f = await alice.waitFor(/failed ✗ local (\d+): Ret 1106: .*; type \/resend (\d+) to try again/);
    expect(f[1]).toBe(f[2]);
    alice.type('/outbox');
    await alice.waitFor(new RegExp(`local ${f[1]} → nobody \\[failed`));

    // Bob quits; alice writes while he is away; he comes back from his state file.
    bob.type('/quit');
    expect(await bob.exit).toBe(0);
    const saved = JSON.parse(fs.readFileSync(bobState, 'utf8'));
    const kept: number = saved.inbox.length;
    expect(kept).toBeGreaterThanOrEqual(1);
    expect(saved.inbox[0].Content).toBe('hello bob');
    alice.type('@bob while you were away');
    await alice.waitFor(/(?:sent ✓[^]*){2}/);
    const bob2 = term(['--user', 'bob', '--password', 'pw', '--transport', 'http', '--state', bobState]);
    await bob2.waitFor(new RegExp(`\\(${kept} messages kept in `));
    await bob2.waitFor(/alice → bob: while you were away/);
    // Only the new message is printed: the kept inbox is not applied again.
    expect(bob2.out).not.toMatch(/hello bob/);
    bob2.type('/history 10');
    await bob2.waitFor(/alice → bob: hello bob/);
    bob2.type('/quit');
    expect(await bob2.exit).toBe(0);
    alice.child.stdin!.end(); // end of input: save and exit
    expect(await alice.exit).toBe(0);
    expect(JSON.parse(fs.readFileSync(aliceState, 'utf8')).syncKey.length).toBeGreaterThan(0);
  });

  it('says so and exits 1 on a wrong password', async () => {
    const x = term(['--user', 'alice', '--password', 'wrong', '--transport', 'ws', '--state', path.join(tmp.dir, 'x.json')]);
    expect(await x.exit).toBe(1);
    expect(x.err).toMatch(/wrong user name or password/);
  });

  it('--web prints a QR code; the phone types /confirm with its uuid, and the web terminal logs in and talks', async () => {
    const phone = term(['--user', 'carol', '--password', 'pw', '--register', '--state', path.join(tmp.dir, 'carol-phone.json')]);
    await phone.waitFor(/logged in as carol/);
    const web = term(['--user', 'carol', '--web', '--state', path.join(tmp.dir, 'carol-web.json')]);
    // The code is drawn with half blocks, then the uuid to confirm.
    const m = await web.waitFor(/[▀▄█]+[\s\S]*\/confirm ([A-Za-z0-9_-]{22})/);
    phone.type(`/confirm ${m[1]}`);
    await phone.waitFor(/web login confirmed/);
    await web.waitFor(/scanned: confirm the login on the phone/);
    await web.waitFor(/logged in as carol .* over http/);
    web.type('@carol hello from the web');
    await phone.waitFor(/carol → carol: hello from the web/);
    const notes = path.join(tmp.dir, 'notes.txt');
    fs.writeFileSync(notes, 'minutes of the meeting');
    web.type(`/send-file @carol ${notes}`);
    await web.waitFor(/queued local \d+ \(.*notes\.txt\) → carol/);
    await phone.waitFor(/carol → carol: \[file notes\.txt @media_/);
    web.type('/quit');
    expect(await web.exit).toBe(0);
    const bad = new Term(['--user', 'carol', '--web', '--transport', 'tcp']);
    expect(await bad.exit).toBe(2);
    expect(bad.err).toMatch(/--web speaks HTTP only/);
  });
});
