// What the abuse profile reports per attack (in report.json under `abuse`,
// and as a section of summary.md), and the checks that decide it: honest
// round trips and deliveries under the p99 bound, the server's memory
// growth under its bound, no acknowledged honest message lost, and the
// server still answering afterwards.
import type { LatencySummary } from '../../phase.ts';
import type { ThresholdCheck } from '../../report.ts';

export interface HonestFigures {
  heartbeatMs: { tcp: LatencySummary; ws: LatencySummary };
  /** webwxsync round trips of the HTTP probe. */
  httpMs: LatencySummary;
  deliveryMs: LatencySummary;
  sent: number;
  acked: number;
  failed: number;
  lost: number;
  duplicated: number;
  quiesced: boolean;
  probeTimeouts: number;
  probeDrops: number;
  linkDrops: number;
  httpFailures: number;
}

export interface AttackMemory {
  /** After a full GC, before the attack. */
  rssBeforeBytes?: number;
  /** The most seen during the attack (and the honest load's end). */
  rssPeakBytes?: number;
  /** After a full GC, once it is over. */
  rssAfterBytes?: number;
  heapBeforeBytes?: number;
  heapAfterBytes?: number;
  /** Peak − before. */
  rssGrowthBytes?: number;
}

export interface AttackResult {
  name: string;
  title: string;
  what: string;
  /** Seconds since the run began. */
  startSec: number;
  /** How long the attack ran. */
  attackMs: number;
  scryptN: number;
  /** What the attacker did: counts by what. */
  figures: Record<string, number>;
  /** The server's answers to it, by kind: refusals (an HTTP status or Ret, an op 6 and its code, a close) and acceptances. */
  refused: Record<string, number>;
  accepted: Record<string, number>;
  notes: string[];
  memory: AttackMemory;
  serverCpuPct?: number;
  honest?: HonestFigures;
  /** The server took a new link and answered a heartbeat on it after the attack. */
  serverAlive: boolean;
  serverProcess: 'running' | 'gone' | 'not started';
  /** The attack or its set-up failed to run (the figures are then partial). */
  error?: string;
  checks: ThresholdCheck[];
}

export interface AbuseReport {
  thresholds: { maxHonestP99Ms: number; maxRssGrowthBytes: number };
  attacks: AttackResult[];
}

const MB = 1024 * 1024;
const mb = (b: number | undefined): string => (b === undefined ? '–' : `${(b / MB).toFixed(1)} MB`);
const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const n0 = (x: number): string => Math.round(x).toLocaleString('en-US');

/** The checks of one attack. */
export function attackChecks(r: Omit<AttackResult, 'checks'>, t: AbuseReport['thresholds']): ThresholdCheck[] {
  const checks: ThresholdCheck[] = [];
  const h = r.honest;
  const bound = t.maxHonestP99Ms;
  if (!h) {
    checks.push({ what: `${r.name}: honest clients measured`, ok: false, detail: r.error ?? 'no honest figures' });
  } else {
    const worst = Math.max(h.heartbeatMs.tcp.p99, h.heartbeatMs.ws.p99, h.httpMs.p99);
    checks.push({
      what: `${r.name}: honest round trip p99 < ${bound} ms`,
      ok: worst < bound && h.probeTimeouts === 0,
      detail: `heartbeat TCP ${ms(h.heartbeatMs.tcp.p99)} ms, WS ${ms(h.heartbeatMs.ws.p99)} ms; HTTP webwxsync ${ms(h.httpMs.p99)} ms; ${h.probeTimeouts} probes unanswered`,
    });
    checks.push({
      what: `${r.name}: honest delivery p99 < ${bound} ms`,
      ok: h.deliveryMs.count > 0 && h.deliveryMs.p99 < bound,
      detail: `${ms(h.deliveryMs.p99)} ms over ${n0(h.deliveryMs.count)} deliveries (max ${ms(h.deliveryMs.max)} ms)`,
    });
    checks.push({
      what: `${r.name}: no acknowledged honest message lost`,
      ok: h.lost === 0 && h.duplicated === 0,
      detail: `${h.acked} of ${h.sent} acknowledged; lost ${h.lost}, duplicated ${h.duplicated}, failed ${h.failed}${h.quiesced ? '' : ', NOT QUIESCED'}`,
    });
  }
  const g = r.memory.rssGrowthBytes;
  checks.push({
    what: `${r.name}: server RSS growth < ${mb(t.maxRssGrowthBytes)}`,
    ok: g === undefined ? r.serverAlive : g < t.maxRssGrowthBytes,
    detail: g === undefined ? 'not measured' : `${mb(r.memory.rssBeforeBytes)} → peak ${mb(r.memory.rssPeakBytes)} (+${mb(g)}); ${mb(r.memory.rssAfterBytes)} after, GC'd`,
  });
  const survival =
    r.error ??
    (r.serverAlive ? 'yes' : r.serverProcess === 'gone' ? 'NO: the server process is gone' : 'NO: the process runs, but a new link got no heartbeat answer within 5 s');
  checks.push({ what: `${r.name}: the server survived and answers`, ok: r.serverAlive && r.error === undefined, detail: survival });
  return checks;
}

