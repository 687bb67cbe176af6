// Peers: Redis Streams and NATS JetStream under the shape of the server's TCP
// phases, each started by the run (a temporary folder, a free loopback port)
// when its binary is on PATH, with a peak phase and a phase at the server's
// latency rate, through the same driver and delivery ledger. With the peers
// profile (a shape of its own and a fixed rate) this stage also runs the
// server's TCP phases and the bare TCP echo in that shape. Its section is
// written to peers.md and peers.json in the report folder.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runBarePhase } from './bare.ts';
import { runPhase } from '../phase-runner.ts';
import type { PhaseResult, PhaseSpec } from '../phase.ts';
import { Population } from '../population.ts';
import type { PeerStages, TransportStages } from '../profiles.ts';
import type { PhaseRecord } from '../report.ts';
import { HOST, type RunContext } from '../run-context.ts';
import type { SyncKeyServer } from '../server-under-test.ts';
import { ServerChild } from '../server-process.ts';
import { fsyncProbe } from '../peers/fsync-probe.ts';
import { startJetStream } from '../peers/jetstream.ts';
import { runPeerPhase } from '../peers/peer-phase.ts';
import { PeerPopulation } from '../peers/peer-population.ts';
import { findOnPath } from '../peers/peer-process.ts';
import { peersLogLines, peersMarkdown, type PeerRow, type PeersReport } from '../peers/peer-report.ts';
import type { PeerSystem } from '../peers/peer-system.ts';
import { startRedisStreams } from '../peers/redis-streams.ts';

/** The bare echo answers far faster than any durable system: its phases may send this many times the shape's bound. */
const BARE_MAX_MESSAGES_FACTOR = 10;
const BARE_QUIESCE_TIMEOUT_MS = 10_000;

interface Peer {
  bin: string;
  install: string;
  what: string;
  start: (bin: string, host: string, under: string, log: (line: string) => void) => Promise<PeerSystem>;
}

const PEERS: Peer[] = [
  { bin: 'redis-server', install: 'apt-get install redis-server', what: 'Redis Streams', start: startRedisStreams },
  { bin: 'nats-server', install: 'apt-get install nats-server', what: 'NATS JetStream', start: startJetStream },
];

/** The shape and the latency rate the peers run: the stage's own, or the profile's TCP stages at the server's half-peak rate. */
export function peerPlan(run: RunContext, peers: PeerStages): { shape: TransportStages; rate: number | undefined } {
  if (peers.own) return { shape: peers.own.shape, rate: peers.own.fixedRate };
  const shape = run.o.profile.transports;
  if (!shape) throw new Error(`the ${run.o.profile.name} profile has no transport stages for the peers to repeat`);
  return { shape, rate: run.halfRates.get('tcp') };
}

function describeShape(s: TransportStages): string {
  const bytes = s.contentBytes[0] === s.contentBytes[1] ? `${s.contentBytes[0]}-byte` : `${s.contentBytes[0]}–${s.contentBytes[1]}-byte`;
  const groups = s.groups > 0 ? `${s.groups} group${s.groups > 1 ? 's' : ''} of ${s.groupSize} accounts (${Math.round(s.groupSendFraction * 100)}% of sends)` : 'no groups';
  return (
    `${s.clients} devices, ${s.devicesPerAccount} per account, ${groups}, ` +
    `${bytes} messages, a window of ${s.window} per device (${s.clients * s.window} sends in flight) for ${s.saturateMs / 1000} s, then ${s.halfRateMs / 1000} s at the rate`
  );
}

const base = (s: TransportStages, run: RunContext): Pick<PhaseSpec, 'groupSendFraction' | 'contentBytes' | 'maxMessages' | 'quiesceTimeoutMs'> => ({
  groupSendFraction: s.groupSendFraction,
  contentBytes: s.contentBytes,
  maxMessages: s.maxMessages,
  quiesceTimeoutMs: run.o.profile.quiesceTimeoutMs,
});

/** The server's TCP long link in the stage's own shape: a peak phase, then the fixed rate. Recorded as the TCP phases of the run. */
export async function peerServerStage(run: RunContext, srv: SyncKeyServer, own: NonNullable<PeerStages['own']>): Promise<void> {
  const s = own.shape;
  run.log(`server TCP: ${describeShape(s)} (${own.fixedRate}/s)`);
  const pop = await Population.create(
    srv.target,
    { prefix: `p${run.tag}x`, tcp: s.clients, ws: 0, http: 0, devicesPerAccount: s.devicesPerAccount, groups: s.groups, groupSize: s.groupSize },
    (l) => run.log(l),
  );
  try {
    let at = run.sec();
    const peak = await runPhase(pop, { ...base(s, run), name: 'tcp peak', mode: 'saturate', window: s.window, durationMs: s.saturateMs });
    run.record(peak, 'tcp', 'peak', at, { population: pop.info });
    run.halfRates.set('tcp', own.fixedRate);
    at = run.sec();
    const fixed = await runPhase(pop, { ...base(s, run), name: `tcp at ${own.fixedRate}/s`, mode: 'open', rate: own.fixedRate, durationMs: s.halfRateMs });
    run.record(fixed, 'tcp', 'half-peak', at, { population: pop.info });
  } finally {
    pop.close();
  }
}

