// What a person reads of a chaos run or a re-judged history: what the plan
// held (its planted bugs too), what the proxy did, and the verdict, with the
// failing guarantee, the life of the message it names, the last events
// around it and the lines that take it further.
import type { HistoryRecord } from './history.ts';
import type { Verdict } from './judge.ts';
import { messageLines, namedMessages } from './named-messages.ts';
import { bugsOf, CLIENT_BUGS, UNJUDGED_BUGS, type ChaosPlan } from './plan.ts';

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
  const bugs = bugsOf(plan);
  const lines = [
    `chaos ${s.scenario} seed ${s.seed}${bugs.length ? ` with planted bug${bugs.length > 1 ? 's' : ''} ${bugs.join(', ')}` : ''}: ` +
      `${fmtMs(s.durationMs)} of faults against the real server, then at most ${fmtMs(livenessBoundMs)} to converge`,
    `  plan: ${s.accounts.length} accounts, ${devices.length} devices (${by('http')} http, ${by('tcp')} tcp, ${by('ws')} ws), ${s.groups.length} group(s); ` +
      `${s.ops.length} user actions; schedule: ${[...faults].map(([k, n]) => `${n} ${k}`).join(', ') || 'no faults'}`,
    `  proxy: per chunk ${p.link.latencyMs[0]}-${p.link.latencyMs[1]} ms${p.link.tailProbability > 0 ? `, ${pct(p.link.tailProbability)} +${p.link.tailMs} ms` : ''}, ` +
      `${pct(p.link.splitProbability)} split, ${pct(p.link.mergeProbability)} merged; ${p.link.stallPerSecond} half-open stalls per link-second; ` +
      `per HTTP exchange ${pct(p.http.dropRequestProbability)} request lost, ${pct(p.http.dropResponseProbability)} answer lost, ${pct(p.http.duplicateProbability)} duplicated`,
  ];
  if (bugs.length > 0) {
    const where = bugs.map((b) => `${b} (${CLIENT_BUGS.has(b) ? 'in every app' : 'in the server'})`).join(', ');
    lines.push(`  planted bugs: ${where}: the checkers should catch them`);
    for (const b of bugs) if (UNJUDGED_BUGS[b]) lines.push(`  ${b} is not judged here: ${UNJUDGED_BUGS[b]}`);
  }
  if (plan.notPlayed.length > 0) lines.push(`  not played: ${plan.notPlayed.join('; ')}`);
  return lines;
}

/** The command that runs a plan again (the same plan, not the same outcome). */
export function rerunLine(plan: ChaosPlan, livenessBoundMs: number): string {
  const s = plan.spec;
  const parts = ['npm run chaos --', '--scenario', s.scenario, '--seed', s.seed, '--duration', `${s.durationMs}ms`, '--liveness', `${livenessBoundMs}ms`];
  for (const b of bugsOf(plan)) parts.push('--bug', b);
  return parts.join(' ');
}

/** What a person runs next about a run's files: re-judge the history, its plan in the simulator, its picture. */
export function followUpLines(files: { history?: string; spec?: string; html?: string }): string[] {
  const lines: string[] = [];
  if (files.history !== undefined) lines.push(`  history: ${files.history}`, `  re-judge: npm run chaos -- --check ${files.history}`);
  if (files.spec !== undefined) lines.push(`  the same users and fault schedule in the simulator: npm run sim -- --replay ${files.spec}`);
  if (files.html !== undefined) lines.push(`  picture: ${files.html} (open it in a browser)`);
  return lines;
}

/** Said when a run with planted bugs passed: nothing caught them this time. */
export function uncaughtLine(plan: ChaosPlan, v: Verdict): string | undefined {
  const bugs = bugsOf(plan);
  if (!v.ok || bugs.length === 0) return undefined;
  return `  NOT CAUGHT: the planted bug${bugs.length > 1 ? 's' : ''} ${bugs.join(', ')} broke no checked guarantee in this run (docs/chaos.md lists which bugs a chaos run catches)`;
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
    const life = messageLines(records, namedMessages(f.detail, records), f.line, f.who);
    if (life.length > 0) {
      lines.push('    the message it names, through the run:');
      for (const l of life) lines.push(`      ${l}`);
    }
    lines.push(`    last events of ${f.who} and the server:`);
    for (const l of f.recent) lines.push(`      ${l}`);
  }
  return lines;
}

export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s` : `${Math.round(ms)} ms`;
}
