// npm run mutants: does every planted bug get caught, how soon, and how small
// a case does it shrink to? For each bug of PLANTED_BUGS:
//   1. a seed sweep over the default scenarios (seed 1 of every scenario, then
//      seed 2, ...) until the first failing run, bounded;
//   2. the simulation property over generated RunSpecs with the bug on
//      (sim/property/) until its first failure, bounded, then fast-check's
//      shrinking; the shrunk spec is written to .sim/failures/mutant-<bug>.json
//      and replays with `npm run sim -- --replay <file>`.
// Prints a table; exits 1 if a bug escaped either search.
import { wholeNumber } from './cli-args.ts';
import { parseArgs } from 'node:util';
import { PLANTED_BUGS, parseBug, type PlantedBug } from '../server/core/planted-bugs.ts';
import { SCENARIOS } from '../scenarios/index.ts';
import { runSpecArb } from './property/arbitraries.ts';
import { checkSpecs, type SpecFailure } from './property/spec-property.ts';
import { replayCommand } from './replay-file.ts';
import { runScenario } from './run.ts';

const HELP = `npm run mutants -- [--bug NAME]... [--seeds N] [--runs N] [--seed S] [--shrink-budget N]

For every planted bug (or the ones named): a seed sweep over the default
scenarios until the first failure, and the simulation property over
generated runs until its first failure, shrunk with fast-check. Exits 1 if
any bug escapes.

  --bug NAME          only this bug (repeatable): ${PLANTED_BUGS.join(', ')}
  --seeds N           sweep seeds 1..N of every scenario at most (default 10)
  --runs N            property runs at most before giving up (default 2000)
  --seed S            fast-check seed of the property (default 1)
  --shrink-budget N   property runs spent shrinking at most (default 4000)
`;

interface Options {
  bugs: PlantedBug[];
  seeds: number;
  runs: number;
  seed: number;
  shrinkBudget: number;
}

interface Row {
  bug: PlantedBug;
  sweep?: { runs: number; scenario: string; seed: string; guarantee: string };
  sweepRuns: number;
  property?: SpecFailure;
  propertyRuns: number;
  wallMs: number;
}

function parse(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      bug: { type: 'string', multiple: true },
      seeds: { type: 'string' },
      runs: { type: 'string' },
      seed: { type: 'string' },
      'shrink-budget': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const int = wholeNumber;
  return {
    bugs: values.bug ? values.bug.map(parseBug) : [...PLANTED_BUGS],
    seeds: int('seeds', values.seeds, 10, 1),
    runs: int('runs', values.runs, 2000, 1),
    seed: int('seed', values.seed, 1, 0),
    shrinkBudget: int('shrink-budget', values['shrink-budget'], 4000, 0),
  };
}

/** Seed 1 of every scenario, then seed 2, ...: the first failing run. */
function sweep(bug: PlantedBug, seeds: number): { found?: Row['sweep']; runs: number } {
  let runs = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    for (const s of SCENARIOS) {
      runs++;
      const r = runScenario(s, String(seed), { bugs: new Set([bug]) });
      if (!r.ok) return { found: { runs, scenario: s.name, seed: String(seed), guarantee: r.failure!.guarantee }, runs };
    }
  }
  return { runs };
}

function main(): number {
  let o: Options;
  try {
    o = parse(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const t0 = performance.now();
  const rows: Row[] = [];
  for (const bug of o.bugs) {
    const started = performance.now();
    const s = sweep(bug, o.seeds);
    const p = checkSpecs({ name: `mutant-${bug}`, arb: runSpecArb(), seed: o.seed, numRuns: o.runs, bugs: [bug], shrinkBudget: o.shrinkBudget });
    const row: Row = { bug, sweepRuns: s.runs, propertyRuns: p.runs, wallMs: performance.now() - started };
    if (s.found) row.sweep = s.found;
    if (p.failure) row.property = p.failure;
    rows.push(row);
    process.stderr.write(`${bug}: ${row.sweep && row.property ? 'caught' : 'ESCAPED'} (${(row.wallMs / 1000).toFixed(1)} s)\n`);
  }
  printTable(rows);
  process.stdout.write('\nreplay the shrunk cases:\n');
  for (const r of rows) {
    if (r.property) process.stdout.write(`  ${r.bug.padEnd(24)} ${replayCommand(r.property.file)}\n`);
    if (r.sweep) process.stdout.write(`  ${''.padEnd(24)} npm run sim -- --scenario ${r.sweep.scenario} --seed ${r.sweep.seed} --bug ${r.bug}\n`);
  }
  const escaped = rows.filter((r) => !r.sweep || !r.property);
  process.stdout.write(`\n${rows.length - escaped.length} of ${rows.length} planted bugs caught in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  for (const r of escaped) {
    process.stdout.write(
      `ESCAPED ${r.bug}: ${!r.sweep ? `no failure in ${r.sweepRuns} sweep runs (seeds 1..${o.seeds} of every scenario)` : ''}` +
        `${!r.sweep && !r.property ? '; ' : ''}${!r.property ? `no failure in ${r.propertyRuns} property runs (fast-check seed ${o.seed})` : ''}\n`,
    );
  }
  return escaped.length > 0 ? 1 : 0;
}

function printTable(rows: Row[]): void {
  const head = ['bug', 'caught', 'sweep: runs to 1st failure', 'property: runs to 1st failure', 'shrink runs', 'shrunk size (ops+faults+devices)', 'guarantee broken (shrunk)'];
  const body = rows.map((r) => {
    const p = r.property;
    return [
      r.bug,
      r.sweep && p ? 'yes' : 'NO',
      r.sweep ? `${r.sweep.runs} (${r.sweep.scenario} seed ${r.sweep.seed}, ${r.sweep.guarantee})` : `none in ${r.sweepRuns}`,
      p ? String(p.runsToFailure) : `none in ${r.propertyRuns}`,
      p ? String(p.shrinkRuns) : '-',
      p ? `${p.size.total} (${p.size.ops}+${p.size.faults}+${p.size.devices})` : '-',
      p?.result.failure?.guarantee ?? '-',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${body.map(line).join('\n')}\n`);
}

process.exitCode = main();