/** The bare TCP echo in the stage's own shape, in a child process. */
async function bareTcp(run: RunContext, s: TransportStages, rate: number): Promise<void> {
  run.log('bare TCP echo');
  const c = await ServerChild.start(['--mode', 'bare-tcp', '--host', HOST]);
  run.children.add(c);
  try {
    const target = { kind: 'tcp' as const, host: HOST, port: c.ready.port, sample: () => c.sample() };
    const spec = { contentBytes: s.contentBytes, maxMessages: s.maxMessages * BARE_MAX_MESSAGES_FACTOR, quiesceTimeoutMs: BARE_QUIESCE_TIMEOUT_MS };
    let at = run.sec();
    run.record(await runBarePhase(target, s.clients, { ...spec, name: 'bare tcp peak', mode: 'saturate', window: s.window, durationMs: s.saturateMs }), 'tcp', 'peak', at);
    at = run.sec();
    run.record(await runBarePhase(target, s.clients, { ...spec, name: `bare tcp at ${rate}/s`, mode: 'open', rate, durationMs: s.halfRateMs }), 'tcp', 'half-peak', at);
  } finally {
    await c.close();
    run.children.delete(c);
  }
}

function logPhase(run: RunContext, r: PhaseResult | Awaited<ReturnType<typeof runPeerPhase>>): void {
  run.log(
    `  ${r.name}: ${r.sent} sent, ${r.acked} acked, durable ${r.durablePerSec}/s, p50 ${r.deliveryLatencyMs.p50} ms p99 ${r.deliveryLatencyMs.p99} ms, ` +
      `lost ${r.lost}, dup ${r.duplicated}${r.quiesced ? '' : ' (NOT QUIESCED)'}${r.serverCpuPct !== undefined ? `, its CPU ${r.serverCpuPct}%` : ''}, driver CPU ${r.driverCpuPct}%`,
  );
}

/** One peer: started, its population laid out, a peak phase and a phase at the rate, stopped. */
async function onePeer(run: RunContext, p: Peer, bin: string, s: TransportStages, rate: number): Promise<PeerRow> {
  const system = await p.start(bin, HOST, run.tmp, (l) => run.log(l));
  run.children.add(system);
  run.log(`${system.title}: ${system.durability}`);
  let pop: PeerPopulation | undefined;
  try {
    pop = await PeerPopulation.create(
      system,
      { prefix: `${p.bin.slice(0, 4)}${run.tag}x`, devices: s.clients, devicesPerAccount: s.devicesPerAccount, groups: s.groups, groupSize: s.groupSize },
      (l) => run.log(l),
    );
    const name = p.what.split(' ')[0]!.toLowerCase();
    const peak = await runPeerPhase(pop, { ...base(s, run), name: `${name} peak`, mode: 'saturate', window: s.window, durationMs: s.saturateMs });
    logPhase(run, peak);
    const atRate = await runPeerPhase(pop, { ...base(s, run), name: `${name} at ${rate}/s`, mode: 'open', rate, durationMs: s.halfRateMs });
    logPhase(run, atRate);
    return { system: system.title, durability: system.durability, peak, atRate };
  } finally {
    if (pop) await pop.close();
    else await system.close();
    run.children.delete(system);
  }
}

function serverRow(run: RunContext, kind: 'synckey' | 'bare-tcp', system: string, durability: string): PeerRow | undefined {
  const find = (stage: PhaseRecord['stage']): PhaseRecord | undefined => run.phases.find((x) => x.kind === kind && x.transport === 'tcp' && x.stage === stage);
  const peak = find('peak');
  const atRate = find('half-peak');
  if (!peak && !atRate) return undefined;
  return { system, durability, ...(peak ? { peak } : {}), ...(atRate ? { atRate } : {}) };
}

/** Runs the peers (and, with its own shape, the bare TCP echo), writes peers.md and peers.json to `outDir`, and returns the section. */
export async function peerStages(run: RunContext, peers: PeerStages, outDir: string): Promise<PeersReport> {
  const { shape, rate } = peerPlan(run, peers);
  const notes: string[] = [];
  const load0 = os.loadavg()[0] ?? 0;
  const fsync = fsyncProbe(run.tmp);
  run.log(`this disk: 4 KiB write + fdatasync p50 ${fsync.p50Ms} ms, p99 ${fsync.p99Ms} ms, max ${fsync.maxMs} ms`);
  if (peers.own) await bareTcp(run, shape, peers.own.fixedRate);
  const rows: PeerRow[] = [];
  for (const p of PEERS) {
    const bin = findOnPath(p.bin);
    if (!bin) {
      notes.push(`${p.what}: not measured, \`${p.bin}\` is not on PATH (${p.install}).`);
      run.log(`${p.what}: not measured, ${p.bin} is not on PATH`);
      continue;
    }
    if (rate === undefined) {
      notes.push(`${p.what}: not measured, the server's TCP latency phase did not run, so there is no rate to repeat.`);
      continue;
    }
    try {
      rows.push(await onePeer(run, p, bin, shape, rate));
    } catch (e) {
      notes.push(`${p.what}: failed: ${(e as Error).message.split('\n')[0]}`);
      run.log(`${p.what} failed: ${(e as Error).stack ?? String(e)}`);
    }
  }
  const sync = run.o.profile.server.synchronous;
  const server = serverRow(run, 'synckey', 'this server, TCP long link', `SQLite WAL, synchronous ${sync}, group commit`);
  const bare = serverRow(run, 'bare-tcp', 'bare Node TCP echo (the floor)', 'none');
  const report: PeersReport = {
    shape: describeShape(shape),
    rate,
    loadAvg: [load0, os.loadavg()[0] ?? 0],
    cpus: os.cpus().length,
    fsync,
    ...(server ? { server } : {}),
    peers: rows,
    ...(bare ? { bare } : {}),
    notes,
  };
  fs.writeFileSync(path.join(outDir, 'peers.md'), peersMarkdown(report));
  fs.writeFileSync(path.join(outDir, 'peers.json'), `${JSON.stringify(report, null, 2)}\n`);
  for (const l of peersLogLines(report)) run.log(l);
  return report;
}
