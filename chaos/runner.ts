// One chaos run: the real server in a child process on a temporary SQLite
// file, a fault proxy in front of it for every device, the reference client
// on every device, and the plan (chaos/plan.ts) played in real time (see
// chaos-world.ts); the proxy draws its own faults as traffic passes. Then
// everything heals, the devices must converge, the server stops, its store
// is read, and the history is judged by the simulator's checkers.
//
// Bounded: the fault phase lasts `durationMs`, the liveness phase at most
// `livenessBoundMs`, the traffic is the plan's (chaos/workload-plan.ts caps
// it), and everything listens on loopback ports the OS picks. Every child
// process, socket, timer and temporary file is gone when runChaos returns
// or throws.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { PlantedBug } from '../server/core/planted-bugs.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import { ChaosWorld } from './chaos-world.ts';
import { ConvergenceProbe } from './convergence-probe.ts';
import type { FaultProxy } from './fault-proxy.ts';
import { readFinalLogs } from './final-logs.ts';
import { HISTORY_FORMAT, History } from './history.ts';
import { judge, type Verdict } from './judge.ts';
import { pictureFileBeside, pictureReplay, writeHistoryPicture } from './picture-file.ts';
import { bugsOf, makePlan, type ChaosPlan } from './plan.ts';
import { rerunLine } from './report.ts';

export const SEED_NOTE =
  'the seed fixes the users, their actions and the fault schedule (and the sequence of faults each connection and request draws), ' +
  'not the outcome: real timing decides which bytes and requests meet which fault, so the same seed may pass once and fail once';

const PROBE_MS = 250;

/** The temporary databases of runs under way, removed on exit whatever the path. */
const tempDirs = new Set<string>();
let exitHooked = false;

export interface ChaosRunOptions {
  scenario: Scenario;
  seed: string;
  durationMs: number;
  livenessBoundMs: number;
  /** Planted bugs for the server child and the apps: the run should fail. */
  bugs?: readonly PlantedBug[];
  /** Where a failing run's history goes (default .chaos/failures/<scenario>-seed<seed>[-<bugs>]-<time>.jsonl). */
  historyFile?: string;
  /** Write the history even when the run passes. */
  keepHistory?: boolean;
  /** Write the run's picture here (default: a failing run's beside its history, `x.jsonl` → `x.html`). */
  htmlFile?: string;
  /** Progress lines, every `progressEveryMs` of the fault phase. */
  log?: (line: string) => void;
  progressEveryMs?: number;
  /** Told the plan before anything starts. */
  onPlan?: (plan: ChaosPlan) => void;
}

export interface ChaosRunResult {
  plan: ChaosPlan;
  verdict: Verdict;
  history: History;
  /** Where the history was written (a failing run, or keepHistory). */
  historyFile?: string;
  /** The plan beside it, for `npm run sim -- --replay`: the same users and faults (and bugs) in the simulator. */
  specFile?: string;
  /** Where the picture was written. */
  htmlFile?: string;
  wallMs: number;
  proxy: { requests: number; duplicated: number; droppedRequests: number; droppedResponses: number };
}

