// A bounded sweep in npm test: every scenario over a few seeds, on both stores
// where it matters. The full default sweep is `npm run sim`.
import { describe, expect, it } from 'vitest';
import { SCENARIOS, scenarioByName } from '../../scenarios/index.ts';
import { runScenario } from '../../sim/run.ts';
import { swarm } from '../../sim/swarm.ts';

const SEEDS = ['11', '12', '13'];

function replay(scenario: string, seed: string, extra = ''): string {
  return `npm run sim -- --scenario ${scenario} --seed ${seed}${extra}`;
}

describe('simulation sweep', () => {
  for (const s of SCENARIOS) {
    it(`${s.name} holds every guarantee on seeds ${SEEDS.join(', ')}`, () => {
      for (const seed of SEEDS) {
        const r = runScenario(s, seed);
        expect(r.ok, `${r.failure?.guarantee} at ${r.failure?.who}: ${r.failure?.detail}\n  replay: ${replay(s.name, seed)}`).toBe(true);
        expect(r.counts.acked).toBeGreaterThan(0);
        expect(r.counts.applied).toBeGreaterThan(r.counts.acked);
      }
    });
  }

  it('the faults actually happen where the scenario says so', () => {
    const crash = runScenario(scenarioByName('server-crash-loop'), '11');
    expect(crash.counts.crashes).toBeGreaterThan(3);
    const storm = runScenario(scenarioByName('multi-device-storm'), '11');
    expect(storm.counts.kills).toBeGreaterThan(3);
    expect(storm.counts.replaces).toBeGreaterThan(1);
    const flaky = runScenario(scenarioByName('flaky-wifi'), '11');
    expect(flaky.net.dropped).toBeGreaterThan(10);
    expect(flaky.net.duplicated).toBeGreaterThan(5);
    const offline = SEEDS.map((seed) => runScenario(scenarioByName('long-offline'), seed));
    expect(offline.some((r) => r.counts.resyncs > 0), 'long-offline exercises the 1200 resync path').toBe(true);
  });

  it('runs on the SQLite store too (crash = abandon the connection, reopen the file)', () => {
    for (const name of ['calm', 'server-crash-loop']) {
      const r = runScenario(scenarioByName(name), '5', { store: 'sqlite' });
      expect(r.ok, `${r.failure?.detail}\n  replay: ${replay(name, '5', ' --store sqlite')}`).toBe(true);
    }
  });

  it('swarm draws the faults from the seed', () => {
    const base = scenarioByName('calm');
    expect(swarm(base, '4')).toEqual(swarm(base, '4'));
    expect(swarm(base, '4').faults).not.toEqual(swarm(base, '5').faults);
    const r = runScenario(swarm(base, '4'), '4');
    expect(r.ok, `${r.failure?.detail}\n  replay: ${replay('calm', '4', ' --swarm')}`).toBe(true);
  });
});
