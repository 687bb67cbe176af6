// npm run sim -- [--scenario NAME] [--seed N] [--seeds K] [--swarm] [--store sqlite]
//                [--trace FILE] [--check-determinism] [--until-event N] [--bug NAME]
// With no arguments: every scenario over the default seeds, with a summary.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { PLANTED_BUGS, parseBug, type PlantedBug } from '../server/core/planted-bugs.ts';
import { SCENARIOS, scenarioByName } from '../scenarios/index.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import { runScenario, type RunResult } from './run.ts';
import type { SimStoreKind } from './sim-store.ts';
import { describeFaults, swarm } from './swarm.ts';

const DEFAULT_SEEDS = 10;

const HELP = `synckey-harness simulation

  npm run sim                                   sweep every scenario over seeds 1..${DEFAULT_SEEDS}
  npm run sim -- --scenario NAME --seed N       replay one run exactly
  npm run sim -- --scenario NAME --seed N --seeds K     seeds N..N+K-1

Options:
  --scenario NAME       one of: ${SCENARIOS.map((s) => s.name).join(', ')} (default: all)
  --seed N              first seed (default 1)
  --seeds K             how many seeds (default ${DEFAULT_SEEDS} for a sweep, 1 with --seed)
  --swarm               draw every fault parameter from the seed; printed with the seed
  --store memory|sqlite the server's store (sqlite: a temporary file, WAL)
  --trace FILE          write every event of the run as JSON lines (one run only)
  --check-determinism   run each seed twice and fail on any difference of the trace hash
  --until-event N       stop after event N and print the world's state
  --bug NAME            plant a bug (proves the checkers catch it): ${PLANTED_BUGS.join(', ')}
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
  checkDeterminism: boolean;
  untilEvent?: number;
  bugs: PlantedBug[];
  quiet: boolean;
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
      'check-determinism': { type: 'boolean', default: false },
      'until-event': { type: 'string' },
      bug: { type: 'string', multiple: true },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const int = (name: string, v: string | undefined, dflt: number, min: number): number => {
    if (v === undefined) return dflt;
    if (!/^[0-9]+$/.test(v) || Number(v) < min) throw new Error(`--${name} takes a whole number >= ${min}, got '${v}'`);
    return Number(v);
  };
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
  };
  if (values.trace !== undefined) cli.trace = values.trace;
  if (values['until-event'] !== undefined) cli.untilEvent = int('until-event', values['until-event'], 0, 1);
  if (cli.trace && (cli.scenarios.length > 1 || cli.seeds > 1)) throw new Error('--trace records one run: give --scenario and --seed');
  return cli;
}

/** The one line that replays a run. */
export function replayLine(scenario: string, seed: string, cli: Pick<Cli, 'swarm' | 'store' | 'bugs'>): string {
  const parts = ['npm run sim --', '--scenario', scenario, '--seed', seed];
  if (cli.swarm) parts.push('--swarm');
  if (cli.store !== 'memory') parts.push('--store', cli.store);
  for (const b of cli.bugs) parts.push('--bug', b);
  return parts.join(' ');
}

function runOne(base: Scenario, seed: string, cli: Cli, keepTrace: boolean): { result: RunResult; wallMs: number; scenario: Scenario } {
  const scenario = cli.swarm ? swarm(base, seed) : base;
  const t0 = performance.now();
  const result = runScenario(scenario, seed, {
    store: cli.store,
    bugs: new Set(cli.bugs),
    keepTrace,
    ...(cli.untilEvent !== undefined ? { untilEvent: cli.untilEvent } : {}),
  });
  return { result, wallMs: performance.now() - t0, scenario };
}

interface Row {
  scenario: string;
  seeds: number;
  events: number;
  failures: number;
  wallMs: number;
  simMs: number;
}

function main(): number {
  let cli: Cli;
  try {
    cli = parse(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const total = cli.scenarios.length * cli.seeds;
  const rows: Row[] = [];
  const failures: string[] = [];
  let done = 0;
  const bar = new Progress(total, cli.quiet || total === 1);
  for (const base of cli.scenarios) {
    const row: Row = { scenario: base.name, seeds: 0, events: 0, failures: 0, wallMs: 0, simMs: 0 };
    rows.push(row);
    for (let i = 0; i < cli.seeds; i++) {
      const seed = String(cli.seed + i);
      const { result, wallMs, scenario } = runOne(base, seed, cli, cli.trace !== undefined);
      row.seeds++;
      row.events += result.events;
      row.wallMs += wallMs;
      row.simMs += result.simMs;
      done++;
      bar.update(done, `${base.name} seed ${seed}`);
      const replay = replayLine(base.name, seed, cli);
      if (cli.swarm && total === 1) process.stdout.write(`SEED=${seed} ${describeFaults(scenario.faults)}\n`);
      if (cli.trace && result.trace !== undefined) fs.writeFileSync(cli.trace, result.trace);
      if (cli.checkDeterminism) {
        const again = runOne(base, seed, cli, false).result;
        if (again.traceHash !== result.traceHash || again.events !== result.events) {
          row.failures++;
          failures.push(`NONDETERMINISTIC ${base.name} seed ${seed}: trace ${result.traceHash} (${result.events} events) then ${again.traceHash} (${again.events} events)\n  replay: ${replay} --check-determinism`);
          continue;
        }
      }
      if (result.stoppedAtEvent) {
        process.stdout.write(`stopped at event ${result.events} (${base.name} seed ${seed}), trace ${result.traceHash}\n${result.stateDump}\n`);
        continue;
      }
      if (!result.ok) {
        row.failures++;
        const f = result.failure!;
        const swarmLine = cli.swarm ? `\n  SEED=${seed} ${describeFaults(scenario.faults)}` : '';
        failures.push(
          `FAIL ${base.name} seed ${seed}: ${f.guarantee} at ${f.who}, event ${f.event}, t=${f.simMs.toFixed(1)} ms\n  ${f.detail}${swarmLine}\n  last events:\n${f.recent.map((l) => `    ${l}`).join('\n')}\n  replay: ${replay}`,
        );
        bar.clear();
        process.stdout.write(`${failures[failures.length - 1]}\n`);
      } else if (total === 1) {
        process.stdout.write(
          `ok ${base.name} seed ${seed}: ${result.events} events, ${(result.simMs / 1000).toFixed(1)} s simulated in ${(wallMs / 1000).toFixed(2)} s, ` +
            `sends ${result.counts.sends} acked ${result.counts.acked} applied ${result.counts.applied}, crashes ${result.counts.crashes} kills ${result.counts.kills} ` +
            `partitions ${result.counts.partitions} replaced ${result.counts.replaces} resyncs ${result.counts.resyncs}, converged ${result.convergedAfterMs?.toFixed(0)} ms after healing, trace ${result.traceHash}\n` +
            `  replay: ${replay}\n`,
        );
      }
    }
  }
  bar.clear();
  if (total > 1) printSummary(rows);
  if (failures.length > 0) {
    process.stdout.write(`\n${failures.length} failing run(s); each prints the line that replays it:\n`);
    for (const f of failures) process.stdout.write(`  ${f.split('\n').pop()!.replace(/^\s*replay: /, '')}\n`);
    return 1;
  }
  return 0;
}

function printSummary(rows: Row[]): void {
  const head = ['scenario', 'seeds', 'events', 'failures', 'events/s', 'sim s per s'];
  const body = rows.map((r) => [
    r.scenario,
    String(r.seeds),
    String(r.events),
    String(r.failures),
    String(Math.round(r.events / Math.max(r.wallMs / 1000, 1e-9))),
    (r.simMs / Math.max(r.wallMs, 1e-9)).toFixed(0),
  ]);
  const all = rows.reduce((a, r) => ({ events: a.events + r.events, wallMs: a.wallMs + r.wallMs, failures: a.failures + r.failures, seeds: a.seeds + r.seeds, simMs: a.simMs + r.simMs }), {
    events: 0,
    wallMs: 0,
    failures: 0,
    seeds: 0,
    simMs: 0,
  });
  body.push(['total', String(all.seeds), String(all.events), String(all.failures), String(Math.round(all.events / Math.max(all.wallMs / 1000, 1e-9))), (all.simMs / Math.max(all.wallMs, 1e-9)).toFixed(0)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  process.stdout.write(`\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${body.map(line).join('\n')}\n`);
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

process.exitCode = main();