export async function runChaos(o: ChaosRunOptions): Promise<ChaosRunResult> {
  const started = performance.now();
  const plan = makePlan(o.scenario, o.seed, { durationMs: o.durationMs, livenessBoundMs: o.livenessBoundMs, ...(o.bugs ? { bugs: o.bugs } : {}) });
  o.onPlan?.(plan);
  const history = new History();
  history.add({ k: 'run', format: HISTORY_FORMAT, scenario: o.scenario.name, seed: o.seed, plan, note: SEED_NOTE });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synckey-chaos-'));
  const db = path.join(dir, 'chaos.db');
  tempDirs.add(dir);
  if (tempDirs.size === 1 && !exitHooked) {
    exitHooked = true;
    // A run cut short (Ctrl-C, process.exit) leaves no database behind either.
    process.on('exit', () => {
      for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
    });
  }
  let proxy: ChaosRunResult['proxy'];
  try {
    const world = new ChaosWorld(o.scenario, plan, history, db);
    try {
      await phases(world, history, o);
    } finally {
      await world.close();
      proxy = proxyCounts(world.proxies);
    }
    history.add({ k: 'final', logs: readFinalLogs(db, plan.spec.accounts.map((a) => a.name)) });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  }
  const verdict = judge(history.records);
  const result: ChaosRunResult = { plan, verdict, history, wallMs: performance.now() - started, proxy };
  if (!verdict.ok || o.keepHistory) {
    const file = o.historyFile ?? defaultHistoryFile(o.scenario.name, o.seed, bugsOf(plan));
    history.write(file);
    const specFile = `${file.replace(/\.jsonl$/, '')}.spec.json`;
    fs.writeFileSync(specFile, `${JSON.stringify(replayable(plan), null, 2)}\n`);
    result.historyFile = file;
    result.specFile = specFile;
  }
  const html = o.htmlFile ?? (!verdict.ok && result.historyFile !== undefined ? pictureFileBeside(result.historyFile) : undefined);
  if (html !== undefined) {
    writeHistoryPicture(html, history.records, verdict, pictureReplay(result.historyFile, rerunLine(plan, o.livenessBoundMs)));
    result.htmlFile = html;
  }
  return result;
}

/** Set up, the fault phase, healing, and the wait for convergence (recorded as the liveness record). */
async function phases(world: ChaosWorld, history: History, o: ChaosRunOptions): Promise<void> {
  const probe = new ConvergenceProbe(history, world.apps);
  await world.setUp();
  world.play();
  const log = o.log;
  const progress = log && o.progressEveryMs ? setInterval(() => log(progressLine(history, world)), o.progressEveryMs) : undefined;
  try {
    await sleep(o.durationMs);
  } finally {
    clearInterval(progress);
  }
  world.check();
  await world.heal();
  const healedAt = performance.now();
  let lagging = probe.laggard(world.server.up);
  while (lagging !== undefined && performance.now() - healedAt < o.livenessBoundMs) {
    await sleep(PROBE_MS);
    world.check();
    lagging = probe.laggard(world.server.up);
  }
  history.add({ k: 'liveness', converged: lagging === undefined, afterMs: Math.round(performance.now() - healedAt), detail: lagging ?? '' });
}

function defaultHistoryFile(scenario: string, seed: string, bugs: readonly string[]): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const planted = bugs.map((b) => `-${b}`).join('');
  return path.join('.chaos', 'failures', `${scenario}-seed${seed.replace(/[^A-Za-z0-9_-]/g, '_')}${planted}-${stamp}.jsonl`);
}

/**
 * What `npm run sim -- --replay` takes: the bare RunSpec, or with planted
 * bugs the simulator's replay-file shape (sim/replay-file.ts), which carries
 * them; no `expect`, since the simulator's run is its own, not this one.
 */
function replayable(plan: ChaosPlan): unknown {
  const bugs = bugsOf(plan);
  if (bugs.length === 0) return plan.spec;
  return { format: 'synckey-replay/1', note: `chaos run's plan with planted bugs ${bugs.join(' ')}`, bugs, store: 'memory', spec: plan.spec };
}

function proxyCounts(proxies: ReadonlyMap<string, FaultProxy>): ChaosRunResult['proxy'] {
  const c = { requests: 0, duplicated: 0, droppedRequests: 0, droppedResponses: 0 };
  for (const p of proxies.values()) {
    const h = p.httpCounts;
    c.requests += h.requests;
    c.duplicated += h.duplicated;
    c.droppedRequests += h.droppedRequests;
    c.droppedResponses += h.droppedResponses;
  }
  return c;
}

function progressLine(history: History, world: ChaosWorld): string {
  const n: Record<string, number> = {};
  for (const r of history.records) n[r.k] = (n[r.k] ?? 0) + 1;
  return (
    `  ${(world.timeline.elapsed / 1000).toFixed(0).padStart(4)} s: ${n['user-send'] ?? 0} sends, ${n['acked'] ?? 0} acked, ${n['applied'] ?? 0} applied; ` +
    `server ${world.server.up ? 'up' : 'down'}, ${n['server-crash'] ?? 0} crashes, ${n['app-kill'] ?? 0} app kills, ${n['fault'] ?? 0} fault records`
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
