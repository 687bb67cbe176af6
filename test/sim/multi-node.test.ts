// Several server nodes on one store (issue 14, item 5): the multi-node
// scenario passes the checkers, replays identically, and the checkers catch
// what goes wrong when the nodes' batches are not serialized, or when a
// sequence counter lives in one node's memory.
import { describe, expect, it } from 'vitest';
import { scenarioByName } from '../../scenarios/index.ts';
import { CALM_FAULTS, type Scenario } from '../../scenarios/scenario.ts';
import type { Store } from '../../server/store/store.ts';
import { runScenario } from '../../sim/run.ts';
import { SharedStore } from '../../sim/shared-store.ts';

const multiNode = scenarioByName('multi-node');

/** A store that only logs its transaction calls. */
function loggingStore(log: string[]): Store {
  return {
    kind: 'memory',
    begin: () => void log.push('begin'),
    read: (() => (log.push('read'), undefined)) as Store['read'],
    apply: () => void log.push('apply'),
    commit: () => void log.push('commit'),
    rollback: () => void log.push('rollback'),
    close: () => void log.push('close'),
  };
}

describe('the shared store', () => {
  it("makes another node's open batch commit before a node begins or reads", () => {
    const log: string[] = [];
    const shared = new SharedStore(loggingStore(log));
    let a!: Store;
    a = shared.view(0, () => {
      log.push('force 0');
      a.commit();
    });
    let b!: Store;
    b = shared.view(1, () => {
      log.push('force 1');
      b.commit();
    });
    a.begin();
    a.apply([]);
    b.read({ kind: 'account', uin: 1 });
    b.begin();
    a.read({ kind: 'account', uin: 1 });
    expect(log).toEqual(['begin', 'apply', 'force 0', 'commit', 'read', 'begin', 'force 1', 'commit', 'read']);
    // A node reading inside its own transaction forces nobody.
    a.begin();
    a.read({ kind: 'account', uin: 1 });
    expect(log.slice(-2)).toEqual(['begin', 'read']);
  });

  it("rolls back only the crashed node's open transaction", () => {
    const log: string[] = [];
    const shared = new SharedStore(loggingStore(log));
    const a = shared.view(0, () => {});
    shared.view(1, () => {});
    a.begin();
    shared.crash(1);
    expect(log).toEqual(['begin']);
    shared.crash(0);
    expect(log).toEqual(['begin', 'rollback']);
  });
});

describe('the multi-node scenario', () => {
  it('passes on a few seeds, with devices moving, notices lost and nodes crashing', () => {
    for (const seed of ['1', '2', '3']) {
      const r = runScenario(multiNode, seed);
      expect(r.failure, `seed ${seed}`).toBeUndefined();
      expect(r.nodes?.nodes).toBe(3);
      expect(r.nodes!.moves).toBeGreaterThan(0);
      expect(r.nodes!.noticesLost).toBeGreaterThan(0);
      expect(r.nodes!.noticesDelivered).toBeGreaterThan(0);
      expect(r.nodes!.forcedCommits).toBeGreaterThan(0);
      expect(r.counts.crashes).toBeGreaterThan(0);
      expect(r.counts.acked).toBeGreaterThan(0);
    }
  });

  it('replays identically from its seed', () => {
    const a = runScenario(multiNode, '7');
    const b = runScenario(multiNode, '7');
    expect(b.traceHash).toBe(a.traceHash);
    expect(b.events).toBe(a.events);
    expect(b.nodes).toEqual(a.nodes);
    expect(runScenario(multiNode, '8').traceHash).not.toBe(a.traceHash);
  });

  it('converges when every cross-node notice is lost: a lost notice only delays', () => {
    const r = runScenario({ ...multiNode, nodeFaults: { ...multiNode.nodeFaults!, noticeLossProbability: 1 } }, '1');
    expect(r.failure).toBeUndefined();
    expect(r.nodes!.noticesDelivered).toBe(0);
  });
});

describe('planted multi-node bugs are caught', () => {
  // Crashes often, batches open long: a crash usually finds other nodes' writes in an unserialized transaction.
  const crashy: Scenario = { ...multiNode, faults: { ...multiNode.faults, serverCrashMeanIntervalMs: 1_000, serverDowntimeMeanMs: 300, commitDelayMs: [20, 200] } };

  it('an unserialized shared store loses acknowledged sends or gives a retry a second MsgId', () => {
    const seed = ['1', '2', '3', '4', '5'].find((s) => !runScenario(crashy, s, { unserializedStore: true }).ok);
    expect(seed, 'caught within seeds 1..5').toBeDefined();
    const a = runScenario(crashy, seed!, { unserializedStore: true });
    expect(['no-loss', 'exactly-once']).toContain(a.failure?.guarantee);
    expect(runScenario(crashy, seed!, { unserializedStore: true }).failure).toEqual(a.failure);
    // Serialized, the same seed passes.
    expect(runScenario(crashy, seed!).ok).toBe(true);
  });

  it('volatile-seq passes on one node without crashes but fails on three', () => {
    const calm: Scenario = { ...multiNode, faults: { ...CALM_FAULTS, latencyMs: [1, 30] } };
    const bugs = new Set(['volatile-seq'] as const);
    expect(runScenario({ ...calm, nodes: 1 }, '1', { bugs }).ok).toBe(true);
    const r = runScenario(calm, '1', { bugs });
    expect(r.ok).toBe(false);
    expect(r.failure?.guarantee).toBe('liveness');
  });
});
