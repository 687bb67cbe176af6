// npm run chaos -- [--scenario NAME]... [--seed S] [--duration 20s] [--liveness 60s]
//                  [--bug NAME]... [--history FILE] [--keep-history] [--html FILE] [--quiet]
// npm run chaos -- --check HISTORY [--html FILE]
//
// Runs scenarios against the real server through the fault proxy and judges
// each run's history with the simulator's checkers; or re-judges a history
// file offline. Exit code 0: every run passed; 1: a run failed; 2: bad usage.
import { parseArgs } from 'node:util';
import { PLANTED_BUGS, parseBug, type PlantedBug } from '../server/core/planted-bugs.ts';
import { SCENARIOS, scenarioByName } from '../scenarios/index.ts';
import { checkHistory } from './check-history.ts';
import { bugsOf } from './plan.ts';
import { followUpLines, planLines, uncaughtLine, verdictLines } from './report.ts';
import { runChaos, SEED_NOTE } from './runner.ts';
import { killAllServers } from './server-supervisor.ts';

const HELP = `Usage:
  npm run chaos -- [--scenario NAME]... [--seed S] [--duration 20s] [--liveness 60s] [--bug NAME]...
  npm run chaos -- --check HISTORY [--html FILE]

Runs a scenario's workload against the real server (a child process on a
temporary SQLite file) through a fault-injecting proxy on loopback, with the
reference client on real sockets, and judges what happened with the
simulator's checkers.

  --scenario NAME   one of: ${SCENARIOS.map((s) => s.name).join(', ')}
                    (repeatable; default: every scenario)
  --seed S          the seed of the plan: users, actions, fault schedule (default 1)
  --duration T      the fault phase, e.g. 20s, 1m, 500ms (default 20s, at most 10m)
  --liveness T      how long the devices get to converge after healing (default 60s)
  --bug NAME        plant a bug in the server child or the apps (repeatable): the run
                    should fail; one of ${PLANTED_BUGS.join(', ')}
  --history FILE    write the history here (with one run; written even if it passes)
  --keep-history    write the history of passing runs too (default: failing ones,
                    under .chaos/failures/)
  --html FILE       write a picture of the run (one self-contained HTML file: a lane
                    per device and the server, messages as arrows, faults, SyncKeys,
                    the violation); a failing run writes one beside its history anyway
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
  bugs: PlantedBug[];
  history?: string;
  keepHistory: boolean;
  html?: string;
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
        bug: { type: 'string', multiple: true },
        html: { type: 'string' },
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
  if (values.html !== undefined && values.check === undefined && scenarios.length !== 1) throw new UsageError('--html draws one run: give one --scenario (or --check HISTORY)');
  let bugs: PlantedBug[];
  try {
    bugs = (values.bug ?? []).map(parseBug);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.check !== undefined && bugs.length > 0) throw new UsageError('--check judges a history as it was run: its bugs are in it, --bug does not go with it');
  const seed = values.seed ?? '1';
  if (seed === '') throw new UsageError('--seed must not be empty');
  const cli: Cli = {
    scenarios,
    seed,
    durationMs: parseDuration('duration', values.duration ?? '20s'),
    livenessBoundMs: parseDuration('liveness', values.liveness ?? '60s'),
    bugs,
    keepHistory: values['keep-history'] ?? values.history !== undefined,
    quiet: values.quiet ?? false,
  };
  if (values.history !== undefined) cli.history = values.history;
  if (values.check !== undefined) cli.check = values.check;
  if (values.html !== undefined) cli.html = values.html;
  return cli;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function check(file: string, html: string | undefined): number {
  const r = checkHistory(file, html);
  for (const l of r.lines) say(l);
  if (r.error !== undefined) process.stderr.write(`error: ${r.error}\n`);
  return r.code;
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
  if (cli.check !== undefined) return check(cli.check, cli.html);
  const failed: string[] = [];
  for (const name of cli.scenarios) {
    const scenario = scenarioByName(name);
    const r = await runChaos({
      scenario,
      seed: cli.seed,
      durationMs: cli.durationMs,
      livenessBoundMs: cli.livenessBoundMs,
      bugs: cli.bugs,
      keepHistory: cli.keepHistory,
      ...(cli.history !== undefined ? { historyFile: cli.history } : {}),
      ...(cli.html !== undefined ? { htmlFile: cli.html } : {}),
      ...(cli.quiet ? {} : { log: say, progressEveryMs: 5_000 }),
      onPlan: (plan) => {
        for (const l of planLines(plan, cli.livenessBoundMs)) say(l);
      },
    });
    for (const l of verdictLines(r.verdict, r.history.records)) say(l);
    const uncaught = uncaughtLine(r.plan, r.verdict);
    if (uncaught) say(uncaught);
    say(
      `  proxy: ${r.proxy.requests} HTTP requests, ${r.proxy.duplicated} duplicated, ${r.proxy.droppedRequests} lost before the server, ${r.proxy.droppedResponses} answers lost after it; wall time ${(r.wallMs / 1000).toFixed(1)} s`,
    );
    const files = { ...(r.historyFile !== undefined ? { history: r.historyFile } : {}), ...(r.specFile !== undefined ? { spec: r.specFile } : {}), ...(r.htmlFile !== undefined ? { html: r.htmlFile } : {}) };
    for (const l of followUpLines(files)) say(l);
    say(`  note: ${SEED_NOTE}`);
    say('');
    const planted = bugsOf(r.plan).length > 0 ? ` (bugs ${bugsOf(r.plan).join(' ')})` : '';
    if (!r.verdict.ok) failed.push(`${name} seed ${cli.seed}${planted}: ${r.verdict.failure!.guarantee} at ${r.verdict.failure!.who}`);
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
