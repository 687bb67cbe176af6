// The report folder of a load-test run: report.json (everything measured),
// summary.md (the figures a person wants, each beside its bare-Node
// baseline) and chart.svg (throughput, latency, the server's own stalls and
// its memory over the run's time, hand-written SVG, no dependencies).
import type { MemoryPoint, PhaseResult } from './phase.ts';
import type { PopulationInfo } from './population.ts';
import type { WithStalls } from './sampler.ts';

export type Transport = 'tcp' | 'ws' | 'http';

export interface PhaseRecord extends PhaseResult, WithStalls {
  /** Seconds since the run began. */
  startSec: number;
  transport: Transport | 'mixed' | 'capacity';
  stage: 'peak' | 'half-peak' | 'mixed' | 'live';
  population?: PopulationInfo;
}

export interface CapacityReport {
  wantedLinks: number;
  reachedLinks: number;
  /** The server's open-files limit; how the limits were got (or why not); the target: `links` links at most `bytesPerLink` each. */
  fdLimit: number | undefined;
  fdLimitHow?: string;
  target?: { links: number; bytesPerLink: number; met: boolean };
  heartbeatSec: number;
  holdMs: number;
  loginMs: number;
  /** Links the server still held at the end of the hold, and links the clients saw drop during it. */
  serverOpenLinksAfterHold: number | undefined;
  linkDropsDuringHold: number;
  server: { rssBefore: number; rssAfter: number; heapBefore?: number; heapAfter?: number };
  bare: { sockets: number; rssBefore: number; rssAfter: number; heapBefore?: number; heapAfter?: number } | undefined;
  rssPerLinkBytes: number;
  heapPerLinkBytes?: number;
  bareRssPerSocketBytes?: number;
  bareHeapPerSocketBytes?: number;
  /** The server through the login ramp and the hold (t: seconds since the run began). */
  memory: MemoryPoint[];
  /** The bare TCP server before and after its idle sockets. */
  bareMemory: MemoryPoint[];
}

export interface K6Report {
  ran: boolean;
  why?: string;
  scripts: Array<{ script: string; exitCode: number | null; summaryFile?: string; ms: number }>;
}

export interface ThresholdCheck {
  what: string;
  ok: boolean;
  detail: string;
}

export interface Report {
  profile: string;
  description: string;
  startedAt: string;
  durationMs: number;
  env: {
    node: string;
    platform: string;
    cpus: number;
    cpuModel: string;
    memoryBytes: number;
    fdLimit: number | undefined;
    /** 1-minute load average at the start and the end: other work on the machine skews every figure. */
    loadAvg: [number, number];
  };
  server: { where: 'child' | 'in-process' | 'external'; db: string; synchronous: string; storageThread?: boolean; holdMs: number; heartbeatSec: number; scryptN: number };
  phases: PhaseRecord[];
  capacity?: CapacityReport;
  k6?: K6Report;
  thresholds: ThresholdCheck[];
  passed: boolean;
  totals: { lost: number; duplicated: number; mismatched: number };
}

const mb = (b: number | undefined): string => (b === undefined ? '–' : `${(b / 1048576).toFixed(1)} MB`);
const kb = (b: number | undefined): string => (b === undefined ? '–' : `${(b / 1024).toFixed(2)} KiB`);
const n0 = (x: number): string => Math.round(x).toLocaleString('en-US');
const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

function find(r: Report, kind: string, transport: string, stage: string): PhaseRecord | undefined {
  return r.phases.find((p) => p.kind === kind && p.transport === transport && p.stage === stage);
}

function ratio(a: number, b: number | undefined): string {
  if (!b) return '–';
  const x = a / b;
  return x >= 1 ? `${x.toFixed(1)}×` : `1/${(1 / x).toFixed(1)}`;
}