function top(rec: Record<string, number>, k: number): string {
  const e = Object.entries(rec);
  if (e.length === 0) return 'none';
  const shown = e.slice(0, k).map(([what, n]) => `${what} ×${n0(n)}`);
  return e.length > k ? `${shown.join('; ')}; … (${e.length - k} more kinds)` : shown.join('; ');
}

export function abuseMarkdown(a: AbuseReport): string {
  const out: string[] = [];
  out.push('## Hostile users', '');
  out.push(
    'Each attack runs against a fresh server process (SQLite on a file of its own), for at most 20 s, on loopback, while a small honest population ' +
      '(TCP, WebSocket and HTTP devices of the reference client) sends at a steady rate and probes time their round trips: a heartbeat on a TCP and on a WebSocket link every few tens of ms, ' +
      'and a webwxsync over HTTP in a loop. Attackers run in a process of their own and connect from a loopback address of their own (127.0.0.2), honest clients from 127.0.0.1, ' +
      'so that per-address bounds meet the attacker. Memory is the server process\'s RSS from /proc (before and after, following a full GC). ' +
      `Each attack must keep honest p99s under ${a.thresholds.maxHonestP99Ms} ms, RSS growth under ${mb(a.thresholds.maxRssGrowthBytes)}, and lose no acknowledged honest message.`,
    '',
  );
  out.push('| attack | RSS before → peak (growth) | server CPU | heartbeat p99 TCP / WS | HTTP p99 | delivery p99 | honest lost | verdict |');
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of a.attacks) {
    const h = r.honest;
    const failed = r.checks.filter((c) => !c.ok).map((c) => c.what.slice(r.name.length + 2));
    out.push(
      `| ${r.name} | ${mb(r.memory.rssBeforeBytes)} → ${mb(r.memory.rssPeakBytes)} (+${mb(r.memory.rssGrowthBytes)}) | ${r.serverCpuPct !== undefined ? `${r.serverCpuPct}%` : '–'} | ` +
        `${h ? `${ms(h.heartbeatMs.tcp.p99)} / ${ms(h.heartbeatMs.ws.p99)} ms` : '–'} | ${h ? `${ms(h.httpMs.p99)} ms` : '–'} | ${h ? `${ms(h.deliveryMs.p99)} ms` : '–'} | ` +
        `${h ? h.lost : '–'} | ${failed.length === 0 ? 'pass' : `FAIL: ${failed.join('; ')}`} |`,
    );
  }
  out.push('');
  for (const r of a.attacks) {
    out.push(`### ${r.name}: ${r.title}`, '');
    out.push(`${r.what[0]!.toUpperCase()}${r.what.slice(1)}. Ran ${(r.attackMs / 1000).toFixed(1)} s; scrypt N=${r.scryptN}.`, '');
    const figs = Object.entries(r.figures).map(([k, v]) => `${k} ${n0(v)}`);
    if (figs.length) out.push(`- attacker: ${figs.join(', ')}`);
    out.push(`- refused: ${top(r.refused, 8)}`);
    out.push(`- accepted: ${top(r.accepted, 4)}`);
    for (const note of r.notes) out.push(`- ${note}`);
    if (r.error) out.push(`- error: ${r.error}`);
    for (const c of r.checks) out.push(`- ${c.ok ? '✓' : '✗'} ${c.what}: ${c.detail}`);
    out.push('');
  }
  return out.join('\n');
}
