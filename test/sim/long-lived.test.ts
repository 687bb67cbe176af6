// The long-lived scenario: old devices sync for ten session lifetimes, young
// ones come and go past the lifetime (expired sessions, forgotten devices,
// new installs), and no device may be told to resync.
import { describe, expect, it } from 'vitest';
import { scenarioByName } from '../../scenarios/index.ts';
import { coreConfig } from '../../server/core/config.ts';
import { runScenario } from '../../sim/run.ts';
import { swarm } from '../../sim/swarm.ts';
import { Violation } from '../../sim/violation.ts';
import type { World } from '../../sim/world.ts';

const scenario = scenarioByName('long-lived');
const ttl = coreConfig(scenario.core).sessionTtlMs;

describe('long-lived', () => {
  it('old devices outlive many session lifetimes while young ones come and go past it; nothing is lost and nobody resyncs', () => {
    let world: World | undefined;
    const r = runScenario(scenario, '1', { keepTrace: true, watch: (w) => (world = w) });
    expect(r.failure).toBeUndefined();
    expect(r.simMs).toBeGreaterThan(10 * ttl);
    const lines = r.trace!.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { t: number; kind: string; who: string });
    const starts = (device: string): number => lines.filter((l) => l.kind === 'app-start' && l.who === device).length;
    const w = world!;
    const old = [...w.registry.accounts.values()].map((ds) => ds[0]!.name);
    const young = [...w.registry.accounts.values()].flatMap((ds) => ds.slice(1).map((d) => d.name));
    expect(young.length).toBeGreaterThan(0);
    // An old device's app runs from the start to the end: its session is ten lifetimes old.
    for (const d of old) expect(starts(d)).toBe(1);
    // Young devices left for longer than a session lives, and came back.
    const awayPastTtl = young.some((d) => {
      const mine = lines.filter((l) => l.who === d && (l.kind === 'app-kill' || l.kind === 'app-start'));
      return mine.some((l, i) => l.kind === 'app-kill' && mine[i + 1] !== undefined && mine[i + 1]!.t - l.t > ttl);
    });
    expect(awayPastTtl).toBe(true);
    expect(lines.some((l) => l.kind === 'reinstall')).toBe(true);
    // The scenario's word holds over the world's guess from its short lifetime: a 1200 to an old device is a violation.
    expect(() => w.checkers.resync(old[0]!)).toThrow(Violation);
  });

  it('the swarm keeps its young devices but neither its promise of no resync nor session replacements', () => {
    for (const seed of ['1', '2', '3', '4', '5']) {
      const s = swarm(scenario, seed);
      expect(s.lifetimes).toEqual(scenario.lifetimes);
      expect(s.resyncAllowed).toBeUndefined();
      expect(s.faults.sessionReplaceMeanIntervalMs).toBe(0);
    }
  });
});
