// npm run sim -- [--scenario NAME] [--seed N] [--seeds K] [--swarm] [--store sqlite]
//                [--trace FILE] [--check-determinism] [--until-event N] [--bug NAME]
//                [--workers N] [--shard I/N] [--freeze]
//                [--replay FILE [--trace FILE]] [--html FILE]
// With no arguments: every scenario over the default seeds, with a summary.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { PLANTED_BUGS, parseBug, type PlantedBug } from '../server/core/planted-bugs.ts';
import { SCENARIOS, scenarioByName } from '../scenarios/index.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import type { SimStoreKind } from './sim-store.ts';
import { runJob, sweepJobs, type JobResult, type SweepSettings } from './sweep-job.ts';
import { runPool } from './sweep-pool.ts';
import { threadCpuClock } from './thread-cpu.ts';
import { wholeNumber } from './cli-args.ts';
import { replayMain } from './replay.ts';
import { readReplayFile } from './replay-file.ts';
import { swarm } from './swarm.ts';
import { pictureOfReplay, pictureOfScenario, writePicture } from './picture/record-picture.ts';

const DEFAULT_SEEDS = 10;

const HELP = `synckey-harness simulation

  npm run sim                                   sweep every scenario over seeds 1..${DEFAULT_SEEDS}
  npm run sim -- --scenario NAME --seed N       replay one run exactly
  npm run sim -- --scenario NAME --seed N --seeds K     seeds N..N+K-1
  npm run sim -- --replay FILE                  run a RunSpec replay file (.sim/failures/*.json) again

Options:
  --scenario NAME       one of: ${SCENARIOS.map((s) => s.name).join(', ')} (default: all)
  --seed N              first seed (default 1)
  --seeds K             how many seeds (default ${DEFAULT_SEEDS} for a sweep, 1 with --seed)
  --swarm               draw every fault parameter from the seed; printed with the seed
  --store memory|sqlite the server's store (sqlite: a temporary file, WAL)
  --trace FILE          write every event of the run as JSON lines (one run only)
  --html FILE           write a picture of the run (one run, or with --replay): one self-contained HTML
                        file, a lane per device and the server, every message an arrow, faults, SyncKeys
                        and the violation marked; open it in any browser
  --check-determinism   run each seed twice and fail on any difference of the trace hash
  --until-event N       stop after event N and print the world's state
  --bug NAME            plant a bug (proves the checkers catch it): ${PLANTED_BUGS.join(', ')}
  --workers N           run seeds on N worker threads (a seed's result never depends on N)
  --shard I/N           run only slice I of N of the sweep (1-based), so many machines can share it
  --freeze              debug: freeze every record the memory store keeps, so a core that edits one
                        in place throws (the tests always do; a passing run's trace is the same)
  --replay FILE         run the RunSpec in FILE (what a failing property wrote) with its bugs and store;
                        says whether the trace hash is the one recorded in the file
  --quiet               only the summary and failures
  --help                this text
`;

interface Cli {
  scenarios: Scenario[];
  seed: number;
  seeds: number;
  swarm: boolean;
  store: SimStoreKind;
  trace?: string;
  html?: string;
  checkDeterminism: boolean;
  untilEvent?: number;
  bugs: PlantedBug[];
  quiet: boolean;
  workers: number;
  freeze: boolean;
  shard?: { index: number; of: number };
  replay?: string;
}

