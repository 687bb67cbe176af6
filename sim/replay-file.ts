// Replay files: what a failing property leaves behind (the shrunk spec, its
// bugs and store, what the run gave), read back and run again exactly.
import fs from 'node:fs';
import path from 'node:path';
import { PLANTED_BUGS, type PlantedBug } from '../server/core/planted-bugs.ts';
import { runSpec, type RunOptions, type RunResult } from './run.ts';
import type { RunSpec } from './run-spec.ts';
import { parseRunSpec } from './run-spec-check.ts';
import type { SimStoreKind } from './sim-store.ts';

/** What a failing property leaves behind: the spec, how to run it, and what it did. */
export interface ReplayFile {
  format: 'synckey-replay/1';
  /** What found it, for a person reading the file. */
  note?: string;
  bugs: PlantedBug[];
  store: SimStoreKind;
  /** What the run gave when the file was written: a replay must match it. */
  expect?: { ok: boolean; traceHash: string; events: number; guarantee?: string; who?: string; detail?: string };
  /** fast-check's replay parameters of the property that found it. */
  fastCheck?: { seed: number; path: string };
  spec: RunSpec;
}

export function replayOf(spec: RunSpec, result: RunResult, o: { bugs?: readonly PlantedBug[]; store?: SimStoreKind; note?: string; fastCheck?: { seed: number; path: string } } = {}): ReplayFile {
  const r: ReplayFile = { format: 'synckey-replay/1', bugs: [...(o.bugs ?? [])], store: o.store ?? 'memory', spec };
  if (o.note !== undefined) r.note = o.note;
  r.expect = { ok: result.ok, traceHash: result.traceHash, events: result.events };
  if (result.failure) {
    r.expect.guarantee = result.failure.guarantee;
    r.expect.who = result.failure.who;
    r.expect.detail = result.failure.detail;
  }
  if (o.fastCheck) r.fastCheck = o.fastCheck;
  return r;
}

export function writeReplayFile(file: string, r: ReplayFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
}

/** A replay file, or a bare RunSpec (run without bugs on the memory store). */
export function readReplayFile(file: string): ReplayFile {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`--replay ${file}: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null) throw new Error(`--replay ${file}: not a JSON object`);
  const o = json as Partial<ReplayFile>;
  const r: ReplayFile =
    o.format === 'synckey-replay/1'
      ? { ...(o as ReplayFile), bugs: o.bugs ?? [], store: o.store ?? 'memory' }
      : { format: 'synckey-replay/1', bugs: [], store: 'memory', spec: json as RunSpec };
  try {
    parseRunSpec(r.spec);
  } catch (e) {
    throw new Error(`--replay ${file}: ${(e as Error).message}`);
  }
  for (const b of r.bugs) if (!PLANTED_BUGS.includes(b)) throw new Error(`--replay ${file}: unknown planted bug '${b}'`);
  if (r.store !== 'memory' && r.store !== 'sqlite') throw new Error(`--replay ${file}: store must be memory or sqlite`);
  return r;
}

/** Run a replay file's spec with its bugs and store. */
export function runReplay(r: ReplayFile, opts: Omit<RunOptions, 'bugs' | 'store'> = {}): RunResult {
  return runSpec(r.spec, { ...opts, bugs: new Set(r.bugs), store: r.store });
}

/** The line that replays a file. */
export function replayCommand(file: string): string {
  return `npm run sim -- --replay ${file}`;
}
