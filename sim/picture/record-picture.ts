// Run something with a recorder watching, and turn what it saw into a
// picture file: a scenario and seed (--html), a replay file (--replay FILE
// --html), or beside a replay file a failing property just wrote.
import fs from 'node:fs';
import path from 'node:path';
import type { Scenario } from '../../scenarios/scenario.ts';
import { replayCommand, runReplay, type ReplayFile } from '../replay-file.ts';
import { runScenario, type RunOptions, type RunResult } from '../run.ts';
import type { World } from '../world.ts';
import { pictureHtml } from './picture-html.ts';
import { PictureRecorder } from './picture-recorder.ts';
import { buildPicture, type PictureOptions, type RunPicture } from './run-picture.ts';

export interface RecordedPicture {
  result: RunResult;
  picture: RunPicture;
  html: string;
}

/** Run `run` with a recorder on its world (it passes `watch` to RunOptions.watch). */
export function recordPicture(run: (watch: (world: World) => void) => RunResult, o: PictureOptions): RecordedPicture {
  const rec = new PictureRecorder();
  const result = run((world) => rec.attach(world));
  rec.finish();
  const picture = buildPicture(rec, result, o);
  return { result, picture, html: pictureHtml(picture) };
}

/** A scenario's run under a seed, as runScenario runs it. */
export function pictureOfScenario(scenario: Scenario, seed: string, opts: Omit<RunOptions, 'watch'>, o: PictureOptions): RecordedPicture {
  return recordPicture((watch) => runScenario(scenario, seed, { ...opts, watch }), o);
}

/** A replay file's run, as `npm run sim -- --replay FILE` runs it. */
export function pictureOfReplay(r: ReplayFile, file: string, o: Partial<PictureOptions> = {}): RecordedPicture {
  return recordPicture((watch) => runReplay(r, { watch }), {
    title: `${r.spec.scenario} seed ${r.spec.seed}${r.bugs.length ? ` (bugs ${r.bugs.join(' ')})` : ''}: ${r.note ?? 'replay file'}`,
    replay: replayCommand(file),
    ...o,
  });
}

export function writePicture(file: string, html: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, html);
}

/** The picture's file beside a replay file: `.sim/failures/x.json` → `.sim/failures/x.html`. */
export function pictureFileBeside(replayFile: string): string {
  const ext = path.extname(replayFile);
  return `${ext ? replayFile.slice(0, -ext.length) : replayFile}.html`;
}

/** Write the picture of a replay file's run beside it; the file name written. One more run of the (shrunk) spec. */
export function writePictureBeside(replayFile: string, r: ReplayFile): string {
  const out = pictureFileBeside(replayFile);
  writePicture(out, pictureOfReplay(r, replayFile).html);
  return out;
}
