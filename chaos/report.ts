// What a person reads of a chaos run or a re-judged history: what the plan
// held, what the proxy did, and the verdict, with the failing guarantee, the
// last events around it and the lines that take it further.
import type { HistoryRecord } from './history.ts';
import type { Verdict } from './judge.ts';
import type { ChaosPlan } from './plan.ts';

/** What the simulator's checkers judge in every chaos history. */
export const JUDGED =
  'SyncKey monotonicity, no loss, exactly once, order, integrity, isolation, retention (no unwarranted resync), convergence, liveness';

export function planLines(plan: ChaosPlan, livenessBoundMs: number): string[] {
  const s = plan.spec;
  const devices = s.accounts.flatMap((a) => a.devices);
  const by = (t: string): number => devices.filter((d) => d.transport === t).length;
  const faults = new Map<string, number>();
  for (const f of s.faults) faults.set(f.kind, (faults.get(f.kind) ?? 0) + 1);
  const p = plan.proxy;
  const pct = (x: number): string => `${Math.round(x * 100)}%`;
  const lines = [
    `chaos ${s.scenario} seed ${s.seed}: ${fmtMs(s.durationMs)} of faults against the real server, then at most ${fmtMs(livenessBoundMs)} to converge`,
    `  plan: ${s.accounts.length} accounts, ${devices.length} devices (${by('http')} http, ${by('tcp')} tcp, ${by('ws')} ws), ${s.groups.length} group(s); ` +
      `${s.ops.length} user actions; schedule: ${[...faults].map(([k, n]) => `${n} ${k}`).join(', ') || 'no faults'}`,
    `  proxy: per chunk ${p.link.latencyMs[0]}-${p.link.latencyMs[1]} ms${p.link.tailProbability > 0 ? `, ${pct(p.link.tailProbability)} +${p.link.tailMs} ms` : ''}, ` +
      `${pct(p.link.splitProbability)} split, ${pct(p.link.mergeProbability)} merged; ${p.link.stallPerSecond} half-open stalls per link-second; ` +
      `per HTTP exchange ${pct(p.http.dropRequestProbability)} request lost, ${pct(p.http.dropResponseProbability)} answer lost, ${pct(p.http.duplicateProbability)} duplicated`,
  ];
  if (plan.notPlayed.length > 0) lines.push(`  not played: ${plan.notPlayed.join('; ')}`);
  return lines;
}

export function verdictLines(v: Verdict, records: readonly HistoryRecord[]): string[] {
  const c = v.counts;
  const proxyFaults = Object.entries(c.faults)
    .filter(([k]) => k !== 'skip')
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const lines = [
    `  ${v.ok ? 'PASS' : 'FAIL'}: ${c.sends} sends, ${c.acked} acked, ${c.applied} applied, ${c.resyncs} resyncs; ${c.crashes} server crashes, ${c.kills} app kills, ${c.replaced} sessions replaced, ${c.skipped} actions skipped (app down)` +
      (v.convergedAfterMs !== undefined ? `; converged ${fmtMs(v.convergedAfterMs)} after healing` : ''),
    `  network faults: ${proxyFaults || 'none'}`,
    `  judged ${records.length} events: ${JUDGED}`,
  ];
  const f = v.failure;
  if (f) {
    lines.push(`  violated: ${f.guarantee} at ${f.who} (t=${(f.t / 1000).toFixed(3)} s, history line ${f.line})`);
    for (const l of f.detail.split('\n')) lines.push(`    ${l}`);
    lines.push('    last events:');
    for (const l of f.recent) lines.push(`      ${l}`);
  }
  return lines;
}

export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s` : `${Math.round(ms)} ms`;
}
