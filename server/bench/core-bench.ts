// Throughput of the protocol core: sends and syncs per second through
// CommandRunner + ProtocolCore, with group commit (a batch of commands per
// transaction, as the server's event loop drains them), on the memory store
// and on SQLite (a file on disk, WAL, synchronous FULL).
//
//   npm run bench:core                        # defaults
//   npm run bench:core -- --seconds 2 --batch 64 --accounts 1000 --stores memory,sqlite
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CommandRunner } from '../node/command-runner.ts';
import { QUOTAS_LIFTED, coreConfig } from '../core/config.ts';
import { scryptHasher } from '../core/password.ts';
import type { Caller } from '../core/auth.ts';
import type { Plan } from '../core/plan.ts';
import { ProtocolCore } from '../core/protocol-core.ts';
import type { SyncReply } from '../core/replies.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import type { Step } from '../store/store-ops.ts';
import type { SyncKeyJson } from '../wire/synckey.ts';

type StoreKind = 'memory' | 'sqlite';
type Phase = 'send' | 'sync' | 'mixed';
const PHASES: readonly Phase[] = ['send', 'sync', 'mixed'];

interface Options {
  seconds: number;
  batch: number;
  accounts: number;
  stores: StoreKind[];
}

interface Dev {
  uin: number;
  userName: string;
  deviceId: string;
  caller: Caller;
  key: SyncKeyJson;
}

interface Row {
  store: StoreKind;
  phase: Phase;
  ops: number;
  seconds: number;
  /** CPU time of this process (user + system): robust to other load on the machine; fsync waits are not in it. */
  cpuSeconds: number;
  commits: number;
  items: number;
  syncs: number;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '1' },
      batch: { type: 'string', default: '64' },
      accounts: { type: 'string', default: '1000' },
      stores: { type: 'string', default: 'memory,sqlite' },
    },
  });
  const stores = values.stores.split(',').map((s) => {
    if (s !== 'memory' && s !== 'sqlite') throw new RangeError(`unknown store ${s}`);
    return s;
  });
  const o = { seconds: Number(values.seconds), batch: Number(values.batch), accounts: Number(values.accounts), stores };
  if (!(o.seconds > 0) || !(o.batch >= 1) || !(o.accounts >= 2)) throw new RangeError('bad --seconds, --batch or --accounts');
  return o;
}

/** One store with the core and a runner over it; commands are submitted and flushed in batches. */
class Bench {
  readonly core = new ProtocolCore(coreConfig(QUOTAS_LIFTED), { random: { bytes: (n) => randomBytes(n) }, hasher: scryptHasher(2) });
  readonly runner: CommandRunner;
  private submitted = 0;
  failures = 0;

  constructor(
    readonly store: Store,
    readonly batch: number,
  ) {
    this.runner = new CommandRunner(store, undefined, Number.MAX_SAFE_INTEGER);
  }

  submit<R>(step: Step<Plan<R>>, done: (r: any) => void): void {
    this.runner.submit(step, (r: any) => {
      if (r.BaseResponse.Ret !== 0) this.failures++;
      done(r);
    });
    if (++this.submitted % this.batch === 0) this.runner.flush();
  }

  flush(): void {
    this.runner.flush();
  }
}

function openStore(kind: StoreKind, dir: string): Store {
  if (kind === 'memory') return new MemoryStore();
  const s = SqliteStore.open(path.join(dir, 'bench.db'));
  const mode = String(s.pragma('journal_mode'));
  const sync = Number(s.pragma('synchronous'));
  if (mode !== 'wal' || sync !== 2) throw new Error(`SQLite is not WAL + FULL (journal_mode ${mode}, synchronous ${sync})`);
  return s;
}

/** Every bench account's stored hash: the hash jobs are not run. */
const BENCH_HASH = 'bench';

