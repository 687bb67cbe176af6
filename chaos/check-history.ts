// `npm run chaos -- --check HISTORY [--html FILE]`: a history judged again,
// offline, by the same judge as the run that wrote it, with its plan (and
// its planted bugs) printed first; and drawn, if asked. No server starts.
import fs from 'node:fs';
import { readHistory } from './history.ts';
import { judge } from './judge.ts';
import { pictureReplay, writeHistoryPicture } from './picture-file.ts';
import { followUpLines, planLines, verdictLines } from './report.ts';

export interface CheckResult {
  /** 0: the history passes; 1: it fails; 2: it is no whole history (`error` says why). */
  code: 0 | 1 | 2;
  lines: string[];
  error?: string;
}

export function checkHistory(file: string, html?: string): CheckResult {
  let records;
  try {
    records = readHistory(file);
  } catch (e) {
    return { code: 2, lines: [], error: (e as Error).message };
  }
  const head = records[0]!;
  if (head.k !== 'run') return { code: 2, lines: [], error: `${file}: no run record` };
  const lines = planLines(head.plan, head.plan.spec.livenessBoundMs ?? 0);
  let v;
  try {
    v = judge(records);
  } catch (e) {
    return { code: 2, lines, error: `${file} is not a whole history: ${(e as Error).message}` };
  }
  lines.push(...verdictLines(v, records));
  if (html !== undefined) writeHistoryPicture(html, records, v, pictureReplay(file, ''));
  const spec = `${file.replace(/\.jsonl$/, '')}.spec.json`;
  lines.push(...followUpLines({ ...(fs.existsSync(spec) ? { spec } : {}), ...(html !== undefined ? { html } : {}) }), `  note: ${head.note}`);
  return { code: v.ok ? 0 : 1, lines };
}
