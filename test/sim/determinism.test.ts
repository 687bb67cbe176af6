// One seed, one run: the same scenario and seed give the same trace, byte for
// byte, on any store choice's own terms and on any number of workers.
import { describe, expect, it } from 'vitest';
import { SCENARIOS, scenarioByName } from '../../scenarios/index.ts';
import { runScenario } from '../../sim/run.ts';
import { runJob, sweepJobs, type SweepSettings } from '../../sim/sweep-job.ts';
import { runPool } from '../../sim/sweep-pool.ts';

const settings: SweepSettings = { swarm: false, store: 'memory', bugs: [], checkDeterminism: false, keepTrace: false };

describe('determinism', () => {
  for (const s of SCENARIOS) {
    it(`${s.name}: seed 7 twice gives one trace`, () => {
      const a = runScenario(s, '7', { keepTrace: true });
      const b = runScenario(s, '7', { keepTrace: true });
      expect(a.ok).toBe(true);
      expect(b.traceHash).toBe(a.traceHash);
      expect(b.trace).toBe(a.trace);
      expect(a.events).toBeGreaterThan(500);
    });
  }

  it('different seeds give different runs', () => {
    const s = scenarioByName('flaky-wifi');
    expect(runScenario(s, '1').traceHash).not.toBe(runScenario(s, '2').traceHash);
  });

  it('a seed gives the same result on one worker thread as in process', async () => {
    const jobs = sweepJobs(['calm', 'server-crash-loop'], 3, 2);
    const inProcess = jobs.map((j) => runJob(j, settings, () => 0).result.traceHash);
    const pooled = await runPool(jobs, settings, 2, () => {});
    expect(pooled.map((r) => r.result.traceHash)).toEqual(inProcess);
  });

  it('shards partition a sweep: every job once, none twice', () => {
    const all = sweepJobs(['calm', 'flaky-wifi', 'group-burst'], 1, 7);
    const parts = [1, 2, 3].flatMap((i) => sweepJobs(['calm', 'flaky-wifi', 'group-burst'], 1, 7, { index: i, of: 3 }));
    expect(parts.map((j) => j.index).sort((a, b) => a - b)).toEqual(all.map((j) => j.index));
  });

  it('the trace is JSON lines numbered in order', () => {
    const r = runScenario(scenarioByName('calm'), '1', { keepTrace: true });
    const lines = r.trace!.trimEnd().split('\n').map((l) => JSON.parse(l) as { n: number; t: number; kind: string; who: string });
    expect(lines.length).toBeGreaterThan(r.events - 1);
    for (let i = 1; i < lines.length; i++) {
      expect(lines[i]!.n).toBeGreaterThanOrEqual(lines[i - 1]!.n);
      expect(lines[i]!.t).toBeGreaterThanOrEqual(lines[i - 1]!.t);
    }
  });

  it('--until-event stops there and describes the world', () => {
    const r = runScenario(scenarioByName('calm'), '1', { untilEvent: 300 });
    expect(r.stoppedAtEvent).toBe(true);
    expect(r.events).toBe(300);
    expect(r.stateDump).toMatch(/^event 300 at /);
    expect(r.stateDump).toMatch(/u0\.d0 \((http|tcp|ws)\)/);
  });
});
