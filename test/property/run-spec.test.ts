// Explicit runs: a RunSpec plays exactly its operations and faults, survives
// a JSON round trip with the same trace, and a bad one is refused with a
// message that names the field.
import { describe, expect, it } from 'vitest';
import { runSpec } from '../../sim/run.ts';
import { specSize, type RunSpec } from '../../sim/run-spec.ts';
import { checkRunSpec, parseRunSpec } from '../../sim/run-spec-check.ts';

const SPEC: RunSpec = {
  scenario: 'partition-heal',
  seed: '7',
  accounts: [
    { name: 'ann', devices: [{ transport: 'tcp', startAt: 0 }, { transport: 'http', startAt: 50 }] },
    { name: 'bob', devices: [{ transport: 'ws', startAt: 0 }] },
    { name: 'cat', devices: [{ transport: 'http', startAt: 100 }] },
  ],
  groups: [{ members: ['bob', 'ann', 'cat'] }],
  ops: [
    { at: 200, kind: 'send', from: 'ann.d0', to: 'bob', content: 'hello 微信 😀' },
    { at: 300, kind: 'group-send', from: 'cat.d0', group: 0, content: 'to all' },
    { at: 400, kind: 'remark', from: 'ann.d1', to: 'cat', remark: 'Cat' },
    { at: 500, kind: 'burst', from: 'bob.d0', to: 'ann', size: 4, content: 'b' },
    // The app is killed at 900 and back at 1400: this one is skipped.
    { at: 1000, kind: 'send', from: 'ann.d0', to: 'cat', content: 'skipped' },
    { at: 2500, kind: 'send', from: 'ann.d0', to: 'cat', content: 'after the crash' },
  ],
  faults: [
    { at: 600, kind: 'partition', device: 'bob.d0', dir: 'up', durationMs: 700 },
    { at: 800, kind: 'reset', device: 'ann.d0' },
    { at: 900, kind: 'kill', device: 'ann.d0', torn: true, downMs: 500 },
    { at: 1600, kind: 'replace', device: 'ann.d1' },
    { at: 2000, kind: 'crash', downMs: 300 },
  ],
  net: { latencyMs: [2, 20], latencyTailProbability: 0, latencyTailMs: 0, dropProbability: 0.05, duplicateProbability: 0.05, commitDelayMs: [0, 5] },
  durationMs: 3000,
  livenessBoundMs: 180_000,
};

describe('RunSpec', () => {
  it('plays every operation and fault at its time, and keeps every guarantee', () => {
    const r = runSpec(SPEC, { keepTrace: true });
    expect(r.failure).toBeUndefined();
    const lines = r.trace!.trimEnd().split('\n').map((l) => JSON.parse(l) as { t: number; kind: string; who: string; detail?: string });
    const at = (kind: string, who?: string) => lines.filter((l) => l.kind === kind && (who === undefined || l.who === who)).map((l) => l.t);
    expect(at('partition', 'bob.d0')).toEqual([600]);
    expect(at('heal', 'bob.d0')).toEqual([1300]);
    expect(at('app-kill', 'ann.d0')).toEqual([900]);
    expect(at('session-replace', 'ann.d1')).toEqual([1600]);
    expect(at('server-crash')).toEqual([2000]);
    expect(at('server-restart')).toEqual([2300]);
    expect(at('user-skip', 'ann.d0')).toEqual([1000]);
    expect(lines.filter((l) => l.kind === 'user-send').length).toBe(1 + 1 + 4 + 1);
    expect(r.counts.sends).toBe(7);
    expect(r.counts.acked).toBeGreaterThanOrEqual(7);
    expect(specSize(SPEC)).toEqual({ ops: 6, faults: 5, devices: 4, total: 15 });
  });

  it('gives the same trace after a JSON round trip, and on a second run', () => {
    const a = runSpec(SPEC);
    const b = runSpec(parseRunSpec(JSON.parse(JSON.stringify(SPEC))));
    expect(b.traceHash).toBe(a.traceHash);
    expect(b.events).toBe(a.events);
    expect(runSpec(SPEC).traceHash).toBe(a.traceHash);
  });

  it('refuses a bad spec with a message naming the field', () => {
    const bad = (change: (s: any) => void): string => {
      const s = structuredClone(SPEC) as any;
      change(s);
      try {
        checkRunSpec(s);
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    };
    expect(bad((s) => (s.scenario = 'nope'))).toMatch(/^RunSpec scenario: must be one of calm, /);
    expect(bad((s) => (s.ops[0].from = 'ann.d7'))).toMatch(/^RunSpec ops\[0\]\.from: names no device of the spec: "ann\.d7"/);
    expect(bad((s) => (s.groups[0].members = ['bob', 'cat'], (s.ops[1].from = 'ann.d0')))).toMatch(/^RunSpec ops\[1\]\.from: ann\.d0 is not in group 0/);
    expect(bad((s) => (s.groups[0].members = ['ann']))).toMatch(/^RunSpec groups\[0\]\.members: must name at least two accounts/);
    expect(bad((s) => (s.faults[4].downMs = -1))).toMatch(/^RunSpec faults\[4\]\.downMs: must be a number >= 0/);
    expect(bad((s) => (s.net.dropProbability = 2))).toMatch(/^RunSpec net\.dropProbability: must be a probability/);
    expect(bad((s) => (s.net.latencyMs = [9, 3]))).toMatch(/^RunSpec net\.latencyMs: min 9 is above max 3/);
    expect(bad((s) => (s.ops[1] = { ...s.ops[1], from: 'ann.d0', group: 3 }))).toMatch(/^RunSpec ops\[1\]\.group: must index groups/);
    expect(bad(() => {})).toBe('accepted');
    expect(bad((s) => (s.faults[0].kind = 'flood'))).toMatch(/^RunSpec faults\[0\]\.kind: must be crash, kill, partition, replace or reset/);
  });
});
