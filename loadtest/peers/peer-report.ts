// The peers section of a load-test report (peers.md and peers.json in the
// report folder, and a few lines on stdout): the server's TCP long link, Redis
// Streams, NATS JetStream and the bare TCP echo under one shape in one run,
// and every server figure as a ratio to each of the others.
import type { PhaseResult } from '../phase.ts';
import type { FsyncProbe } from './fsync-probe.ts';
import type { PeerPhaseResult } from './peer-phase.ts';

/** What was measured of one system: its peak phase and its latency phase at the common rate. */
export interface PeerRow {
  system: string;
  durability: string;
  peak?: PhaseResult | PeerPhaseResult;
  atRate?: PhaseResult | PeerPhaseResult;
}

export interface PeersReport {
  /** Devices, devices per account, groups, content bytes, window: the shape every system ran. */
  shape: string;
  rate: number | undefined;
  /** 1-minute load average when the peers began and when they ended, and the cores: other work on the machine skews every figure. */
  loadAvg: [number, number];
  cpus: number;
  /** The disk under the temporary folders, measured as the peers stage began. */
  fsync: FsyncProbe;
  server?: PeerRow;
  peers: PeerRow[];
  bare?: PeerRow;
  /** One line per peer not measured: binary missing, or it failed. */
  notes: string[];
}

/** A system that made less than this share of the offered sends durable per second fell behind them. */
const KEPT_UP = 0.95;
const n0 = (x: number): string => Math.round(x).toLocaleString('en-US');
const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** a ÷ b as "2.5×" or "1/4.0"; "–" when either is missing. */
export function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !(a > 0) || !(b > 0)) return '–';
  const x = a / b;
  const f = (y: number): string => y.toFixed(y >= 100 ? 0 : y >= 10 ? 1 : 2);
  return x >= 1 ? `${f(x)}×` : `1/${f(1 / x)}`;
}

const lat = (p: PhaseResult | PeerPhaseResult | undefined): string => (p ? `${ms(p.deliveryLatencyMs.p50)} / ${ms(p.deliveryLatencyMs.p99)} ms` : '–');
const lostDup = (r: PeerRow): string => {
  const ps = [r.peak, r.atRate].filter((p): p is PhaseResult | PeerPhaseResult => p !== undefined);
  const quiet = ps.every((p) => p.quiesced) ? '' : ' (not quiesced)';
  return `${ps.reduce((n, p) => n + p.lost, 0)} / ${ps.reduce((n, p) => n + p.duplicated, 0)}${quiet}`;
};

export function peersMarkdown(r: PeersReport): string {
  const out: string[] = [];
  const rate = r.rate !== undefined ? `${n0(r.rate)}/s` : 'the common rate';
  out.push('## Peers: the server beside Redis Streams, NATS JetStream and a bare TCP echo', '');
  out.push(
    `One driver, one shape (${r.shape}), back to back in one run. Peak: every device keeps a window of unanswered sends (closed loop); ` +
      `a message is *durable* once its sender was answered (after the system's durable append) and every device meant for it has it. ` +
      `Then Poisson arrivals at ${rate} (open model): send-to-delivery latency at each receiving device. Lost and duplicated ` +
      'come from the same delivery ledger for every system. The bare echo\'s "delivery" is its echo: the floor of the driver and of loopback. ' +
      `Every system and the driver share ${r.cpus} cores; load average ${r.loadAvg[0].toFixed(2)} as the peers began, ${r.loadAvg[1].toFixed(2)} as they ended. ` +
      `The disk under them: a 4 KiB write + fdatasync took p50 ${r.fsync.p50Ms} ms, p99 ${r.fsync.p99Ms} ms, max ${r.fsync.maxMs} ms (${r.fsync.writes} writes, between the server's phases and the peers).`,
    '',
  );
  const rows = [r.server, ...r.peers, r.bare].filter((x): x is PeerRow => x !== undefined);
  out.push(`| system | durability | peak durable msg/s | durable msg/s at ${rate} | p50 / p99 delivery at ${rate} | p50 / p99 send→ack | lost / dup | its CPU at peak |`);
  out.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const x of rows) {
    out.push(
      `| ${x.system} | ${x.durability} | ${x.peak ? n0(x.peak.durablePerSec) : '–'} | ${x.atRate ? n0(x.atRate.durablePerSec) : '–'} | ${lat(x.atRate)} | ` +
        `${x.atRate ? `${ms(x.atRate.ackLatencyMs.p50)} / ${ms(x.atRate.ackLatencyMs.p99)} ms` : '–'} | ${lostDup(x)} | ` +
        `${x.peak?.serverCpuPct !== undefined ? `${x.peak.serverCpuPct}%` : '–'} |`,
    );
  }
  out.push('');
  // Against what the Poisson arrivals really offered in the phase's send window, not the nominal rate.
  const offered = (p: PhaseResult | PeerPhaseResult): number => (p.sent / Math.max(1, p.sendWindowMs)) * 1000;
  const behind = rows.filter((x) => x.atRate && x.atRate.durablePerSec < offered(x.atRate) * KEPT_UP);
  if (behind.length) {
    out.push(`Below ${rate} durable: ${behind.map((x) => x.system).join(', ')}. What they could not keep up with queued, so their latency there is mostly waiting.`, '');
  }
  const s = r.server;
  if (s) {
    out.push(`### The server as a ratio to each`, '');
    out.push('Throughput: server ÷ other (above 1× the server is faster). Latency: server ÷ other (above 1× the server is slower).', '');
    out.push('| against | peak durable msg/s | p50 delivery | p99 delivery |');
    out.push('| --- | ---: | ---: | ---: |');
    for (const x of [...r.peers, r.bare].filter((y): y is PeerRow => y !== undefined)) {
      out.push(
        `| ${x.system} | ${ratio(s.peak?.durablePerSec, x.peak?.durablePerSec)} | ` +
          `${ratio(s.atRate?.deliveryLatencyMs.p50, x.atRate?.deliveryLatencyMs.p50)} | ${ratio(s.atRate?.deliveryLatencyMs.p99, x.atRate?.deliveryLatencyMs.p99)} |`,
      );
    }
    out.push('');
  }
  for (const n of r.notes) out.push(`- ${n}`);
  if (r.notes.length) out.push('');
  return out.join('\n');
}

/** The lines the run prints at the end of the peers stage. */
export function peersLogLines(r: PeersReport): string[] {
  const s = r.server;
  const lines: string[] = [];
  for (const x of [...r.peers, r.bare].filter((y): y is PeerRow => y !== undefined)) {
    lines.push(
      `server ÷ ${x.system}: peak ${ratio(s?.peak?.durablePerSec, x.peak?.durablePerSec)}, ` +
        `p50 ${ratio(s?.atRate?.deliveryLatencyMs.p50, x.atRate?.deliveryLatencyMs.p50)}, p99 ${ratio(s?.atRate?.deliveryLatencyMs.p99, x.atRate?.deliveryLatencyMs.p99)}`,
    );
  }
  return [...lines, ...r.notes];
}
