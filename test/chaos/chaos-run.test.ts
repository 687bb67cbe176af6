// One short chaos run end to end: the real server in a child process, the
// fault proxy, the reference client on every device, a few seconds of
// drops, duplicates, slow paths, stalls, resets, partitions, app kills and
// server crashes, then healing; the simulator's checkers must find nothing.
// It judges correctness only: every deadline is generous, nothing is timed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { flakyWifi } from '../../scenarios/flaky-wifi.ts';
import type { Scenario } from '../../scenarios/scenario.ts';
import { readHistory } from '../../chaos/history.ts';
import { judge } from '../../chaos/judge.ts';
import { makePlan } from '../../chaos/plan.ts';
import { runChaos } from '../../chaos/runner.ts';

/** flaky-wifi's network with crashes, kills and partitions added, squeezed into a few seconds. */
const SCENARIO: Scenario = {
  ...flakyWifi,
  workload: { ...flakyWifi.workload, accounts: 3, devicesPerAccount: [1, 2], sendsPerSecond: 5 },
  faults: {
    ...flakyWifi.faults,
    serverCrashMeanIntervalMs: 1_500,
    serverDowntimeMeanMs: 300,
    appKillMeanIntervalMs: 1_500,
    appDowntimeMeanMs: 300,
    appKillTornWriteProbability: 0.5,
    partitionMeanIntervalMs: 2_000,
    partitionMeanDurationMs: 800,
    partitionOneWayProbability: 0.5,
    linkResetPerSecond: 0.6,
  },
  node: { holdMs: 2_000, heartbeatSec: 3 },
};
const SEED = '12';
const OPTIONS = { durationMs: 4_000, livenessBoundMs: 30_000 };

describe('a chaos run of the real server', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-run-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('plans crashes, kills and partitions for this seed', () => {
    const kinds = new Set(makePlan(SCENARIO, SEED, OPTIONS).spec.faults.map((f) => f.kind));
    expect([...kinds].sort()).toEqual(expect.arrayContaining(['crash', 'kill', 'partition', 'reset']));
  });

  it('passes the simulator\'s checkers, and its history re-judges the same', async () => {
    const file = path.join(dir, 'run.jsonl');
    const r = await runChaos({ scenario: SCENARIO, seed: SEED, ...OPTIONS, historyFile: file, keepHistory: true });
    const f = r.verdict.failure;
    expect(f, f ? `${f.guarantee} at ${f.who}: ${f.detail}\n${f.recent.join('\n')}\nhistory: ${file}` : '').toBeUndefined();
    expect(r.verdict.ok).toBe(true);
    expect(r.verdict.counts.crashes).toBeGreaterThanOrEqual(1);
    expect(r.verdict.counts.sends).toBeGreaterThan(5);
    expect(r.verdict.counts.applied).toBeGreaterThan(5);
    expect(r.historyFile).toBe(file);
    expect(judge(readHistory(file))).toEqual(r.verdict);
    expect(JSON.parse(fs.readFileSync(r.specFile!, 'utf8'))).toEqual(r.plan.spec);
  }, 120_000);
});