function setup(b: Bench, accounts: number): Dev[] {
  const now = Date.now();
  // The commands proper, past their hash jobs (what the bench measures is the store and the core).
  for (let i = 0; i < accounts; i++) b.submit(b.core.register({ UserName: `u${i}`, Password: 'pw' }, now, BENCH_HASH), () => {});
  const devs: Dev[] = [];
  for (let i = 0; i < accounts; i++) {
    const deviceId = `e${String(100_000_000_000_000 + i)}`;
    b.submit(b.core.login({ UserName: `u${i}`, Password: 'pw', DeviceID: deviceId }, now, { stored: BENCH_HASH, ok: true }), (r) => {
      devs.push({
        uin: r.Uin,
        userName: `u${i}`,
        deviceId,
        caller: { kind: 'http', base: { Uin: r.Uin, Sid: r.Sid, Skey: r.Skey, DeviceID: deviceId }, checkSkey: true },
        key: r.SyncKey,
      });
    });
  }
  b.flush();
  if (devs.length !== accounts || b.failures) throw new Error('setup failed');
  return devs;
}

let clientMsgId = 1;

function run(b: Bench, devs: Dev[], phase: Phase, seconds: number, store: StoreKind): Row {
  const n = devs.length;
  const row: Row = { store, phase, ops: 0, seconds: 0, cpuSeconds: 0, commits: 0, items: 0, syncs: 0 };
  const commits0 = b.runner.stats.commits;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let i = 0;
  for (;;) {
    const now = Date.now();
    for (let k = 0; k < b.batch; k++, i++) {
      const sync = phase === 'sync' || (phase === 'mixed' && i % 2 === 1);
      if (sync) {
        const d = devs[(i * 13) % n]!;
        b.submit(b.core.sync(d.caller, d.key, now), (r: SyncReply) => {
          d.key = r.SyncKey;
          row.items += r.AddMsgCount + r.ModContactCount;
          row.syncs++;
        });
      } else {
        const from = devs[i % n]!;
        const to = devs[(i * 7 + 1) % n]!;
        const id = String(clientMsgId++);
        const msg = { ClientMsgId: id, LocalID: id, FromUserName: from.userName, ToUserName: to.userName, Type: 1, Content: `message ${id} from ${from.userName}` };
        b.submit(b.core.send(from.caller, msg, now), () => {});
      }
      row.ops++;
    }
    if (performance.now() >= deadline) break;
  }
  b.flush();
  row.seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  row.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  row.commits = b.runner.stats.commits - commits0;
  return row;
}

function main(): void {
  const o = options();
  const rows: Row[] = [];
  for (const kind of o.stores) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-bench-'));
    const store = openStore(kind, dir);
    try {
      const b = new Bench(store, o.batch);
      const devs = setup(b, o.accounts);
      // A short warm-up so that the JIT is not measured.
      run(b, devs, 'mixed', Math.min(0.2, o.seconds / 4), kind);
      for (const phase of PHASES) rows.push(run(b, devs, phase, o.seconds, kind));
      if (b.failures) throw new Error(`${b.failures} commands failed on ${kind}`);
    } finally {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  print(rows, o);
}

function print(rows: Row[], o: Options): void {
  const fmt = (x: number, d = 0) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  const header = ['store', 'phase', 'ops', 'seconds', 'ops/s', 'cpu s', 'ops/cpu-s', 'commits/s', 'items/sync', 'sqlite/memory'];
  const table = rows.map((r) => {
    const rate = r.ops / r.seconds;
    const mem = rows.find((m) => m.store === 'memory' && m.phase === r.phase);
    const ratio = r.store === 'sqlite' && mem ? fmt(rate / (mem.ops / mem.seconds), 3) : '';
    return [
      r.store,
      r.phase,
      fmt(r.ops),
      fmt(r.seconds, 2),
      fmt(rate),
      fmt(r.cpuSeconds, 2),
      fmt(r.ops / r.cpuSeconds),
      fmt(r.commits / r.seconds),
      r.syncs ? fmt(r.items / r.syncs, 1) : '',
      ratio,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`core bench: ${o.accounts} accounts, ${o.batch} commands per commit, ~${o.seconds} s per phase; node ${process.version}`);
  console.log('send: a direct message (two log appends); sync: webwxsync presenting the device\'s last key; mixed: alternating\n');
  console.log(`load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs (ops/s is wall clock; ops/cpu-s excludes other processes and fsync waits)\n`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const t of table) console.log(line(t));
}

main();
