// `npm run loadtest -- --profile smoke|baseline|stress|capacity|abuse|peers [--peers] [--k6] [--out DIR]`
//
// Starts the SyncKey server in a child process on a temporary SQLite database
// and ephemeral loopback ports, runs the load driver with the profile's shape,
// measures bare Node servers (TCP echo, WebSocket echo, HTTP) under the same
// shape in the same run, optionally runs the k6 scripts, and writes
// reports/<profile>-<timestamp>/{report.json, summary.md, chart.svg}. The abuse
// profile runs hostile users instead, one attack at a time, each against a
// server of its own (stages/abuse.ts); its results join the same files.
// The peers profile, or --peers on a profile with transport stages, also
// runs Redis Streams and NATS JetStream under the TCP phases' shape
// (stages/peers.ts), and writes their section to peers.md and peers.json.
// Exits 1 if anything was lost or duplicated or a threshold failed, 2 on a
// usage error, 3 if the run overran its time bound.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseHostPort, parseServerUrl } from '../client/net/server-address.ts';
import { assertLoopback } from './loopback.ts';
import { openFileLimit } from './memory.ts';
import { peersMarkdown, type PeersReport } from './peers/peer-report.ts';
import { ATTACK_NAMES, PROFILES, profileByName, type AttackName, type Profile } from './profiles.ts';
import { chartSvg, summaryMarkdown, type CapacityReport, type K6Report, type Report } from './report.ts';
import { RunContext, type Options } from './run-context.ts';
import { startSyncKey } from './server-under-test.ts';
import { abuseMarkdown, abuseStage, type AbuseReport } from './stages/abuse.ts';
import { bareStages } from './stages/bare.ts';
import { capacityStage } from './stages/capacity.ts';
import { k6Stage } from './stages/k6.ts';
import { mixedStage } from './stages/mixed.ts';
import { peerServerStage, peerStages } from './stages/peers.ts';
import { transportStages } from './stages/transport.ts';
import { checkThresholds } from './thresholds.ts';

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
  --peers             also run Redis Streams and NATS JetStream (redis-server, nats-server on PATH)
                      under the TCP phases' shape and half-peak rate; the peers profile always does
  --in-process        run the server inside the driver's process (memory then includes the driver)
  --server URL        drive an already running server (npm start) instead: its HTTP base URL,
  --tcp HOST:PORT     and its TCP long-link address; loopback only
  --server-pid PID    that server's process id, to sample its memory from /proc
  --synchronous MODE  SQLite durability of the server: FULL (the profile's default: survives power loss)
                      or NORMAL (survives a process crash), to see what fsync costs
  --storage-thread on|off
                      commit on the server's storage thread or on its event loop
                      (the server's default, off), to see what the thread buys
  --attacks A,B       the abuse profile's attacks to run (default all: ${ATTACK_NAMES.join(', ')})
  --keep-db           keep the temporary SQLite database
  -h, --help          show this help and exit

Examples:
  npm run loadtest -- --profile smoke
  npm run loadtest -- --profile capacity --out reports/capacity
  npm run loadtest -- --profile abuse
  npm run loadtest -- --profile peers
  npm run loadtest -- --profile baseline --peers
  npm start -- --db /tmp/x.db --scrypt-n 2 & npm run loadtest -- --profile baseline --server http://127.0.0.1:8080 --tcp 127.0.0.1:8081`;

class UsageError extends Error {}

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
        peers: { type: 'boolean' },
        'in-process': { type: 'boolean' },
        server: { type: 'string' },
        tcp: { type: 'string' },
        'server-pid': { type: 'string' },
        'keep-db': { type: 'boolean' },
        synchronous: { type: 'string' },
        'storage-thread': { type: 'string' },
        attacks: { type: 'string' },
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
  if (values.k6 && profile.abuse) throw new UsageError('--k6 does not apply to the abuse profile');
  if (values.peers && !profile.peers) {
    if (!profile.transports) throw new UsageError(`--peers repeats the TCP phases, and the ${profile.name} profile has none`);
    profile = { ...profile, peers: {} };
  }
  const sync = values.synchronous;
  if (sync !== undefined && sync !== 'FULL' && sync !== 'NORMAL') throw new UsageError(`--synchronous must be FULL or NORMAL, got '${sync}'`);
  if (sync) profile = { ...profile, server: { ...profile.server, synchronous: sync } };
  const thread = values['storage-thread'];
  if (thread !== undefined && thread !== 'on' && thread !== 'off') throw new UsageError(`--storage-thread must be on or off, got '${thread}'`);
  if (thread) profile = { ...profile, server: { ...profile.server, storageThread: thread === 'on' } };
  if (values.attacks !== undefined) {
    if (!profile.abuse) throw new UsageError('--attacks applies to the abuse profile only');
    const names = values.attacks.split(',').map((n) => n.trim());
    const unknown = names.filter((n) => !(ATTACK_NAMES as readonly string[]).includes(n));
    if (unknown.length > 0) throw new UsageError(`unknown attack '${unknown[0]}': one of ${ATTACK_NAMES.join(', ')}`);
    profile = { ...profile, abuse: { ...profile.abuse, only: names as AttackName[] } };
  }
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
  const run = new RunContext(o);
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
  let abuse: AbuseReport | undefined;
  let peers: PeersReport | undefined;
  let failure: unknown;
  try {
    if (p.transports || p.mixed || o.k6 || p.peers?.own) {
      const srv = await startSyncKey(run);
      run.children.add(srv);
      try {
        if (!o.server && !o.inProcess) run.log(`server child on ${srv.target.server} and tcp ${srv.target.tcp}`);
        if (p.transports) await transportStages(run, srv);
        if (p.peers?.own) await peerServerStage(run, srv, p.peers.own);
        if (p.mixed) await mixedStage(run, srv);
        if (o.k6) k6 = await k6Stage(run, srv, outDir);
      } finally {
        await srv.close();
        run.children.delete(srv);
      }
    }
    if (p.transports && p.bare) await bareStages(run);
  } catch (e) {
    failure = e;
  }
  try {
    // The peers are measured even when the server's stages failed: their figures stand on their own.
    if (p.peers && (!failure || p.peers.own)) {
      if (failure) run.log(`the server's stages failed (${(failure as Error).message.split('\n')[0]}); the peers still run`);
      peers = await peerStages(run, p.peers, outDir);
    }
    if (!failure && p.capacity) capacity = await capacityStage(run);
    if (!failure && p.abuse) abuse = await abuseStage(run);
  } catch (e) {
    failure ??= e;
  }
  if (failure) {
    run.log(`error: ${(failure as Error).stack ?? String(failure)}`);
    run.cleanup();
    clearTimeout(watchdog);
    return 1;
  }
  run.cleanup();
  clearTimeout(watchdog);

  const thresholds = [...checkThresholds(p, run.phases, capacity, k6), ...(abuse?.attacks.flatMap((a) => a.checks) ?? [])];
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
      storageThread: p.server.storageThread === true,
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
  fs.writeFileSync(path.join(outDir, 'report.json'), `${JSON.stringify({ ...report, ...(abuse ? { abuse } : {}), ...(peers ? { peers } : {}) }, null, 2)}\n`);
  fs.writeFileSync(path.join(outDir, 'summary.md'), summaryMarkdown(report) + (abuse ? `\n${abuseMarkdown(abuse)}` : '') + (peers ? `\n${peersMarkdown(peers)}` : ''));
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