export function summaryMarkdown(r: Report): string {
  const out: string[] = [];
  out.push(`# Load test: ${r.profile}`, '');
  out.push(`${r.description}.`, '');
  out.push(
    `Run ${r.startedAt}, ${(r.durationMs / 1000).toFixed(1)} s; Node ${r.env.node} on ${r.env.cpus} × ${r.env.cpuModel}, ${mb(r.env.memoryBytes)}; ` +
      `open-files limit ${r.env.fdLimit ?? 'unknown'}; load average ${r.env.loadAvg[0].toFixed(2)} at the start, ${r.env.loadAvg[1].toFixed(2)} at the end. Server: ${r.server.where}, SQLite synchronous=${r.server.synchronous} (${r.server.db}), commits on ${r.server.storageThread === true ? 'the storage thread' : 'the event loop'}, ` +
      `hold ${r.server.holdMs} ms, heartbeat ${r.server.heartbeatSec} s. Everything on loopback; the driver (one Node process) and the server share the machine's cores.`,
    '',
  );
  out.push(`**${r.passed ? 'PASSED' : 'FAILED'}** — lost ${r.totals.lost}, duplicated ${r.totals.duplicated}, MsgId mismatches ${r.totals.mismatched}.`, '');

  const transports: Transport[] = ['tcp', 'ws', 'http'];
  if (transports.some((t) => find(r, 'synckey', t, 'peak'))) {
    out.push('## Throughput and latency per transport', '');
    out.push(
      'A *durable* message was answered with a MsgID only after its SQLite commit, and reached every device it was meant for ' +
        '(the recipients\' devices and the sender\'s other devices). Peak: each device keeps a window of unanswered sends (closed loop). ' +
        'Latency: Poisson arrivals at half that peak (open model), send to delivery at each device. The bare baselines are Node servers that ' +
        'echo (TCP, WebSocket) or answer (HTTP) each send, driven by raw clients with the same number of connections, window and rate: ' +
        'their "delivery" is the echo.',
      '',
    );
    out.push('| transport | devices | durable msg/s (peak) | bare Node peak | server / bare | half-peak rate | p50 / p99 delivery | bare p50 / p99 at that rate | p50 / p99 send→ack | lost | dup |');
    out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const t of transports) {
      const peak = find(r, 'synckey', t, 'peak');
      const half = find(r, 'synckey', t, 'half-peak');
      if (!peak) continue;
      const bp = find(r, `bare-${t}`, t, 'peak');
      const bh = find(r, `bare-${t}`, t, 'half-peak');
      const lost = peak.lost + (half?.lost ?? 0);
      const dup = peak.duplicated + (half?.duplicated ?? 0);
      out.push(
        `| ${t.toUpperCase()} | ${peak.clients} | ${n0(peak.durablePerSec)} | ${bp ? n0(bp.durablePerSec) : '–'} | ${ratio(peak.durablePerSec, bp?.durablePerSec)} | ` +
          `${half ? n0(half.offeredRate ?? 0) : '–'}/s | ${half ? `${ms(half.deliveryLatencyMs.p50)} / ${ms(half.deliveryLatencyMs.p99)} ms` : '–'} | ` +
          `${bh ? `${ms(bh.deliveryLatencyMs.p50)} / ${ms(bh.deliveryLatencyMs.p99)} ms` : '–'} | ` +
          `${half ? `${ms(half.ackLatencyMs.p50)} / ${ms(half.ackLatencyMs.p99)} ms` : '–'} | ${lost} | ${dup} |`,
      );
    }
    out.push('');
  }

  const mixed = r.phases.filter((p) => p.transport === 'mixed');
  for (const m of mixed) {
    out.push(`## Mixed workload (${m.name})`, '');
    const pop = m.population;
    out.push(
      `${pop ? `${pop.accounts} accounts, ${pop.devices.tcp} TCP + ${pop.devices.ws} WS + ${pop.devices.http} HTTP devices, ${pop.groups} groups; ` : ''}` +
        `${n0(m.offeredRate ?? 0)} sends/s offered for ${(m.sendWindowMs / 1000).toFixed(1)} s: ${n0(m.sent)} sent, ${n0(m.acked)} acknowledged, ` +
        `${n0(m.durable)} durable (${n0(m.durablePerSec)}/s); delivery p50 ${ms(m.deliveryLatencyMs.p50)} ms, p99 ${ms(m.deliveryLatencyMs.p99)} ms ` +
        `over ${n0(m.deliveryLatencyMs.count)} deliveries; lost ${m.lost}, duplicated ${m.duplicated}, failed sends ${m.failed}.`,
      '',
    );
  }

  const withMem = r.phases.filter((p) => p.memory.length > 0);
  if (withMem.length > 0) {
    out.push('## Server memory and CPU', '');
    out.push('| phase | server RSS max | server heap max | server CPU | msgs per commit | driver CPU | link drops / reconnects | HTTP failures |');
    out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const p of withMem) {
      const rss = Math.max(...p.memory.map((x) => x.rssBytes));
      const heaps = p.memory.map((x) => x.heapUsedBytes).filter((x): x is number => x !== undefined);
      out.push(
        `| ${p.name} | ${mb(rss)} | ${heaps.length ? mb(Math.max(...heaps)) : '–'} | ${p.serverCpuPct !== undefined ? `${p.serverCpuPct}%` : '–'} | ` +
          `${p.serverCommits ? p.serverCommits.msgsPerCommit : '–'} | ${p.driverCpuPct}% | ` +
          `${p.kind === 'synckey' ? `${p.linkDrops} / ${p.linkReconnects ?? 0}` : '–'} | ${p.kind === 'synckey' ? p.httpFailures : '–'} |`,
      );
    }
    out.push('', 'CPU is a share of one core over the phase; a server near 100% is the bottleneck, a driver near 100% means the figure is a floor.', '');
  }

  const stalled = r.phases.filter((p) => p.serverStalls);
  if (stalled.length > 0) {
    out.push('## Server stalls', '');
    out.push(
      'Measured by the server process itself and merged over the phase from its samples: event-loop delay (monitorEventLoopDelay: how late ' +
        'each turn of a 10 ms timer ran: at most 100 samples a second, so with fewer than 100 in a phase its p99 is its max) and commit latency. ' +
        'chart.svg plots both per sample (0.5 s), so a stall shows where it happened.',
      '',
    );
    out.push('| phase | event-loop delay p50 / p99 / max | commits | commit p50 / p99 / max | worst 1-s delivery p99 |');
    out.push('| --- | ---: | ---: | ---: | ---: |');
    for (const p of stalled) {
      const { eventLoop: l, commit: c } = p.serverStalls!;
      const worst = Math.max(0, ...p.timeline.map((tp) => tp.p99Ms));
      out.push(
        `| ${p.name} | ${ms(l.p50Ms)} / ${ms(l.p99Ms)} / ${ms(l.maxMs)} ms | ${n0(c.count)} | ` +
          `${c.count ? `${ms(c.p50Ms)} / ${ms(c.p99Ms)} / ${ms(c.maxMs)} ms` : '–'} | ${p.timeline.length ? `${ms(worst)} ms` : '–'} |`,
      );
    }
    out.push('');
  }

  if (r.capacity) {
    const c = r.capacity;
    out.push('## Idle long links (capacity)', '');
    out.push(
      `Wanted ${n0(c.wantedLinks)} idle TCP long links, reached **${n0(c.reachedLinks)}** (open-files limit of the server: ${c.fdLimit ?? 'unknown'}; ${c.fdLimitHow ?? ''})` +
        `${c.target ? `; target ${n0(c.target.links)} links at most ${kb(c.target.bytesPerLink)} each: ${c.target.met ? 'met' : 'not met'}` : ''}. Each link authenticated with a password ` +
        `(a logged-in device), then heartbeated every ${c.heartbeatSec} s for ${(c.holdMs / 1000).toFixed(0)} s: the server held ` +
        `${c.serverOpenLinksAfterHold ?? '?'} links at the end, and the clients saw ${c.linkDropsDuringHold} drops. Logins took ${(c.loginMs / 1000).toFixed(1)} s.`,
      '',
    );
    out.push('| | before | after | per connection |');
    out.push('| --- | ---: | ---: | ---: |');
    out.push(`| SyncKey server RSS | ${mb(c.server.rssBefore)} | ${mb(c.server.rssAfter)} | ${kb(c.rssPerLinkBytes)} |`);
    out.push(`| SyncKey server heap | ${mb(c.server.heapBefore)} | ${mb(c.server.heapAfter)} | ${kb(c.heapPerLinkBytes)} |`);
    if (c.bare) {
      out.push(`| bare TCP server RSS (${n0(c.bare.sockets)} idle sockets) | ${mb(c.bare.rssBefore)} | ${mb(c.bare.rssAfter)} | ${kb(c.bareRssPerSocketBytes)} |`);
      out.push(`| bare TCP server heap | ${mb(c.bare.heapBefore)} | ${mb(c.bare.heapAfter)} | ${kb(c.bareHeapPerSocketBytes)} |`);
    }
    out.push('', 'Measured after a full GC in the server process (run with --expose-gc). RSS counts the process alone: the kernel socket buffers are not in it.', '');
  }

  if (r.k6) {
    out.push('## k6', '');
    if (!r.k6.ran) out.push(`Not run: ${r.k6.why}.`, '');
    for (const s of r.k6.scripts) out.push(`- ${s.script}: exit ${s.exitCode} in ${(s.ms / 1000).toFixed(1)} s${s.summaryFile ? `, summary ${s.summaryFile}` : ''}`);
    out.push('');
  }

  out.push('## Checks', '');
  for (const t of r.thresholds) out.push(`- ${t.ok ? '✓' : '✗'} ${t.what}: ${t.detail}`);
  out.push('', 'Files: `report.json` (every figure, per-second timelines, the server\'s stalls per sample), `chart.svg` (throughput, latency, stalls and memory over time).', '');
  return out.join('\n');
}

