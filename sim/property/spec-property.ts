// The simulation as a fast-check property: a RunSpec holds when its run keeps
// every guarantee. On a failure the shrunk spec is written as a replay file
// (`npm run sim -- --replay FILE` runs it again, same trace hash) next to
// fast-check's own replay parameters.
import path from 'node:path';
import fc from 'fast-check';
import type { PlantedBug } from '../../server/core/planted-bugs.ts';
import { replayCommand, replayOf, writeReplayFile } from '../replay-file.ts';
import { runSpec, type RunResult } from '../run.ts';
import { specSize, type RunSpec } from '../run-spec.ts';
import { pictureFileBeside, recordPicture, writePicture } from '../picture/record-picture.ts';
import type { SimStoreKind } from '../sim-store.ts';

/** Where failing specs go (gitignored). */
export const FAILURE_DIR = '.sim/failures';

export interface SpecCheck {
  /** Names the replay file: `<dir>/<name>.json`. */
  name: string;
  arb: fc.Arbitrary<RunSpec>;
  seed: number;
  numRuns: number;
  bugs?: readonly PlantedBug[];
  store?: SimStoreKind;
  /** Stop shrinking after this many runs of the property past the first failure (default: no limit). */
  shrinkBudget?: number;
  /** Directory of the replay file (default FAILURE_DIR, relative to the working directory). */
  dir?: string;
}

export interface SpecFailure {
  spec: RunSpec;
  result: RunResult;
  file: string;
  /** fast-check's replay parameters: `fc.assert(prop, { seed, path, endOnFailure: true })`. */
  seed: number;
  path: string;
  /** Runs until the first failure (1-based), and runs spent shrinking. */
  runsToFailure: number;
  shrinkRuns: number;
  shrinks: number;
  size: ReturnType<typeof specSize>;
  /** What to print: fast-check's parameters, the failure, and the line that replays it. */
  report: string;
}

export interface SpecOutcome {
  runs: number;
  failure?: SpecFailure;
}

/** Run the property; on a failure shrink it, write the replay file and describe it. */
export function checkSpecs(c: SpecCheck): SpecOutcome {
  const bugs = new Set(c.bugs ?? []);
  const store = c.store ?? 'memory';
  let runs = 0;
  let firstFailureAt = 0;
  const prop = fc.property(c.arb, (spec) => {
    runs++;
    if (firstFailureAt > 0 && c.shrinkBudget !== undefined && runs - firstFailureAt > c.shrinkBudget) return true;
    const ok = runSpec(spec, { bugs, store }).ok;
    if (!ok && firstFailureAt === 0) firstFailureAt = runs;
    return ok;
  });
  const details = fc.check(prop, { seed: c.seed, numRuns: c.numRuns });
  if (!details.failed) return { runs };
  if (!details.counterexample) throw new Error(`property ${c.name} failed without a counterexample: ${fc.defaultReportMessage(details) ?? ''}`);
  const spec = details.counterexample[0];
  const file = path.join(c.dir ?? FAILURE_DIR, `${c.name}.json`);
  // The shrunk spec runs once more, with the picture recorder watching (it changes nothing of the run).
  const { result, html } = recordPicture((watch) => runSpec(spec, { bugs, store, watch }), {
    title: `property ${c.name}: the shrunk counterexample`,
    replay: replayCommand(file),
  });
  const picture = pictureFileBeside(file);
  writePicture(picture, html);
  const fastCheck = { seed: details.seed, path: details.counterexamplePath ?? '' };
  writeReplayFile(file, replayOf(spec, result, { bugs: [...bugs], store, note: `property ${c.name}, shrunk ${details.numShrinks} times`, fastCheck }));
  const size = specSize(spec);
  const f = result.failure;
  const report = [
    `property ${c.name} failed after ${firstFailureAt} run(s), shrunk ${details.numShrinks} time(s) to ${size.ops} ops, ${size.faults} faults, ${size.devices} devices`,
    f ? `  ${f.guarantee} at ${f.who}, event ${f.event}, t=${f.simMs.toFixed(1)} ms: ${f.detail}` : `  (the shrunk spec passes when run again: the property is not deterministic)`,
    `  fast-check: { seed: ${fastCheck.seed}, path: ${JSON.stringify(fastCheck.path)}, endOnFailure: true }`,
    `  shrunk spec: ${file} (trace ${result.traceHash})`,
    `  replay: ${replayCommand(file)}`,
    `  picture: ${picture}`,
  ].join('\n');
  return {
    runs,
    failure: {
      spec,
      result,
      file,
      seed: fastCheck.seed,
      path: fastCheck.path,
      runsToFailure: firstFailureAt,
      shrinkRuns: runs - firstFailureAt,
      shrinks: details.numShrinks,
      size,
      report,
    },
  };
}
