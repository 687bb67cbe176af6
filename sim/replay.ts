// `npm run sim -- --replay FILE`: run a replay file (or a bare RunSpec) again
// and say whether it did exactly what the file recorded (same trace hash).
import fs from 'node:fs';
import type { PlantedBug } from '../server/core/planted-bugs.ts';
import { readReplayFile, runReplay } from './replay-file.ts';
import { specSize } from './run-spec.ts';

export interface ReplayCli {
  file: string;
  /** Bugs planted on top of the file's. */
  bugs: readonly PlantedBug[];
  trace?: string;
  untilEvent?: number;
}

/** Run it, print what happened; exit 0 when the run passed and matched the file, 1 otherwise, 2 on a bad file. */
/** `now` measures wall time for the report only; it never reaches the run. */
export function replayMain(cli: ReplayCli, now: () => number, write: (s: string) => void = (s) => process.stdout.write(s)): number {
  let r;
  try {
    r = readReplayFile(cli.file);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  r.bugs = [...new Set([...r.bugs, ...cli.bugs])];
  const size = specSize(r.spec);
  write(
    `replay ${cli.file}: scenario ${r.spec.scenario}, seed ${r.spec.seed}, ${size.ops} ops, ${size.faults} faults, ${size.devices} devices` +
      `${r.bugs.length ? `, bugs ${r.bugs.join(' ')}` : ''}${r.store !== 'memory' ? `, store ${r.store}` : ''}\n`,
  );
  const t0 = now();
  const result = runReplay(r, { keepTrace: cli.trace !== undefined, ...(cli.untilEvent !== undefined ? { untilEvent: cli.untilEvent } : {}) });
  const wallMs = now() - t0;
  if (cli.trace !== undefined && result.trace !== undefined) fs.writeFileSync(cli.trace, result.trace);
  if (result.stoppedAtEvent) {
    write(`stopped at event ${result.events}, trace ${result.traceHash}\n${result.stateDump}\n`);
    return 0;
  }
  const f = result.failure;
  if (f) {
    write(`FAIL ${f.guarantee} at ${f.who}, event ${f.event}, t=${f.simMs.toFixed(1)} ms\n  ${f.detail}\n  last events:\n${f.recent.map((l) => `    ${l}`).join('\n')}\n`);
  } else {
    write(`ok: ${result.events} events, ${(result.simMs / 1000).toFixed(1)} s simulated in ${(wallMs / 1000).toFixed(2)} s, converged ${result.convergedAfterMs?.toFixed(0)} ms after healing\n`);
  }
  const want = r.expect;
  let same = true;
  if (want) {
    same = want.traceHash === result.traceHash && want.events === result.events && want.guarantee === f?.guarantee && want.who === f?.who;
    write(
      same
        ? `trace ${result.traceHash}: the same as recorded in the file (${want.events} events)\n`
        : `trace ${result.traceHash} (${result.events} events${f ? `, ${f.guarantee}` : ', ok'}): DIFFERENT from the file's ${want.traceHash} (${want.events} events${want.guarantee ? `, ${want.guarantee}` : ', ok'})\n`,
    );
  } else {
    write(`trace ${result.traceHash}\n`);
  }
  if (cli.trace !== undefined) write(`trace written to ${cli.trace}\n`);
  return result.ok && same ? 0 : 1;
}
