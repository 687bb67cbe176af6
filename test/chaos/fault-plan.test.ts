// The plan of a chaos run is fixed by the scenario, the seed and the duration:
// users, actions, fault schedule, and every connection's sequence of faults.
import { describe, expect, it } from 'vitest';
import { flakyWifi } from '../../scenarios/flaky-wifi.ts';
import { longLived } from '../../scenarios/long-lived.ts';
import { serverCrashLoop } from '../../scenarios/server-crash-loop.ts';
import { DeviceDice, type StreamRates } from '../../chaos/fault-dice.ts';
import { makePlan } from '../../chaos/plan.ts';
import { MAX_MESSAGES } from '../../chaos/workload-plan.ts';

const O = { durationMs: 20_000, livenessBoundMs: 60_000 };

const RATES: StreamRates = {
  latencyMs: [5, 80],
  tailProbability: 0.1,
  tailMs: 1500,
  splitProbability: 0.5,
  maxPieces: 4,
  mergeProbability: 0.3,
  mergeHoldMs: [2, 15],
  stallPerSecond: 1,
  stallMeanMs: 1500,
};

describe('chaos plan', () => {
  it('is the same for the same scenario, seed and duration', () => {
    const a = makePlan(flakyWifi, '7', O);
    const b = makePlan(flakyWifi, '7', O);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.spec.ops.length).toBeGreaterThan(50);
    expect(a.spec.faults.some((f) => f.kind === 'reset')).toBe(true);
  });

  it('differs for another seed', () => {
    const a = makePlan(flakyWifi, '7', O);
    const b = makePlan(flakyWifi, '8', O);
    expect(JSON.stringify(b.spec.ops)).not.toBe(JSON.stringify(a.spec.ops));
  });

  it('draws the scenario\'s crashes inside the fault phase, in time order', () => {
    const p = makePlan(serverCrashLoop, '3', O);
    const crashes = p.spec.faults.filter((f) => f.kind === 'crash');
    expect(crashes.length).toBeGreaterThan(2);
    for (const f of p.spec.faults) expect(f.at).toBeLessThan(O.durationMs);
    const times = p.spec.faults.map((f) => f.at);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(p.proxy.http.dropRequestProbability).toBe(0);
  });

  it('plays young devices coming and going as kills, some back as new installs', () => {
    const p = makePlan(longLived, '5', { durationMs: 60_000, livenessBoundMs: 60_000 });
    expect(p.reinstalls.length).toBeGreaterThan(0);
    for (const i of p.reinstalls) expect(p.spec.faults[i]!.kind).toBe('kill');
    expect(p.resyncAllowed).toBe(false);
  });

  it('bounds the traffic whatever the duration', () => {
    const p = makePlan({ ...flakyWifi, workload: { ...flakyWifi.workload, sendsPerSecond: 50 } }, '1', { durationMs: 600_000, livenessBoundMs: 1 });
    const messages = p.spec.ops.reduce((n, op) => n + (op.kind === 'burst' ? op.size : op.kind === 'remark' ? 0 : 1), 0);
    expect(messages).toBeLessThanOrEqual(MAX_MESSAGES);
  });

  it("gives a device's n-th connection the same faults for a seed, and another connection others", () => {
    const fates = (seed: string, conn: string) => {
      const d = new DeviceDice(seed, 'u1.d0', () => false).direction(conn, 'up', RATES);
      return Array.from({ length: 50 }, () => d.chunk(100));
    };
    expect(fates('7', 'tcp#0')).toEqual(fates('7', 'tcp#0'));
    expect(fates('7', 'tcp#1')).not.toEqual(fates('7', 'tcp#0'));
    expect(fates('8', 'tcp#0')).not.toEqual(fates('7', 'tcp#0'));
  });

  it('splits a chunk into pieces that add up to it, leaving in order', () => {
    const d = new DeviceDice('1', 'u0.d0', () => false).direction('tcp#0', 'down', { ...RATES, splitProbability: 1 });
    for (let n = 2; n < 200; n += 7) {
      const f = d.chunk(n);
      expect(f.pieces.length).toBeGreaterThanOrEqual(2);
      expect(f.pieces.reduce((a, b) => a + b, 0)).toBe(n);
      expect(f.pieces.every((p) => p > 0)).toBe(true);
      expect(f.delays).toEqual([...f.delays].sort((a, b) => a - b));
    }
  });

  it('draws no loss, duplicate or tail once the run is calm, but the same sequence', () => {
    let calm = false;
    const rates = { latencyMs: [1, 2] as [number, number], tailProbability: 1, tailMs: 1000, dropRequestProbability: 0.5, dropResponseProbability: 0.5, duplicateProbability: 0.5, lossHangsProbability: 0.5 };
    const dice = new DeviceDice('1', 'u0.d0', () => calm);
    const wild = Array.from({ length: 40 }, () => dice.request(rates).draw());
    expect(wild.some((f) => f.dropRequest || f.dropResponse || f.duplicateAfterMs !== undefined)).toBe(true);
    calm = true;
    const tame = Array.from({ length: 40 }, () => dice.request(rates).draw());
    expect(tame.every((f) => !f.dropRequest && !f.dropResponse && f.duplicateAfterMs === undefined && f.requestDelayMs <= 2)).toBe(true);
  });
});
