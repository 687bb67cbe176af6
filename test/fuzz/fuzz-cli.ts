// `npm run fuzz -- [--runs N] [--seed S] [--path P]`: the long run of the
// transport fuzzer (test/fuzz/transports-property.ts) against the real
// server on real sockets, with a progress line and a summary of outcomes.
// On a failure it prints fast-check's seed and path (and the shrunk input),
// so that `--seed S --path P` replays exactly that input. Exit 0 when every
// input held, 1 on a failure, 2 on a usage error.
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { FuzzTarget } from './fuzz-target.ts';
import { OutcomeTally, transportProperty, type TransportInput } from './transports-property.ts';

const DEFAULT_RUNS = 10_000;
/** Progress on a terminal rewrites one line each second; into a file or a pipe it is a line every ten. */
const PROGRESS_EVERY_MS = process.stdout.isTTY ? 1000 : 10_000;

const HELP = `Usage: npm run fuzz -- [--runs N] [--seed S] [--path P]

Fuzzes the server's HTTP endpoints and its TCP and WebSocket long links with
arbitrary inputs (mutated valid requests, random bytes, broken framing). Each
input must be answered (an HTTP status with a JSON body, or op 6 and a close,
or the link goes on serving), store nothing when refused, and leave an honest
client's heartbeat answered.

Options:
  --runs N   inputs to try (default ${DEFAULT_RUNS})
  --seed S   fast-check seed (default: a fresh one, printed)
  --path P   replay one input: the path printed with a failure (needs its --seed)
  -h, --help show this help`;

interface Options {
  runs: number;
  seed: number;
  path?: string;
}

function parse(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { runs: { type: 'string' }, seed: { type: 'string' }, path: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return 'help';
  const int = (name: string, v: string | undefined, dflt: number): number => {
    if (v === undefined) return dflt;
    if (!/^-?\d+$/.test(v)) throw new Error(`--${name} must be a whole number, got '${v}'`);
    return Number(v);
  };
  const runs = int('runs', values.runs, DEFAULT_RUNS);
  if (runs < 1) throw new Error('--runs must be at least 1');
  const seed = int('seed', values.seed, Math.floor(Math.random() * 0x7fffffff));
  if (values.path !== undefined && values.seed === undefined) throw new Error('--path needs the --seed it was printed with');
  return { runs, seed, ...(values.path !== undefined ? { path: values.path } : {}) };
}

async function main(): Promise<number> {
  let o: Options | 'help';
  try {
    o = parse(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (o === 'help') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const x = await FuzzTarget.start();
  const tally = new OutcomeTally();
  const t0 = performance.now();
  let lastPrint = 0;
  const progress = (): void => {
    const now = performance.now();
    if (now - lastPrint < PROGRESS_EVERY_MS) return;
    lastPrint = now;
    const s = (now - t0) / 1000;
    const line = `${tally.inputs} / ${o.runs} inputs, ${s.toFixed(0)} s, ${Math.round(tally.inputs / s)}/s`;
    process.stdout.write(process.stdout.isTTY ? `\r${line}   ` : `${line}\n`);
  };
  process.stdout.write(`fuzzing HTTP, TCP and WebSocket: ${o.runs} inputs, seed ${o.seed}${o.path ? `, path ${o.path}` : ''}\n`);
  let details: fc.RunDetails<[TransportInput]>;
  try {
    details = await fc.check(transportProperty(x, tally, progress), {
      numRuns: o.runs,
      seed: o.seed,
      ...(o.path ? { path: o.path } : {}),
      endOnFailure: false,
    });
  } catch (e) {
    await x.close();
    throw e;
  }
  const code = report(o, tally, details, t0);
  await x.close();
  return code;
}

/** The summary and, on a failure, what replays it; the exit code. */
function report(o: Options, tally: OutcomeTally, details: fc.RunDetails<[TransportInput]>, t0: number): number {
  const secs = (performance.now() - t0) / 1000;
  if (process.stdout.isTTY) process.stdout.write(`\r${' '.repeat(60)}\r`);
  process.stdout.write(`${tally.inputs} inputs in ${secs.toFixed(1)} s (${Math.round(tally.inputs / secs)}/s), seed ${o.seed}\n`);
  process.stdout.write(`outcomes:\n${tally.lines().join('\n')}\n`);
  if (!details.failed) {
    process.stdout.write(`passed: every input was answered, nothing refused was stored, the honest client was served throughout\n`);
    return 0;
  }
  process.stdout.write(
    `FAILED after ${details.numRuns} inputs (shrunk ${details.numShrinks} times)\n` +
      `  ${String((details.errorInstance as Error | null)?.message ?? details.errorInstance)}\n` +
      `  counterexample: ${fc.stringify(details.counterexample)}\n` +
      `  fast-check: { seed: ${details.seed}, path: "${details.counterexamplePath}" }\n` +
      `  replay: npm run fuzz -- --seed ${details.seed} --path ${details.counterexamplePath} --runs 1\n`,
  );
  return 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`fuzz failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
