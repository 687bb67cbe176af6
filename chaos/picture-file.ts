// A chaos run's picture as a file: the history drawn (history-picture.ts)
// by the simulator's page (sim/picture/picture-html.ts), one self-contained
// HTML file. A failing run's goes beside its history, `x.jsonl` → `x.html`.
import fs from 'node:fs';
import path from 'node:path';
import { pictureHtml } from '../sim/picture/picture-html.ts';
import type { HistoryRecord } from './history.ts';
import { historyPicture } from './history-picture.ts';
import type { Verdict } from './judge.ts';

export function pictureFileBeside(historyFile: string): string {
  return `${historyFile.replace(/\.jsonl$/, '')}.html`;
}

/** The command a picture names: re-judge its history, or (none written) run its plan again. */
export function pictureReplay(historyFile: string | undefined, rerun: string): string {
  return historyFile !== undefined ? `npm run chaos -- --check ${historyFile}` : `${rerun}   (the same plan; real timing decides the outcome)`;
}

export function writeHistoryPicture(file: string, records: readonly HistoryRecord[], v: Verdict, replay: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, pictureHtml(historyPicture(records, v, { replay })));
}
