// The simulation as a property: on any generated run (accounts, devices,
// groups, timed operations, timed faults, a network) every guarantee of
// docs/protocol.md section 10 holds. A failure prints fast-check's replay
// parameters and writes the shrunk run to .sim/failures/<name>.json, which
// `npm run sim -- --replay <file>` runs again event for event.
import { describe, expect, it } from 'vitest';
import { runSpecArb } from '../../sim/property/arbitraries.ts';
import { checkSpecs } from '../../sim/property/spec-property.ts';

/** The seed of the reproducible property; the second one draws a fresh seed each time. */
const FIXED_SEED = 20_261_126;
const RUNS = 250;
/** A failure shrinks for at most this many more runs (a few seconds), so a red test stays quick. */
const SHRINK_BUDGET = 2_000;

function freshSeed(): number {
  const forced = process.env['PROPERTY_SEED'];
  return forced !== undefined ? Number(forced) : Math.floor(Math.random() * 0x7fffffff);
}

describe('every guarantee holds on generated runs', () => {
  it(`fixed seed ${FIXED_SEED}`, () => {
    const o = checkSpecs({ name: 'simulation-fixed-seed', arb: runSpecArb(), seed: FIXED_SEED, numRuns: RUNS, shrinkBudget: SHRINK_BUDGET });
    if (o.failure) console.log(o.failure.report);
    expect(o.failure?.report).toBeUndefined();
    expect(o.runs).toBe(RUNS);
  });

  it('fresh seed (printed; PROPERTY_SEED=<seed> runs it again)', () => {
    const seed = freshSeed();
    console.log(`simulation property: seed ${seed} (run it again: PROPERTY_SEED=${seed} npx vitest run test/property/simulation.property.test.ts)`);
    const o = checkSpecs({ name: `simulation-seed-${seed}`, arb: runSpecArb(), seed, numRuns: RUNS, shrinkBudget: SHRINK_BUDGET });
    if (o.failure) console.log(o.failure.report);
    expect(o.failure?.report).toBeUndefined();
  });
});
