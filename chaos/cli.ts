// npm run chaos -- [--scenario NAME]... [--seed S] [--duration 20s] [--liveness 60s]
//                  [--history FILE] [--keep-history] [--quiet]
// npm run chaos -- --check HISTORY
//
// Runs scenarios against the real server through the fault proxy and judges
// each run's history with the simulator's checkers; or re-judges a history
// file offline. Exit code 0: every run passed; 1: a run failed; 2: bad usage.
import { parseArgs } from 'node:util';
import { SCENARIOS, scenarioByName } from '../scenarios/index.ts';
import { readHistory } from './history.ts';
import { judge } from './judge.ts';
import { planLines, verdictLines } from './report.ts';
import { runChaos, SEED_NOTE } from './runner.ts';
import { killAllServers } from './server-supervisor.ts';

const HELP = `Usage:
  npm run chaos -- [--scenario NAME]... [--seed S] [--duration 20s] [--liveness 60s]
  npm run chaos -- --check HISTORY

Runs a scenario's workload against the real server (a child process on a
temporary SQLite file) through a fault-injecting proxy on loopback, with the
reference client on real sockets, and judges what happened with the
simulator's checkers.

  --scenario NAME   one of: ${SCENARIOS.map((s) => s.name).join(', ')}
                    (repeatable; default: every scenario)
  --seed S          the seed of the plan: users, actions, fault schedule (default 1)
  --duration T      the fault phase, e.g. 20s, 1m, 500ms (default 20s, at most 10m)
  --liveness T      how long the devices get to converge after healing (default 60s)
  --history FILE    write the history here (with one run; written even if it passes)
  --keep-history    write the history of passing runs too (default: failing ones,
                    under .chaos/failures/)
  --check FILE      re-judge a history file offline; no server is started
  --quiet           no progress lines
  -h, --help        this text

The seed fixes the plan, not the outcome: real timing decides which request
a drop meets, so a rerun of the same seed may differ. A failing run's
history re-judges with --check, and its plan (FILE.spec.json) runs in the
simulator with npm run sim -- --replay.`;

const MAX_DURATION_MS = 600_000;

class UsageError extends Error {}

/** `20s`, `1m`, `500ms`, `1.5s`. */
function parseDuration(flag: string, text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m)$/.exec(text.trim());
  if (!m) throw new UsageError(`--${flag} takes a duration like 20s, 1m or 500ms, got '${text}'`);
  const n = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
  if (n <= 0 || n > MAX_DURATION_MS) throw new UsageError(`--${flag} must be above 0 and at most ${MAX_DURATION_MS / 60_000} minutes, got '${text}'`);
  return Math.round(n);
}

interface Cli {
  scenarios: string[];
  seed: string;
  durationMs: number;
  livenessBoundMs: number;
  history?: string;
  keepHistory: boolean;
  check?: string;
  quiet: boolean;
}

function parseCli(argv: string[]): Cli | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        scenario: { type: 'string', multiple: true },
        seed: { type: 'string' },
        duration: { type: 'string' },
        liveness: { type: 'string' },
        history: { type: 'string' },
        'keep-history': { type: 'boolean' },
        check: { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) return 'help';
  const scenarios = values.scenario ?? SCENARIOS.map((s) => s.name);
  for (const s of scenarios) {
    try {
      scenarioByName(s);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  if (values.history !== undefined && scenarios.length !== 1) throw new UsageError('--history names one file: give one --scenario');
  const seed = values.seed ?? '1';
  if (seed === '') throw new UsageError('--seed must not be empty');
  const cli: Cli = {
    scenarios,
    seed,
    durationMs: parseDuration('duration', values.duration ?? '20s'),
    livenessBoundMs: parseDuration('liveness', values.liveness ?? '60s'),
    keepHistory: values['keep-history'] ?? values.history !== undefined,
    quiet: values.quiet ?? false,
  };
  if (values.history !== undefined) cli.history = values.history;
  if (values.check !== undefined) cli.check = values.check;
  return cli;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function check(file: string): number {
  let records;
  try {
    records = readHistory(file);
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 2;
  }
  const head = records[0]!;
  if (head.k !== 'run') throw new Error(`${file}: no run record`);
  for (const l of planLines(head.plan, head.plan.spec.livenessBoundMs ?? 0)) say(l);
  let v;
  try {
    v = judge(records);
  } catch (e) {
    process.stderr.write(`error: ${file} is not a whole history: ${(e as Error).message}\n`);
    return 2;
  }
  for (const l of verdictLines(v, records)) say(l);
  say(`  note: ${head.note}`);
  return v.ok ? 0 : 1;
}

async function main(): Promise<number> {
  let cli: Cli | 'help';
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`error: ${e.message}\n\n${HELP}\n`);
    return 2;
  }
  if (cli === 'help') {
    say(HELP);
    return 0;
  }
  if (cli.check !== undefined) return check(cli.check);
  const failed: string[] = [];
  for (const name of cli.scenarios) {
    const scenario = scenarioByName(name);
    const r = await runChaos({
      scenario,
      seed: cli.seed,
      durationMs: cli.durationMs,
      livenessBoundMs: cli.livenessBoundMs,
      keepHistory: cli.keepHistory,
      ...(cli.history !== undefined ? { historyFile: cli.history } : {}),
      ...(cli.quiet ? {} : { log: say, progressEveryMs: 5_000 }),
      onPlan: (plan) => {
        for (const l of planLines(plan, cli.livenessBoundMs)) say(l);
      },
    });
    for (const l of verdictLines(r.verdict, r.history.records)) say(l);
    say(
      `  proxy: ${r.proxy.requests} HTTP requests, ${r.proxy.duplicated} duplicated, ${r.proxy.droppedRequests} lost before the server, ${r.proxy.droppedResponses} answers lost after it; wall time ${(r.wallMs / 1000).toFixed(1)} s`,
    );
    if (r.historyFile) {
      say(`  history: ${r.historyFile}`);
      say(`  re-judge: npm run chaos -- --check ${r.historyFile}`);
      say(`  the same users and fault schedule in the simulator: npm run sim -- --replay ${r.specFile}`);
    }
    say(`  note: ${SEED_NOTE}`);
    say('');
    if (!r.verdict.ok) failed.push(`${name} seed ${cli.seed}: ${r.verdict.failure!.guarantee} at ${r.verdict.failure!.who}`);
  }
  if (cli.scenarios.length > 1) say(failed.length === 0 ? `all ${cli.scenarios.length} scenarios passed (seed ${cli.seed})` : `${failed.length} of ${cli.scenarios.length} failed:\n  ${failed.join('\n  ')}`);
  return failed.length === 0 ? 0 : 1;
}

const stop = (): void => {
  killAllServers();
  process.exit(130);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    killAllServers();
    process.stderr.write(`chaos: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