function parse(argv: string[]): Cli {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      scenario: { type: 'string' },
      seed: { type: 'string' },
      seeds: { type: 'string' },
      swarm: { type: 'boolean', default: false },
      store: { type: 'string', default: 'memory' },
      trace: { type: 'string' },
      html: { type: 'string' },
      'check-determinism': { type: 'boolean', default: false },
      'until-event': { type: 'string' },
      bug: { type: 'string', multiple: true },
      quiet: { type: 'boolean', default: false },
      workers: { type: 'string' },
      shard: { type: 'string' },
      replay: { type: 'string' },
      freeze: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const int = wholeNumber;
  if (values.store !== 'memory' && values.store !== 'sqlite') throw new Error(`--store takes memory or sqlite, got '${values.store}'`);
  const seed = int('seed', values.seed, 1, 0);
  const cli: Cli = {
    scenarios: values.scenario ? [scenarioByName(values.scenario)] : [...SCENARIOS],
    seed,
    seeds: int('seeds', values.seeds, values.seed !== undefined ? 1 : DEFAULT_SEEDS, 1),
    swarm: values.swarm ?? false,
    store: values.store,
    checkDeterminism: values['check-determinism'] ?? false,
    bugs: (values.bug ?? []).map(parseBug),
    quiet: values.quiet ?? false,
    workers: int('workers', values.workers, 1, 1),
    freeze: values.freeze ?? false,
  };
  if (values.shard !== undefined) {
    const m = /^([0-9]+)\/([0-9]+)$/.exec(values.shard);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new Error(`--shard takes I/N with 1 <= I <= N, got '${values.shard}'`);
    cli.shard = { index: Number(m[1]), of: Number(m[2]) };
  }
  if (values.trace !== undefined) cli.trace = values.trace;
  if (values.html !== undefined) cli.html = values.html;
  if (values.replay !== undefined) cli.replay = values.replay;
  if (values['until-event'] !== undefined) cli.untilEvent = int('until-event', values['until-event'], 0, 1);
  if (cli.trace && !cli.replay && (cli.scenarios.length > 1 || cli.seeds > 1)) throw new Error('--trace records one run: give --scenario and --seed');
  if (cli.html && !cli.replay && (cli.scenarios.length > 1 || cli.seeds > 1)) throw new Error('--html draws one run: give --scenario and --seed (or --replay FILE)');
  return cli;
}

/**
 * The picture of a run the sweep just ran: the same run again with a
 * recorder watching. It must give the same trace hash (the recorder only
 * watches); a different one is reported, as a bug of the recorder.
 */
function drawJob(file: string, name: string, seed: string, traceHash: string, cli: Cli): boolean {
  const base = scenarioByName(name);
  const scenario = cli.swarm ? swarm(base, seed) : base;
  const opts = { store: cli.store, bugs: new Set(cli.bugs), freeze: cli.freeze, ...(cli.untilEvent !== undefined ? { untilEvent: cli.untilEvent } : {}) };
  const { result } = writeHtml(file, pictureOfScenario(scenario, seed, opts, { title: `${name} seed ${seed}${cli.bugs.length ? ` (bugs ${cli.bugs.join(' ')})` : ''}`, replay: replayLine(name, seed, cli) }));
  const same = result.traceHash === traceHash ? 'the same trace' : `DIFFERENT trace ${result.traceHash} from the run's ${traceHash}: the recorder changed the run`;
  process.stdout.write(`picture written to ${file} (${same})\n`);
  return result.traceHash === traceHash;
}

function writeHtml<T extends { html: string }>(file: string, p: T): T {
  writePicture(file, p.html);
  return p;
}

/** The one line that replays a run. */
export function replayLine(scenario: string, seed: string, cli: Pick<Cli, 'swarm' | 'store' | 'bugs'>): string {
  const parts = ['npm run sim --', '--scenario', scenario, '--seed', seed];
  if (cli.swarm) parts.push('--swarm');
  if (cli.store !== 'memory') parts.push('--store', cli.store);
  for (const b of cli.bugs) parts.push('--bug', b);
  return parts.join(' ');
}

interface Row {
  scenario: string;
  seeds: number;
  events: number;
  failures: number;
  wallMs: number;
  /** CPU time of the threads that ran the row's runs, and how many runs it counts (the system may not tell). */
  cpuMs: number;
  cpuRuns: number;
  simMs: number;
  /** Long-link reads, and those that held bytes of several writes (several packets in one read). */
  reads: number;
  mergedReads: number;
}

