// Hostile users (issue 11): the hostile-users scenario passes over several
// seeds while its abuse meets the server's limits, the checkers catch a full
// log that evicts instead of refusing, and the swarm draws hostile
// parameters without changing the faults a seed draws.
import { describe, expect, it } from 'vitest';
import { scenarioByName } from '../../scenarios/index.ts';
import { runScenario } from '../../sim/run.ts';
import { describeFaults, swarm } from '../../sim/swarm.ts';

const hostile = scenarioByName('hostile-users');

/** The details of a kind of note (the scheduled event of the same kind, from 'hostile', has none). */
function notes(trace: string, kind: string): string[] {
  return trace
    .split('\n')
    .filter((l) => l.includes(`"kind":"${kind}"`))
    .map((l) => (JSON.parse(l) as { detail?: string }).detail)
    .filter((d): d is string => d !== undefined);
}

describe('hostile users', () => {
  it('the scenario passes over several seeds', () => {
    for (const seed of ['1', '2', '3', '4']) {
      const r = runScenario(hostile, seed);
      expect(r.failure, `seed ${seed}`).toBeUndefined();
      expect(r.ok).toBe(true);
    }
  });

  it('the abuse meets the limits: refusals, wrong passwords, answered pipelines, rooms of strangers', () => {
    const r = runScenario(hostile, '1', { keepTrace: true });
    expect(r.ok).toBe(true);
    const trace = r.trace!;
    const refused = notes(trace, 'hostile-refused');
    expect(refused.some((d) => d.endsWith(' 1110'))).toBe(true);
    expect(refused.some((d) => d.endsWith(' 1111'))).toBe(true);
    const guesses = notes(trace, 'hostile-guess');
    expect(guesses.length).toBeGreaterThan(0);
    // A guess is refused (1103), or throttled without hashing once the address has failed too often (1112).
    expect(guesses.every((d) => / (1103|1112|no answer)$/.test(d))).toBe(true);
    expect(notes(trace, 'hostile-pipeline').some((d) => /^(\d+) of \1 syncs answered$/.test(d))).toBe(true);
    expect(notes(trace, 'hostile-room').length).toBeGreaterThan(0);
    // Honest devices received what the hostile accounts got stored, and were judged on it.
    expect(trace).toMatch(/"kind":"applied","who":"u\d\.d\d"/);
  });

  it('a full log that evicts what a live device has not consumed fails the run at an honest device', () => {
    const bugs = new Set(['evict-unconsumed'] as const);
    const r = runScenario(hostile, '1', { bugs });
    expect(r.ok).toBe(false);
    expect(r.failure!.guarantee).toBe('retention');
    expect(r.failure!.who).toMatch(/^u\d+\.d\d+$/);
    expect(r.failure!.detail).toContain('a full log must refuse, never evict');
  });

  it('the swarm draws hostile parameters from a stream of their own', () => {
    const calm = scenarioByName('calm');
    for (const seed of ['1', '7', '42']) {
      const s = swarm(hostile, seed);
      expect(describeFaults(s.faults)).toBe(describeFaults(swarm(calm, seed).faults));
      expect(s.workload.hostile).toBeDefined();
      expect(s.workload.hostile!.accounts).toBe(hostile.workload.hostile!.accounts);
      expect(swarm(calm, seed).workload.hostile).toBeUndefined();
    }
    expect(swarm(hostile, '1').workload.hostile).not.toEqual(swarm(hostile, '2').workload.hostile);
  });
});