// ------------------------------------------------------------ chart.svg

const COLORS: Record<string, string> = { tcp: '#1f77b4', ws: '#2ca02c', http: '#d62728', mixed: '#9467bd', capacity: '#8c564b' };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceMax(x: number): number {
  if (x <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

interface Series {
  points: Array<[number, number]>;
  color: string;
  dashed?: boolean;
  width?: number;
}

/** One panel: a y axis (linear, or log10 when `log`), series as polylines. */
function panel(
  y0: number,
  h: number,
  x: (t: number) => number,
  plotLeft: number,
  plotRight: number,
  title: string,
  unit: string,
  series: Series[],
  log = false,
): string {
  const all = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => Number.isFinite(v) && (!log || v > 0));
  const parts: string[] = [];
  parts.push(`<text x="${plotLeft}" y="${y0 - 6}" class="title">${esc(title)}</text>`);
  parts.push(`<rect x="${plotLeft}" y="${y0}" width="${plotRight - plotLeft}" height="${h}" class="frame"/>`);
  if (all.length === 0) {
    parts.push(`<text x="${(plotLeft + plotRight) / 2}" y="${y0 + h / 2}" class="note" text-anchor="middle">no data</text>`);
    return parts.join('\n');
  }
  let y: (v: number) => number;
  const ticks: number[] = [];
  if (log) {
    const lo = 10 ** Math.floor(Math.log10(Math.min(...all)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...all) * 1.0001));
    const span = Math.max(1, Math.log10(hi / lo));
    y = (v) => y0 + h - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / span) * h;
    for (let v = lo; v <= hi * 1.0001; v *= 10) ticks.push(v);
  } else {
    const top = niceMax(Math.max(...all) * 1.05);
    y = (v) => y0 + h - (v / top) * h;
    for (let i = 0; i <= 4; i++) ticks.push((top * i) / 4);
  }
  for (const v of ticks) {
    const yy = y(v).toFixed(1);
    parts.push(`<line x1="${plotLeft}" x2="${plotRight}" y1="${yy}" y2="${yy}" class="grid"/>`);
    const label = v >= 1000 ? `${+(v / 1000).toFixed(1)}k` : v >= 1 ? `${+v.toFixed(1)}` : `${+v.toPrecision(2)}`;
    parts.push(`<text x="${plotLeft - 6}" y="${(+yy + 4).toFixed(1)}" class="tick" text-anchor="end">${label}</text>`);
  }
  parts.push(`<text x="${plotLeft - 44}" y="${y0 + h / 2}" class="unit" transform="rotate(-90 ${plotLeft - 44} ${y0 + h / 2})" text-anchor="middle">${esc(unit)}</text>`);
  for (const s of series) {
    const pts = s.points.filter((p) => Number.isFinite(p[1]) && (!log || p[1] > 0));
    if (pts.length === 0) continue;
    const d = pts.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(
      `<polyline points="${d}" fill="none" stroke="${s.color}" stroke-width="${s.width ?? 1.6}"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`,
    );
    if (pts.length === 1) parts.push(`<circle cx="${x(pts[0]![0]).toFixed(1)}" cy="${y(pts[0]![1]).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
  }
  return parts.join('\n');
}

export function chartSvg(r: Report): string {
  const W = 1000;
  const left = 70;
  const right = W - 20;
  const panelH = 160;
  const gap = 56;
  const top = 70;
  const phases = r.phases;
  const cap = r.capacity;
  const ends = [
    ...phases.map((p) => p.startSec + Math.max(p.elapsedMs / 1000, p.timeline.length)),
    ...(cap ? [...cap.memory, ...cap.bareMemory].map((m) => m.t) : []),
    1,
  ];
  const tMax = Math.max(...ends);
  const x = (t: number): number => left + (t / tMax) * (right - left);

  const colorOf = (p: PhaseRecord): string => COLORS[p.transport] ?? '#444';
  const thr: Series[] = [];
  const lat: Series[] = [];
  const mem: Series[] = [];
  const loop: Series[] = [];
  const commit: Series[] = [];
  for (const p of phases) {
    const bare = p.kind !== 'synckey';
    const pts = (f: (tp: PhaseRecord['timeline'][number]) => number): Array<[number, number]> =>
      p.timeline.map((tp) => [p.startSec + tp.t + 0.5, f(tp)] as [number, number]);
    thr.push({ points: pts((tp) => tp.durable), color: colorOf(p), ...(bare ? { dashed: true, width: 1 } : {}) });
    if (!bare) {
      lat.push({ points: pts((tp) => tp.p50Ms).filter((q) => q[1] > 0), color: colorOf(p) });
      lat.push({ points: pts((tp) => tp.p99Ms).filter((q) => q[1] > 0), color: colorOf(p), dashed: true });
    } else {
      lat.push({ points: pts((tp) => tp.p99Ms).filter((q) => q[1] > 0), color: '#999', dashed: true, width: 1 });
    }
    const st = p.serverStalls?.timeline ?? [];
    const stallPts = (f: (sp: (typeof st)[number]) => number): Array<[number, number]> => st.map((sp) => [p.startSec + sp.t, f(sp)] as [number, number]);
    const tone = bare ? '#999' : colorOf(p);
    if (st.length) {
      loop.push({ points: stallPts((sp) => sp.eventLoopMaxMs), color: tone }, { points: stallPts((sp) => sp.eventLoopP99Ms), color: tone, dashed: true });
      commit.push({ points: stallPts((sp) => sp.commitMaxMs), color: tone }, { points: stallPts((sp) => sp.commitP99Ms), color: tone, dashed: true });
    }
    if (p.memory.length) mem.push({ points: p.memory.map((m) => [p.startSec + m.t, m.rssBytes / 1048576] as [number, number]), color: bare ? '#999' : colorOf(p), ...(bare ? { dashed: true } : {}) });
  }
  const links: Series[] = [];
  if (cap) {
    mem.push({ points: cap.memory.map((m) => [m.t, m.rssBytes / 1048576] as [number, number]), color: COLORS['capacity']! });
    mem.push({ points: cap.bareMemory.map((m) => [m.t, m.rssBytes / 1048576] as [number, number]), color: '#999', dashed: true });
    links.push({ points: cap.memory.filter((m) => m.openLinks !== undefined).map((m) => [m.t, m.openLinks!] as [number, number]), color: COLORS['capacity']! });
    links.push({ points: cap.bareMemory.map((m) => [m.t, m.openLinks ?? 0] as [number, number]), color: '#999', dashed: true });
  }

  const panels: Array<readonly [title: string, unit: string, series: Series[], log: boolean]> = [
    ['Durable messages per second (solid: SyncKey server; dashed: bare Node echo)', 'msg/s (log)', thr, true],
    ['Send-to-delivery latency per second (solid p50, dashed p99; grey: bare p99)', 'ms (log)', lat, true],
    ...(loop.length
      ? ([
          ['Server event-loop delay per sample, as the server measured it (solid max, dashed p99)', 'ms (log)', loop, true],
          ['Server commit latency per sample (solid max, dashed p99)', 'ms (log)', commit, true],
        ] as const)
      : []),
    ['Server RSS (dashed grey: bare Node server)', 'MB', mem, false],
    ...(cap ? ([['Idle long links held (dashed grey: bare TCP server sockets)', 'links', links, false]] as const) : []),
  ];
  const yOf = (i: number): number => top + i * (panelH + gap);
  const last = yOf(panels.length - 1);
  const bands = phases
    .map((p, i) => {
      const x0 = x(p.startSec);
      const x1 = x(p.startSec + Math.max(p.elapsedMs / 1000, 0.2));
      const label = `${p.kind === 'synckey' ? '' : 'bare '}${p.transport}${p.stage === p.transport ? '' : ` ${p.stage}`}`;
      return (
        `<rect x="${x0.toFixed(1)}" y="${top}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="${last + panelH - top}" fill="${i % 2 ? '#f4f4f4' : '#fafafa'}"/>` +
        `<text x="${((x0 + x1) / 2).toFixed(1)}" y="${top - 24 - (i % 2) * 12}" class="band" text-anchor="middle">${esc(label)}</text>`
      );
    })
    .join('\n');

  const H = last + panelH + 60;
  const xTicks: string[] = [];
  const step = niceMax(tMax / 8);
  for (let t = 0; t <= tMax + 1e-9; t += step) {
    xTicks.push(`<text x="${x(t).toFixed(1)}" y="${last + panelH + 16}" class="tick" text-anchor="middle">${+t.toFixed(1)}</text>`);
  }
  const legend = (['tcp', 'ws', 'http', 'mixed'] as const)
    .map((k, i) => `<rect x="${left + i * 90}" y="${H - 22}" width="12" height="4" fill="${COLORS[k]}"/><text x="${left + i * 90 + 16}" y="${H - 17}" class="tick">${k.toUpperCase()}</text>`)
    .join('');

  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">
<style>
.title{font-size:13px;font-weight:bold;fill:#222}.tick{font-size:10px;fill:#555}.unit{font-size:11px;fill:#333}
.band{font-size:9px;fill:#666}.note{font-size:12px;fill:#999}.frame{fill:none;stroke:#bbb}.grid{stroke:#e2e2e2}
</style>
<rect width="${W}" height="${H}" fill="white"/>
<text x="${left}" y="20" font-size="15" font-weight="bold">Load test ${esc(r.profile)} — ${esc(r.startedAt)} — ${r.passed ? 'passed' : 'FAILED'}</text>
${bands}
${panels.map(([title, unit, series, log], i) => panel(yOf(i), panelH, x, left, right, title, unit, series, log)).join('\n')}
${xTicks.join('\n')}
<text x="${(left + right) / 2}" y="${last + panelH + 32}" class="unit" text-anchor="middle">seconds since the run began</text>
${legend}
</svg>
`;
}
