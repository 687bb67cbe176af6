// The simulator's storage faults (sim/faulty-store.ts): a failing write
// really goes part-way into the real store and is undone by it, a failure
// that costs the transaction really rolls it back; the storage-faults and
// power-loss scenarios draw them and still keep every guarantee; a run
// without them draws nothing of them; the swarm draws them from a stream of
// its own.
import { describe, expect, it } from 'vitest';
import { scenarioByName } from '../../scenarios/index.ts';
import { NO_STORAGE_FAULTS } from '../../scenarios/scenario.ts';
import { MemoryStore } from '../../server/store/memory-store.ts';
import { SqliteStore } from '../../server/store/sqlite-store.ts';
import type { Store } from '../../server/store/store.ts';
import { FaultyStore, StorageFaultDice, StorageFaultError } from '../../sim/faulty-store.ts';
import { Rng } from '../../sim/rng.ts';
import { runScenario } from '../../sim/run.ts';
import { swarm } from '../../sim/swarm.ts';
import type { World } from '../../sim/world.ts';
import { account, message } from '../store/suite/fixtures.ts';

function dice(over: Partial<typeof NO_STORAGE_FAULTS>): StorageFaultDice {
  const d = new StorageFaultDice({ ...NO_STORAGE_FAULTS, ...over }, new Rng('test', '1'), () => {});
  d.on = true;
  return d;
}

describe.each(['memory', 'sqlite'] as const)('a store shell that fails (%s)', (kind) => {
  const open = (): Store => (kind === 'memory' ? new MemoryStore({ freeze: true }) : SqliteStore.open(':memory:'));

  it('a write failing part-way leaves none of its apply, and the transaction open with what came before', () => {
    const inner = open();
    let faults: StorageFaultDice | undefined;
    const store = new FaultyStore(inner, () => faults);
    store.begin();
    store.apply([{ kind: 'putAccount', account: account(1, { seq: 1 }) }, { kind: 'appendItem', item: message(1, 1) }]);
    faults = dice({ applyFailProbability: 1 });
    const three = [{ kind: 'putAccount', account: account(2) }, { kind: 'putAccount', account: account(3) }, { kind: 'putAccount', account: account(4) }] as const;
    for (let i = 0; i < 5; i++) expect(() => store.apply(three)).toThrow(StorageFaultError);
    faults = undefined;
    store.commit();
    expect(store.read({ kind: 'accountsAfter', afterUin: 0, limit: 10 }).map((a) => a.uin)).toEqual([1]);
    expect(store.read({ kind: 'items', uin: 1, category: 1, afterSeq: 0, limit: 10 })).toEqual([message(1, 1)]);
    store.close();
  });

  it('a failure that costs the transaction rolls back everything before it', () => {
    const store = new FaultyStore(open(), () => dice({ applyFailProbability: 1, transactionLostProbability: 1 }));
    store.begin();
    expect(() => store.apply([{ kind: 'putAccount', account: account(1) }])).toThrow(StorageFaultError);
    expect(() => store.commit()).toThrow();
    expect(store.read({ kind: 'account', uin: 1 })).toBeUndefined();
    store.close();
  });

  it.each([
    ['still open', 0],
    ['rolled back', 1],
  ])('a failed commit (transaction %s) keeps nothing, and the next transaction works', (_how, lost) => {
    let faults: StorageFaultDice | undefined = dice({ commitFailProbability: 1, transactionLostProbability: lost });
    const store = new FaultyStore(open(), () => faults);
    store.begin();
    store.apply([{ kind: 'putAccount', account: account(1) }]);
    expect(() => store.commit()).toThrow(StorageFaultError);
    if (lost === 0) store.rollback();
    else expect(() => store.rollback()).toThrow();
    expect(store.read({ kind: 'account', uin: 1 })).toBeUndefined();
    faults = undefined;
    store.begin();
    store.apply([{ kind: 'putAccount', account: account(2) }]);
    store.commit();
    expect(store.read({ kind: 'account', uin: 2 })).toEqual(account(2));
    store.close();
  });
});

describe('the storage scenarios', () => {
  it('storage-faults fails applies and commits both ways, and keeps every guarantee', () => {
    let world: World | undefined;
    const r = runScenario(scenarioByName('storage-faults'), '1', { keepTrace: true, watch: (w) => (world = w) });
    expect(r.failure).toBeUndefined();
    const faults = world!.server.storageFaults!;
    expect(faults.applyFaults).toBeGreaterThan(5);
    expect(faults.commitFaults).toBeGreaterThan(5);
    const trace = r.trace!;
    expect(trace).toContain('transaction rolled back');
    expect(trace).toContain('transaction still open');
    expect(r.counts.crashes).toBeGreaterThan(0);
    // The faults stop with the safety phase: the run converged, and every send was answered in the end.
    expect(r.counts.acked).toBe(r.counts.sends);
  });

  it('power-loss loses answered commits in its power cuts, and keeps every other guarantee', () => {
    const r = runScenario(scenarioByName('power-loss'), '1', { keepTrace: true });
    expect(r.failure).toBeUndefined();
    const cuts = r.trace!.split('\n').filter((l) => l.includes('"power-loss"'));
    expect(cuts.length).toBeGreaterThan(0);
    expect(cuts.some((l) => /MsgIds \d+/.test(l))).toBe(true);
  });

  it('a scenario without storage faults draws nothing from their stream', () => {
    let world: World | undefined;
    runScenario(scenarioByName('calm'), '1', { untilEvent: 500, watch: (w) => (world = w) });
    expect(world!.server.storageFaults).toBeUndefined();
    expect(world!.streams.draws().map(([name]) => name)).not.toContain('store-faults');
  });

  it('the swarm draws storage faults for every scenario, some seeds with power cuts', () => {
    const calm = scenarioByName('calm');
    const drawn = Array.from({ length: 40 }, (_, i) => swarm(calm, String(i + 1)).storage!);
    expect(drawn.some((s) => s.applyFailProbability > 0)).toBe(true);
    expect(drawn.some((s) => s.commitFailProbability > 0)).toBe(true);
    expect(drawn.some((s) => s.powerLossCommits > 0)).toBe(true);
    expect(drawn.some((s) => s.applyFailProbability === 0 && s.commitFailProbability === 0 && s.powerLossCommits === 0)).toBe(true);
  });
});
