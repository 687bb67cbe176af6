// `npm run loadtest -- --profile smoke|baseline|stress|capacity [--k6] [--out DIR]`
//
// Starts the SyncKey server in a child process on a temporary SQLite database
// and ephemeral loopback ports, runs the load driver with the profile's shape,
// measures bare Node servers (TCP echo, WebSocket echo, HTTP) under the same
// shape in the same run, optionally runs the k6 scripts, and writes
// reports/<profile>-<timestamp>/{report.json, summary.md, chart.svg}.
// Exits 1 if anything was lost or duplicated or a threshold failed, 2 on a
// usage error, 3 if the run overran its time bound.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseHostPort, parseServerUrl } from '../client/net/net-client.ts';
import { startBareHttp, startBareTcpEcho, startBareWsEcho, type BareServer } from '../server/bench/baselines.ts';
import { startServer, type RunningServer } from '../server/transport/server-app.ts';
import {
  Population,
  assertLoopback,
  openIdleSockets,
  runBarePhase,
  until,
  type BareTarget,
  type PhaseResult,
  type PhaseSpec,
  type ServerSample,
  type Target,
} from './driver.ts';
import { openFileLimit, pidSample, selfSample } from './memory.ts';
import { PROFILES, mixedShape, profileByName, type Profile } from './profiles.ts';
import { chartSvg, summaryMarkdown, type CapacityReport, type K6Report, type PhaseRecord, type Report, type Transport } from './report.ts';
import { checkThresholds } from './thresholds.ts';
import type { ReadyMessage, SampleReply } from './server-process.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const HOST = '127.0.0.1';

const HELP = `Usage: npm run loadtest -- --profile NAME [options]

Load-tests the SyncKey server on loopback and writes a report folder.

Profiles:
${Object.values(PROFILES)
  .map((p) => `  ${p.name.padEnd(9)} ${p.description}`)
  .join('\n')}

Options:
  --profile NAME      one of ${Object.keys(PROFILES).join(', ')} (required)
  --out DIR           report folder (default reports/<profile>-<timestamp>)
  --k6                also run loadtest/k6/*.js when a k6 binary is on PATH
  --in-process        run the server inside the driver's process (memory then includes the driver)
  --server URL        drive an already running server (npm start) instead: its HTTP base URL,
  --tcp HOST:PORT     and its TCP long-link address; loopback only
  --server-pid PID    that server's process id, to sample its memory from /proc
  --synchronous MODE  SQLite durability of the server: FULL (the profile's default: survives power loss)
                      or NORMAL (survives a process crash), to see what fsync costs
  --keep-db           keep the temporary SQLite database
  -h, --help          show this help and exit

Examples:
  npm run loadtest -- --profile smoke
  npm run loadtest -- --profile capacity --out reports/capacity
  npm start -- --db /tmp/x.db --scrypt-n 2 & npm run loadtest -- --profile baseline --server http://127.0.0.1:8080 --tcp 127.0.0.1:8081`;

class UsageError extends Error {}

interface Options {
  profile: Profile;
  out: string;
  k6: boolean;
  inProcess: boolean;
  server?: string;
  tcp?: string;
  serverPid?: number;
  keepDb: boolean;
}

