// What a seed means, pinned: these runs must keep their trace hashes byte
// for byte. The determinism tests compare a run with itself, so a change
// that quietly alters every seed (a new random draw, a reordered event, a
// different trace line) would pass them and break every replay file users
// keep. If a change must alter what a seed means, update these hashes in the
// same commit and say in its message why.
import { describe, expect, it } from 'vitest';
import { scenarioByName } from '../../scenarios/index.ts';
import { runScenario } from '../../sim/run.ts';

const GOLDEN: Array<[scenario: string, seed: string, events: number, traceHash: string]> = [
  ['calm', '1', 3684, 'c5433da36d98e746'],
  ['flaky-wifi', '7', 3111, '2b30179dc1d41db0'],
  ['group-burst', '3', 21444, '4daf59cf00a81739'],
  ['hostile-users', '2', 6694, '2eb68b202161aec4'],
];

describe('golden traces', () => {
  for (const [name, seed, events, hash] of GOLDEN) {
    it(`${name} seed ${seed} keeps its trace hash`, () => {
      const r = runScenario(scenarioByName(name), seed);
      expect(r.ok).toBe(true);
      expect({ events: r.events, traceHash: r.traceHash }).toEqual({ events, traceHash: hash });
    });
  }
});
