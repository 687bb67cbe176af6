// The property has teeth: with a planted bug on, it fails, shrinks to a small
// run, writes the replay file, and that file reproduces the failure byte for
// byte (same trace hash, same broken guarantee), through runSpec, through
// fast-check's own { seed, path, endOnFailure } and through the CLI. Without
// the bug the shrunk run passes: the bug, not the run, is what fails.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PlantedBug } from '../../server/core/planted-bugs.ts';
import { readReplayFile, runReplay } from '../../sim/replay-file.ts';
import { runSpec } from '../../sim/run.ts';
import type { RunSpec } from '../../sim/run-spec.ts';
import { runSpecArb } from '../../sim/property/arbitraries.ts';
import { checkSpecs, type SpecOutcome } from '../../sim/property/spec-property.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const SEED = 20_261_126;

/** Each bug, and the most a shrunk case of it may hold (ops + faults + devices). */
const CASES: Array<{ bug: PlantedBug; maxSize: number }> = [
  { bug: 'skip-dedup', maxSize: 10 },
  { bug: 'group-order-per-member', maxSize: 10 },
];

/** Each bug's property is run once; the tests below share its outcome. */
const outcomes = new Map<PlantedBug, SpecOutcome>();
function outcome(bug: PlantedBug): SpecOutcome {
  let o = outcomes.get(bug);
  if (!o) outcomes.set(bug, (o = checkSpecs({ name: `planted-${bug}`, arb: runSpecArb(), seed: SEED, numRuns: 300, bugs: [bug] })));
  return o;
}

describe.each(CASES)('planted bug $bug', ({ bug, maxSize }) => {
  it('fails the property, shrinks small, and the replay file reproduces it exactly', () => {
    const o = outcome(bug);
    expect(o.failure, `${bug} went unnoticed for 300 runs`).toBeDefined();
    const f = o.failure!;
    console.log(f.report);
    expect(f.result.ok).toBe(false);
    expect(f.size.total, `shrunk to ${JSON.stringify(f.size)}`).toBeLessThanOrEqual(maxSize);

    // The file: the spec, the bug and what the run did.
    const file = readReplayFile(f.file);
    expect(file.bugs).toEqual([bug]);
    expect(file.spec).toEqual(f.spec);
    expect(file.expect?.traceHash).toBe(f.result.traceHash);
    const again = runReplay(file, { keepTrace: true });
    expect(again.traceHash).toBe(f.result.traceHash);
    expect(again.events).toBe(f.result.events);
    expect(again.failure).toEqual(f.result.failure);

    // fast-check's replay parameters lead to the same shrunk spec.
    let replayed: RunSpec | undefined;
    const details = fc.check(
      fc.property(runSpecArb(), (spec) => {
        const ok = runSpec(spec, { bugs: new Set([bug]) }).ok;
        if (!ok) replayed = spec;
        return ok;
      }),
      { seed: f.seed, path: f.path, endOnFailure: true },
    );
    expect(details.failed).toBe(true);
    expect(replayed).toEqual(f.spec);

    // Without the bug the same run keeps every guarantee.
    expect(runSpec(f.spec).ok).toBe(true);
  });
});

describe('the replay command', () => {
  it('npm run sim -- --replay FILE runs the file again with the same trace hash, and exits 1 on its failure', () => {
    const f = outcome('skip-dedup').failure!;
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'sim/cli.ts', '--replay', f.file], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(`FAIL ${f.result.failure!.guarantee} at ${f.result.failure!.who}`);
    expect(run.stdout).toContain(`trace ${f.result.traceHash}: the same as recorded in the file`);
  });
});