function parseCli(argv: string[]): Options | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        profile: { type: 'string' },
        out: { type: 'string' },
        k6: { type: 'boolean' },
        'in-process': { type: 'boolean' },
        server: { type: 'string' },
        tcp: { type: 'string' },
        'server-pid': { type: 'string' },
        'keep-db': { type: 'boolean' },
        synchronous: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) return 'help';
  if (!values.profile) throw new UsageError('--profile is required');
  let profile: Profile;
  try {
    profile = profileByName(values.profile);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if ((values.server === undefined) !== (values.tcp === undefined)) throw new UsageError('--server and --tcp go together');
  try {
    if (values.server) assertLoopback(parseServerUrl(values.server).host);
    if (values.tcp) assertLoopback(parseHostPort(values.tcp).host);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const sync = values.synchronous;
  if (sync !== undefined && sync !== 'FULL' && sync !== 'NORMAL') throw new UsageError(`--synchronous must be FULL or NORMAL, got '${sync}'`);
  if (sync) profile = { ...profile, server: { ...profile.server, synchronous: sync } };
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('Z', '');
  return {
    profile,
    out: values.out ?? path.join('reports', `${profile.name}-${stamp}`),
    k6: values.k6 ?? false,
    inProcess: values['in-process'] ?? false,
    ...(values.server ? { server: values.server, tcp: values.tcp! } : {}),
    ...(values['server-pid'] ? { serverPid: Number(values['server-pid']) } : {}),
    keepDb: values['keep-db'] ?? false,
  };
}

// ------------------------------------------------------------ the server under test, in a child process

class ServerChild {
  readonly #child: ChildProcess;
  readonly #waiting: Array<(r: SampleReply) => void> = [];
  readonly #exited: Promise<number | null>;
  ready!: ReadyMessage;

  private constructor(args: string[]) {
    this.#child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(ROOT, 'loadtest/server-process.ts'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#exited = new Promise((resolve) => this.#child.on('exit', (code) => resolve(code)));
    this.#child.on('message', (m: SampleReply | ReadyMessage) => {
      if (m.type === 'ready') this.ready = m;
      else if (m.type === 'sample') this.#waiting.shift()?.(m);
    });
  }

  static async start(args: string[]): Promise<ServerChild> {
    const c = new ServerChild(args);
    const exited = c.#exited.then((code) => {
      throw new Error(`the server process exited (${code}) before it was ready`);
    });
    await Promise.race([until(() => c.ready !== undefined, 30_000, () => 'the server process to be ready'), exited]);
    return c;
  }

  get pid(): number {
    return this.ready.pid;
  }

  /** /proc's VmRSS and CPU, with the heap and the server's counters over IPC; `gc` runs a full GC first. */
  async sample(gc = false): Promise<ServerSample | undefined> {
    if (this.#child.exitCode !== null || !this.#child.connected) return undefined;
    const reply = new Promise<SampleReply>((resolve) => this.#waiting.push(resolve));
    this.#child.send({ type: 'sample', gc });
    const r = await Promise.race([reply, new Promise<undefined>((res) => setTimeout(() => res(undefined), 10_000))]);
    if (!r) return undefined;
    const proc = pidSample(this.pid);
    return {
      rssBytes: proc?.rssBytes ?? r.rssBytes,
      heapUsedBytes: r.heapUsedBytes,
      heapTotalBytes: r.heapTotalBytes,
      cpuMs: proc?.cpuMs ?? r.cpuMs,
      ...(r.openLinks !== undefined ? { openLinks: r.openLinks } : {}),
      ...(r.commits !== undefined ? { commits: r.commits } : {}),
    };
  }

  async close(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.connected) this.#child.send({ type: 'close' });
    const t = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
    await this.#exited;
    clearTimeout(t);
  }

  kill(): void {
    if (this.#child.exitCode === null) this.#child.kill('SIGKILL');
  }
}

interface SyncKeyServer {
  target: Target;
  sample: (gc?: boolean) => Promise<ServerSample | undefined>;
  close: () => Promise<void>;
  kill: () => void;
}

interface BareServers {
  ports: { tcp: number; ws: number; http: number };
  sample: (kind: Transport, gc?: boolean) => Promise<ServerSample | undefined>;
  close: () => Promise<void>;
  kill: () => void;
}

// ------------------------------------------------------------ the run

class Run {
  readonly phases: PhaseRecord[] = [];
  readonly t0 = performance.now();
  readonly children = new Set<{ kill: () => void }>();
  readonly tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'synckey-loadtest-'));
  readonly db = path.join(this.tmp, 'loadtest.db');
  /** Half-peak rates of the SyncKey server per transport: the bare baselines run at the same rates. */
  readonly halfRates = new Map<Transport, number>();
  readonly tag = Date.now().toString(36).slice(-5);

  constructor(readonly o: Options) {}

  log(line: string): void {
    process.stdout.write(`[${((performance.now() - this.t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  }

  sec(): number {
    return (performance.now() - this.t0) / 1000;
  }

  record(r: PhaseResult, transport: PhaseRecord['transport'], stage: PhaseRecord['stage'], startSec: number, extra: Partial<PhaseRecord> = {}): PhaseRecord {
    const rec: PhaseRecord = { ...r, startSec: Math.round(startSec * 100) / 100, transport, stage, ...extra };
    this.phases.push(rec);
    const lat = `p50 ${r.deliveryLatencyMs.p50} ms p99 ${r.deliveryLatencyMs.p99} ms${r.serverCommits ? `, ${r.serverCommits.msgsPerCommit} msgs/commit` : ''}`;
    this.log(
      `  ${r.name}: ${r.sent} sent, ${r.acked} acked, durable ${r.durablePerSec}/s, ${lat}, lost ${r.lost}, dup ${r.duplicated}` +
        `${r.quiesced ? '' : ' (NOT QUIESCED)'}${r.serverCpuPct !== undefined ? `, server CPU ${r.serverCpuPct}%` : ''}, driver CPU ${r.driverCpuPct}%`,
    );
    return rec;
  }

  async startSyncKey(): Promise<SyncKeyServer> {
    const p = this.o.profile;
    if (this.o.server) {
      const pid = this.o.serverPid;
      return {
        target: { server: this.o.server, tcp: this.o.tcp!, ...(pid ? { sample: async () => pidSample(pid) } : {}) },
        sample: async () => (pid ? pidSample(pid) : undefined),
        close: async () => {},
        kill: () => {},
      };
    }
    if (this.o.inProcess) {
      const srv: RunningServer = await startServer({
        host: HOST,
        httpPort: 0,
        tcpPort: 0,
        db: this.db,
        scryptN: p.server.scryptN,
        synchronous: p.server.synchronous,
        node: { holdMs: p.server.holdMs, heartbeatSec: p.server.heartbeatSec },
      });
      const sample = async (gc = false): Promise<ServerSample> => {
        const g = (globalThis as { gc?: () => void }).gc;
        if (gc && g) g();
        return { ...selfSample(), openLinks: srv.stats().node.openLinks };
      };
      return {
        target: { server: `http://${HOST}:${srv.httpPort}`, tcp: `${HOST}:${srv.tcpPort}`, sample },
        sample,
        close: () => srv.close(),
        kill: () => {},
      };
    }
    const c = await ServerChild.start([
      '--mode',
      'synckey',
      '--host',
      HOST,
      '--db',
      this.db,
      '--scrypt-n',
      String(p.server.scryptN),
      '--hold-ms',
      String(p.server.holdMs),
      '--heartbeat-sec',
      String(p.server.heartbeatSec),
      '--synchronous',
      p.server.synchronous,
    ]);
    this.children.add(c);
    const sample = (gc = false): Promise<ServerSample | undefined> => c.sample(gc);
    return {
      target: { server: `http://${HOST}:${c.ready.httpPort}`, tcp: `${HOST}:${c.ready.tcpPort}`, sample: () => sample(false) },
      sample,
      close: async () => {
        await c.close();
        this.children.delete(c);
      },
      kill: () => c.kill(),
    };
  }

  async startBare(): Promise<BareServers> {
    if (this.o.inProcess) {
      const s: BareServer[] = [await startBareTcpEcho(HOST), await startBareWsEcho(HOST), await startBareHttp(HOST)];
      return {
        ports: { tcp: s[0]!.port, ws: s[1]!.port, http: s[2]!.port },
        sample: async () => selfSample(),
        close: async () => {
          await Promise.all(s.map((x) => x.close()));
        },
        kill: () => {},
      };
    }
    const start = async (mode: string): Promise<ServerChild> => {
      const c = await ServerChild.start(['--mode', mode, '--host', HOST]);
      this.children.add(c);
      return c;
    };
    // One process per bare server keeps each one's memory its own (the capacity baseline reads bare-tcp's).
    const [tcp, ws, http] = await Promise.all([start('bare-tcp'), start('bare-ws'), start('bare-http')]);
    const all = [tcp, ws, http];
    return {
      ports: { tcp: tcp.ready.port, ws: ws.ready.port, http: http.ready.port },
      sample: (kind, gc = false) => ({ tcp, ws, http })[kind].sample(gc),
      close: async () => {
        await Promise.all(all.map((c) => c.close()));
        for (const c of all) this.children.delete(c);
      },
      kill: () => all.forEach((c) => c.kill()),
    };
  }

  // ---- stages ----

  async transportStages(srv: SyncKeyServer): Promise<void> {
    const s = this.o.profile.transports!;
    for (const t of ['tcp', 'ws', 'http'] as const) {
      this.log(`${t.toUpperCase()}: ${s.clients} devices, ${s.devicesPerAccount} per account, ${s.groups} groups`);
      const pop = await Population.create(
        srv.target,
        {
          prefix: `${t}${this.tag}x`,
          tcp: t === 'tcp' ? s.clients : 0,
          ws: t === 'ws' ? s.clients : 0,
          http: t === 'http' ? s.clients : 0,
          devicesPerAccount: s.devicesPerAccount,
          groups: s.groups,
          groupSize: s.groupSize,
        },
        (l) => this.log(l),
      );
      try {
        const base = { groupSendFraction: s.groupSendFraction, contentBytes: s.contentBytes, maxMessages: s.maxMessages, quiesceTimeoutMs: this.o.profile.quiesceTimeoutMs };
        let at = this.sec();
        const peak = await pop.run({ ...base, name: `${t} peak`, mode: 'saturate', window: s.window, durationMs: s.saturateMs });
        this.record(peak, t, 'peak', at, { population: pop.info });
        const rate = Math.max(1, Math.round(peak.durablePerSec / 2));
        this.halfRates.set(t, rate);
        at = this.sec();
        const half = await pop.run({ ...base, name: `${t} half-peak`, mode: 'open', rate, durationMs: s.halfRateMs });
        this.record(half, t, 'half-peak', at, { population: pop.info });
      } finally {
        pop.close();
      }
    }
  }

  async mixedStage(srv: SyncKeyServer): Promise<void> {
    const m = this.o.profile.mixed!;
    const shape = mixedShape(m);
    this.log(
      `mixed (${shape.scenario}): ${shape.accounts} accounts × ${shape.devicesPerAccount} devices (${shape.tcp} TCP, ${shape.ws} WS, ${shape.http} HTTP), ` +
        `${shape.groups} groups, ${shape.rate} sends/s`,
    );
    const pop = await Population.create(
      srv.target,
      {
        prefix: `m${this.tag}x`,
        tcp: shape.tcp,
        ws: shape.ws,
        http: shape.http,
        devicesPerAccount: shape.devicesPerAccount,
        groups: shape.groups,
        groupSize: shape.groupSize,
      },
      (l) => this.log(l),
    );
    try {
      const at = this.sec();
      const r = await pop.run({
        name: `mixed ${shape.scenario}`,
        mode: 'open',
        rate: shape.rate,
        durationMs: m.durationMs,
        maxMessages: m.maxMessages,
        groupSendFraction: shape.groupSendFraction,
        contentBytes: shape.contentBytes,
        quiesceTimeoutMs: this.o.profile.quiesceTimeoutMs,
      });
      this.record(r, 'mixed', 'mixed', at, { population: pop.info });
    } finally {
      pop.close();
    }
  }

  async bareStages(): Promise<void> {
    const s = this.o.profile.transports!;
    this.log('bare Node baselines: TCP echo, WebSocket echo, HTTP');
    const bare = await this.startBare();
    try {
      for (const t of ['tcp', 'ws', 'http'] as const) {
        const target: BareTarget = { kind: t, host: HOST, port: bare.ports[t], sample: () => bare.sample(t) };
        const base: Omit<PhaseSpec, 'name' | 'mode' | 'durationMs'> = { contentBytes: s.contentBytes, maxMessages: s.maxMessages * 10, quiesceTimeoutMs: 10_000 };
        let at = this.sec();
        const peak = await runBarePhase(target, s.clients, { ...base, name: `bare ${t} peak`, mode: 'saturate', window: s.window, durationMs: s.saturateMs });
        this.record(peak, t, 'peak', at);
        at = this.sec();
        const rate = this.halfRates.get(t) ?? Math.max(1, Math.round(peak.durablePerSec / 2));
        const half = await runBarePhase(target, s.clients, { ...base, name: `bare ${t} at the server's half-peak rate`, mode: 'open', rate, durationMs: s.halfRateMs });
        this.record(half, t, 'half-peak', at);
      }
    } finally {
      await bare.close();
    }
  }

  async capacityStage(): Promise<CapacityReport> {
    const c = this.o.profile.capacity!;
    const fdLimit = openFileLimit();
    // The driver and the server each hold one descriptor per link, plus their own (stdio, SQLite, listeners, IPC: a few dozen).
    // In-process, one process holds both ends of every link.
    const budget = fdLimit === undefined ? c.links : Math.floor((fdLimit - 100) / (this.o.inProcess ? 2 : 1));
    const reach = Math.max(1, Math.min(c.links, budget));
    this.log(`capacity: ${reach} idle TCP long links (wanted ${c.links}; open-files limit ${fdLimit ?? 'unknown'}), heartbeat ${c.heartbeatSec} s`);
    const srv = await this.startSyncKey();
    const memory: CapacityReport['memory'] = [];
    const bareMemory: CapacityReport['bareMemory'] = [];
    // The server's memory and open links through the login ramp and the hold.
    let sampling: Promise<void> = Promise.resolve();
    const ticker = setInterval(() => {
      sampling = sampling.then(async () => {
        const s = await srv.sample(false);
        if (s) memory.push({ t: this.sec(), rssBytes: s.rssBytes, ...(s.heapUsedBytes !== undefined ? { heapUsedBytes: s.heapUsedBytes } : {}), ...(s.openLinks !== undefined ? { openLinks: s.openLinks } : {}) });
      });
    }, 1000);
    let report: CapacityReport;
    try {
      let before: ServerSample | undefined;
      const pop = await Population.create(
        srv.target,
        {
          prefix: `c${this.tag}x`,
          tcp: reach,
          ws: 0,
          http: 0,
          devicesPerAccount: c.devicesPerAccount,
          groups: 0,
          groupSize: 0,
          loginBatch: c.loginBatch,
          loginTimeoutMs: 300_000,
          registerConcurrency: 32,
          onRegistered: async () => {
            before = await srv.sample(true);
            this.log(`  accounts registered; server RSS ${mb(before?.rssBytes)}, heap ${mb(before?.heapUsedBytes)}`);
          },
        },
        (l) => this.log(l),
      );
      try {
        this.log(`  ${reach} links logged in in ${(pop.info.loginMs / 1000).toFixed(1)} s; holding them idle for ${c.holdMs / 1000} s`);
        const idle = await pop.idle(c.holdMs, 2000);
        clearInterval(ticker);
        await sampling;
        const after = await srv.sample(true);
        this.log(
          `  after the hold: server RSS ${mb(after?.rssBytes)}, heap ${mb(after?.heapUsedBytes)}, open links ${after?.openLinks}, client-seen drops ${idle.linkDrops}`,
        );
        if (c.liveRate > 0) {
          const at = this.sec();
          const live = await pop.run({ name: 'sends across the idle links', mode: 'open', rate: c.liveRate, durationMs: c.liveMs, maxMessages: c.liveRate * 60, contentBytes: [40, 120], quiesceTimeoutMs: this.o.profile.quiesceTimeoutMs });
          this.record(live, 'capacity', 'live', at, { population: pop.info });
        }
        const b = before?.rssBytes ?? 0;
        report = {
          wantedLinks: c.links,
          reachedLinks: reach,
          fdLimit,
          heartbeatSec: c.heartbeatSec,
          holdMs: c.holdMs,
          loginMs: pop.info.loginMs,
          serverOpenLinksAfterHold: after?.openLinks,
          linkDropsDuringHold: idle.linkDrops,
          server: {
            rssBefore: b,
            rssAfter: after?.rssBytes ?? 0,
            ...(before?.heapUsedBytes !== undefined ? { heapBefore: before.heapUsedBytes } : {}),
            ...(after?.heapUsedBytes !== undefined ? { heapAfter: after.heapUsedBytes } : {}),
          },
          bare: undefined,
          rssPerLinkBytes: Math.round(((after?.rssBytes ?? 0) - b) / reach),
          ...(before?.heapUsedBytes !== undefined && after?.heapUsedBytes !== undefined
            ? { heapPerLinkBytes: Math.round((after.heapUsedBytes - before.heapUsedBytes) / reach) }
            : {}),
          memory,
          bareMemory,
        };
      } finally {
        pop.close();
      }
    } finally {
      clearInterval(ticker);
      await sampling;
      await srv.close();
    }
    if (this.o.profile.bare) {
      this.log(`  bare TCP server holding ${reach} idle sockets`);
      const bare = await ServerChild.start(['--mode', 'bare-tcp', '--host', HOST]);
      this.children.add(bare);
      try {
        const before = await bare.sample(true);
        if (before) bareMemory.push({ t: this.sec(), rssBytes: before.rssBytes, openLinks: 0 });
        const sockets = await openIdleSockets(HOST, bare.ready.port, reach);
        try {
          await new Promise((r) => setTimeout(r, 3000));
          const after = await bare.sample(true);
          if (after) bareMemory.push({ t: this.sec(), rssBytes: after.rssBytes, openLinks: sockets.length });
          report.bare = {
            sockets: sockets.length,
            rssBefore: before?.rssBytes ?? 0,
            rssAfter: after?.rssBytes ?? 0,
            ...(before?.heapUsedBytes !== undefined ? { heapBefore: before.heapUsedBytes } : {}),
            ...(after?.heapUsedBytes !== undefined ? { heapAfter: after.heapUsedBytes } : {}),
          };
          report.bareRssPerSocketBytes = Math.round(((after?.rssBytes ?? 0) - (before?.rssBytes ?? 0)) / sockets.length);
          if (before?.heapUsedBytes !== undefined && after?.heapUsedBytes !== undefined) {
            report.bareHeapPerSocketBytes = Math.round((after.heapUsedBytes - before.heapUsedBytes) / sockets.length);
          }
          this.log(`  bare: RSS ${mb(before?.rssBytes)} → ${mb(after?.rssBytes)}, heap ${mb(before?.heapUsedBytes)} → ${mb(after?.heapUsedBytes)}`);
        } finally {
          for (const s of sockets) s.destroy();
        }
      } finally {
        await bare.close();
        this.children.delete(bare);
      }
    }
    return report;
  }

  async k6Stage(srv: SyncKeyServer, outDir: string): Promise<K6Report> {
    const k6 = findOnPath('k6');
    if (!k6) return { ran: false, why: 'no k6 binary on PATH (install k6 to run loadtest/k6/*.js)', scripts: [] };
    const k = this.o.profile.k6;
    const scripts: K6Report['scripts'] = [];
    for (const script of ['web.js', 'longlink.js']) {
      const summary = path.join(outDir, `k6-${script.replace('.js', '')}.json`);
      const t0 = performance.now();
      this.log(`k6 run loadtest/k6/${script} (${k.vus} VUs, ${k.duration})`);
      const code = await new Promise<number | null>((resolve) => {
        const child = spawn(
          k6,
          [
            'run',
            '--quiet',
            '-e',
            `BASE_URL=${srv.target.server}`,
            '-e',
            `VUS=${k.vus}`,
            '-e',
            `DURATION=${k.duration}`,
            '-e',
            `SEND_RATE=${k.sendRate}`,
            '-e',
            `SUMMARY_OUT=${summary}`,
            // Seconds the scripts wait for the last deliveries: short, so a loss fails the thresholds, not the time bound.
            '-e',
            'DRAIN=5',
            '-e',
            `RUN_TAG=${this.tag}${script[0]}`,
            path.join(ROOT, 'loadtest/k6', script),
          ],
          { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
        );
        const timer = setTimeout(() => child.kill('SIGKILL'), 3 * 60_000);
        child.on('exit', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
        child.on('error', () => resolve(null));
      });
      scripts.push({ script: `loadtest/k6/${script}`, exitCode: code, ...(fs.existsSync(summary) ? { summaryFile: path.basename(summary) } : {}), ms: performance.now() - t0 });
    }
    return { ran: true, scripts };
  }

  cleanup(): void {
    for (const c of this.children) c.kill();
    if (!this.o.keepDb) fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

function mb(b: number | undefined): string {
  return b === undefined ? '?' : `${(b / 1048576).toFixed(1)} MB`;
}

function findOnPath(bin: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, bin);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function main(): Promise<number> {
  let o: Options | 'help';
  try {
    o = parseCli(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (o === 'help') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const p = o.profile;
  const run = new Run(o);
  const startedAt = new Date().toISOString();
  const load0 = os.loadavg()[0] ?? 0;
  const watchdog = setTimeout(() => {
    process.stderr.write(`error: the ${p.name} profile overran its bound of ${p.maxRunMs / 1000} s; stopping\n`);
    run.cleanup();
    process.exit(3);
  }, p.maxRunMs);
  watchdog.unref();
  const outDir = path.resolve(o.out);
  fs.mkdirSync(outDir, { recursive: true });
  run.log(`profile ${p.name}: ${p.description}; report in ${path.relative(process.cwd(), outDir) || '.'}`);

  let capacity: CapacityReport | undefined;
  let k6: K6Report | undefined;
  try {
    if (p.transports || p.mixed || o.k6) {
      const srv = await run.startSyncKey();
      run.children.add(srv);
      try {
        if (!o.server && !o.inProcess) run.log(`server child on ${srv.target.server} and tcp ${srv.target.tcp}`);
        if (p.transports) await run.transportStages(srv);
        if (p.mixed) await run.mixedStage(srv);
        if (o.k6) k6 = await run.k6Stage(srv, outDir);
      } finally {
        await srv.close();
        run.children.delete(srv);
      }
    }
    if (p.transports && p.bare) await run.bareStages();
    if (p.capacity) capacity = await run.capacityStage();
  } catch (e) {
    run.log(`error: ${(e as Error).stack ?? String(e)}`);
    run.cleanup();
    clearTimeout(watchdog);
    return 1;
  }
  run.cleanup();
  clearTimeout(watchdog);

  const thresholds = checkThresholds(p, run.phases, capacity, k6);
  const server = run.phases.filter((x) => x.kind === 'synckey');
  const report: Report = {
    profile: p.name,
    description: p.description,
    startedAt,
    durationMs: Math.round(performance.now() - run.t0),
    env: { node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryBytes: os.totalmem(), fdLimit: openFileLimit(), loadAvg: [load0, os.loadavg()[0] ?? 0] },
    server: {
      where: o.server ? 'external' : o.inProcess ? 'in-process' : 'child',
      db: o.server ? 'external' : 'temporary SQLite file',
      synchronous: p.server.synchronous,
      holdMs: p.server.holdMs,
      heartbeatSec: p.server.heartbeatSec,
      scryptN: p.server.scryptN,
    },
    phases: run.phases,
    ...(capacity ? { capacity } : {}),
    ...(k6 ? { k6 } : o.k6 ? {} : { k6: { ran: false, why: 'not asked for (pass --k6)', scripts: [] } }),
    thresholds,
    passed: thresholds.every((t) => t.ok),
    totals: {
      lost: server.reduce((n, x) => n + x.lost, 0),
      duplicated: server.reduce((n, x) => n + x.duplicated, 0),
      mismatched: server.reduce((n, x) => n + x.mismatched, 0),
    },
  };
  fs.writeFileSync(path.join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(path.join(outDir, 'summary.md'), summaryMarkdown(report));
  fs.writeFileSync(path.join(outDir, 'chart.svg'), chartSvg(report));
  for (const t of thresholds) run.log(`${t.ok ? 'ok  ' : 'FAIL'} ${t.what}: ${t.detail}`);
  run.log(`${report.passed ? 'passed' : 'FAILED'}: lost ${report.totals.lost}, duplicated ${report.totals.duplicated}; ${path.join(outDir, 'summary.md')}`);
  return report.passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`loadtest failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