async function main(): Promise<number> {
  let cli: Cli;
  try {
    cli = parse(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (cli.replay !== undefined) {
    const code = replayMain({ file: cli.replay, bugs: cli.bugs, ...(cli.trace !== undefined ? { trace: cli.trace } : {}), ...(cli.untilEvent !== undefined ? { untilEvent: cli.untilEvent } : {}) }, () => performance.now());
    if (cli.html !== undefined && code !== 2) {
      const r = readReplayFile(cli.replay);
      r.bugs = [...new Set([...r.bugs, ...cli.bugs])];
      const { result } = writeHtml(cli.html, pictureOfReplay(r, cli.replay));
      process.stdout.write(`picture written to ${cli.html} (trace ${result.traceHash})\n`);
    }
    return code;
  }
  const jobs = sweepJobs(
    cli.scenarios.map((x) => x.name),
    cli.seed,
    cli.seeds,
    cli.shard,
  );
  const settings: SweepSettings = {
    swarm: cli.swarm,
    store: cli.store,
    bugs: cli.bugs,
    checkDeterminism: cli.checkDeterminism,
    keepTrace: cli.trace !== undefined,
    freeze: cli.freeze,
    ...(cli.untilEvent !== undefined ? { untilEvent: cli.untilEvent } : {}),
  };
  const single = jobs.length === 1;
  const rows = new Map<string, Row>(cli.scenarios.map((x) => [x.name, { scenario: x.name, seeds: 0, events: 0, failures: 0, wallMs: 0, cpuMs: 0, cpuRuns: 0, simMs: 0, reads: 0, mergedReads: 0 }]));
  const failures: string[] = [];
  const bar = new Progress(jobs.length, cli.quiet || single);
  let done = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const report = (r: JobResult): void => {
    const { job, result } = r;
    const row = rows.get(job.scenario)!;
    row.seeds++;
    row.events += result.events;
    row.wallMs += r.wallMs;
    if (r.cpuMs !== undefined) {
      row.cpuMs += r.cpuMs;
      row.cpuRuns++;
    }
    row.simMs += result.simMs;
    row.reads += result.net.reads;
    row.mergedReads += result.net.mergedReads;
    bar.update(++done, `${job.scenario} seed ${job.seed}`);
    const replay = replayLine(job.scenario, job.seed, cli);
    if (r.swarmLine && single) process.stdout.write(`${r.swarmLine}\n`);
    if (cli.trace && result.trace !== undefined) fs.writeFileSync(cli.trace, result.trace);
    if (cli.html !== undefined && !drawJob(cli.html, job.scenario, job.seed, result.traceHash, cli)) {
      failures.push(`PICTURE ${job.scenario} seed ${job.seed}: the recorded run's trace differs\n  replay: ${replay} --html ${cli.html}`);
    }
    if (r.divergentHash !== undefined) {
      row.failures++;
      failures.push(
        `NONDETERMINISTIC ${job.scenario} seed ${job.seed}: trace ${result.traceHash} (${result.events} events) then ${r.divergentHash} (${r.divergentEvents} events)\n  replay: ${replay} --check-determinism`,
      );
      bar.clear();
      process.stdout.write(`${failures[failures.length - 1]}\n`);
      return;
    }
    if (result.stoppedAtEvent) {
      process.stdout.write(`stopped at event ${result.events} (${job.scenario} seed ${job.seed}), trace ${result.traceHash}\n${result.stateDump}\n`);
      return;
    }
    if (!result.ok) {
      row.failures++;
      const f = result.failure!;
      const swarmLine = r.swarmLine ? `\n  ${r.swarmLine}` : '';
      failures.push(
        `FAIL ${job.scenario} seed ${job.seed}: ${f.guarantee} at ${f.who}, event ${f.event}, t=${f.simMs.toFixed(1)} ms\n  ${f.detail}${swarmLine}\n  last events:\n${f.recent.map((l) => `    ${l}`).join('\n')}\n  replay: ${replay}`,
      );
      bar.clear();
      process.stdout.write(`${failures[failures.length - 1]}\n`);
    } else if (single) {
      process.stdout.write(
        `ok ${job.scenario} seed ${job.seed}: ${result.events} events, ${(result.simMs / 1000).toFixed(1)} s simulated in ${(r.wallMs / 1000).toFixed(2)} s, ` +
          `sends ${result.counts.sends} acked ${result.counts.acked} applied ${result.counts.applied}, crashes ${result.counts.crashes} kills ${result.counts.kills} (torn ${result.counts.tornWrites}) ` +
          `partitions ${result.counts.partitions} replaced ${result.counts.replaces} resyncs ${result.counts.resyncs}, converged ${result.convergedAfterMs?.toFixed(0)} ms after healing, trace ${result.traceHash}\n` +
          `  replay: ${replay}\n`,
      );
    }
  };
  if (cli.workers > 1 && jobs.length > 1) await runPool(jobs, settings, cli.workers, report);
  else {
    const cpu = threadCpuClock();
    for (const job of jobs) report(runJob(job, settings, () => performance.now(), cpu));
  }
  bar.clear();
  if (!single) printSummary([...rows.values()].filter((r) => r.seeds > 0), performance.now() - t0, process.cpuUsage(cpu0), cli);
  if (failures.length > 0) {
    process.stdout.write(`\n${failures.length} failing run(s); each prints the line that replays it:\n`);
    for (const f of failures) process.stdout.write(`  ${f.split('\n').pop()!.replace(/^\s*replay: /, '')}\n`);
    return 1;
  }
  return 0;
}

/**
 * events/s is per core: a row's events over the summed wall time of its runs,
 * each timed on the one thread that ran it, so more workers do not inflate it.
 */
function printSummary(rows: Row[], elapsedMs: number, cpu: NodeJS.CpuUsage, cli: Cli): void {
  const head = ['scenario', 'seeds', 'events', 'failures', 'events/s', 'sim s per s', 'merged reads'];
  // Merged reads: long-link reads that held bytes of several writes, out of all (the network's TCP-like reading at work).
  const cells = (name: string, r: Omit<Row, 'scenario'>): string[] => [
    name,
    String(r.seeds),
    String(r.events),
    String(r.failures),
    String(Math.round(r.events / Math.max(r.wallMs / 1000, 1e-9))),
    (r.simMs / Math.max(r.wallMs, 1e-9)).toFixed(0),
    `${r.mergedReads}/${r.reads}`,
  ];
  const body = rows.map((r) => cells(r.scenario, r));
  const all = rows.reduce(
    (a, r) => ({
      events: a.events + r.events,
      wallMs: a.wallMs + r.wallMs,
      cpuMs: a.cpuMs + r.cpuMs,
      cpuRuns: a.cpuRuns + r.cpuRuns,
      failures: a.failures + r.failures,
      seeds: a.seeds + r.seeds,
      simMs: a.simMs + r.simMs,
      reads: a.reads + r.reads,
      mergedReads: a.mergedReads + r.mergedReads,
    }),
    { events: 0, wallMs: 0, cpuMs: 0, cpuRuns: 0, failures: 0, seeds: 0, simMs: 0, reads: 0, mergedReads: 0 },
  );
  body.push(cells('total', all));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  process.stdout.write(`\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${body.map(line).join('\n')}\n`);
  const shard = cli.shard ? `, shard ${cli.shard.index}/${cli.shard.of}` : '';
  process.stdout.write(`${all.seeds} runs in ${(elapsedMs / 1000).toFixed(1)} s on ${cli.workers} worker(s)${shard}: ${(all.seeds / Math.max(elapsedMs / 1000, 1e-9)).toFixed(1)} seeds/s\n`);
  // Per core three ways: over wall time (a run's waits for a core count), over the CPU time of the threads that
  // ran the runs (they do not: the figure to compare on a busy machine), over the process's CPU time (V8's
  // compiler and GC threads, and the workers' start-up, count too).
  const perS = (ms: number): number => Math.round(all.events / Math.max(ms / 1000, 1e-9));
  const processMs = (cpu.user + cpu.system) / 1000;
  const threads = all.cpuRuns === all.seeds ? `, ${perS(all.cpuMs)} over their threads' CPU time (${(all.cpuMs / 1000).toFixed(1)} s)` : '';
  process.stdout.write(
    `events/s per core: ${perS(all.wallMs)} over the runs' summed wall time (${(all.wallMs / 1000).toFixed(1)} s)${threads}, ` +
      `${perS(processMs)} over the whole process's CPU time (${(processMs / 1000).toFixed(1)} s)\n`,
  );
}

/** A progress bar on stderr when it is a terminal; silent otherwise. */
class Progress {
  private readonly tty: boolean;
  constructor(
    private readonly total: number,
    quiet: boolean,
  ) {
    this.tty = !quiet && process.stderr.isTTY === true;
  }
  update(done: number, what: string): void {
    if (!this.tty) return;
    const width = 30;
    const filled = Math.round((done / this.total) * width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${what}`.padEnd(80));
  }
  clear(): void {
    if (this.tty) process.stderr.write(`\r${' '.repeat(80)}\r`);
  }
}

// Piped into head or less that quits early: stop quietly instead of crashing on EPIPE.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
process.exitCode = await main();
