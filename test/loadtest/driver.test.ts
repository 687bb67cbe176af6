// The load driver's pure parts: the loopback guard, the content codec that
// carries send times, Poisson arrivals, the profile shapes, the thresholds
// and the report writers.
import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { interArrivalMs } from '../../loadtest/arrivals.ts';
import { decodeContent, encodeContent } from '../../loadtest/content-codec.ts';
import { assertLoopback } from '../../loadtest/loopback.ts';
import { PROFILES, mixedShape, profileByName } from '../../loadtest/profiles.ts';
import { chartSvg, summaryMarkdown, type PhaseRecord, type Report } from '../../loadtest/report.ts';
import { checkThresholds } from '../../loadtest/thresholds.ts';
import { phaseRecord } from './phase-fixture.ts';

describe('assertLoopback', () => {
  it('accepts 127.0.0.0/8, localhost and ::1', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '127.255.255.254', 'localhost', '::1', '[::1]']) expect(() => assertLoopback(h), h).not.toThrow();
  });

  it('refuses everything else, private ranges included', () => {
    for (const h of ['10.0.0.1', '192.168.1.10', '172.16.0.1', '8.8.8.8', '0.0.0.0', 'example.com', '128.0.0.1', '::', '::ffff:127.0.0.1', '127.0.0.1.nip.io', '']) {
      expect(() => assertLoopback(h), h).toThrow(/loopback only/);
    }
  });
});

describe('message content', () => {
  it('round-trips id and send time and pads to the asked size', () => {
    const c = encodeContent(42, 1234.5678, 100);
    expect(Buffer.byteLength(c)).toBe(100);
    expect(decodeContent(c)).toEqual({ id: 42, sentAtMs: 1234.568 });
  });

  it('never truncates the header, and ignores foreign content', () => {
    expect(decodeContent(encodeContent(7, 1, 1))).toEqual({ id: 7, sentAtMs: 1 });
    expect(decodeContent('hello')).toBeUndefined();
    expect(decodeContent('lt:x:1.0:')).toBeUndefined();
  });
});

describe('Poisson arrivals', () => {
  it('have the asked mean rate', () => {
    const r = seedrandom('arrivals');
    let t = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) t += interArrivalMs(200, r());
    expect(n / (t / 1000)).toBeGreaterThan(195);
    expect(n / (t / 1000)).toBeLessThan(205);
  });
});

describe('profiles', () => {
  it('are all bounded and strict about loss and duplicates', () => {
    for (const p of Object.values(PROFILES)) {
      expect(p.thresholds.maxLost).toBe(0);
      expect(p.thresholds.maxDuplicated).toBe(0);
      expect(p.maxRunMs).toBeLessThanOrEqual(10 * 60_000);
      if (p.transports) expect(p.transports.maxMessages).toBeGreaterThan(0);
    }
    expect(PROFILES.smoke.maxRunMs).toBeLessThan(60_000);
    expect(() => profileByName('huge')).toThrow(/unknown profile 'huge'; known: smoke, baseline, stress, capacity/);
  });

  it('take the mixed stage from a scenario workload', () => {
    const s = mixedShape({ scenario: 'calm', accountsScale: 2, rateScale: 25, durationMs: 1, maxMessages: 1 });
    expect(s).toMatchObject({ accounts: 8, devicesPerAccount: 2, groups: 2, groupSize: 3, rate: 100 });
    expect(s.tcp + s.ws + s.http).toBe(16);
    expect(s.contentBytes[0]).toBeGreaterThanOrEqual(40);
    expect(() => mixedShape({ scenario: 'nope', accountsScale: 1, rateScale: 1, durationMs: 1, maxMessages: 1 })).toThrow(/unknown scenario/);
  });
});

const phase = phaseRecord;

describe('thresholds', () => {
  const p = PROFILES.smoke;

  it('pass a clean run', () => {
    const checks = checkThresholds(p, [phase({}), phase({ stage: 'half-peak', mode: 'open', offeredRate: 47 })], undefined, undefined);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('fail on one lost or duplicated delivery, an unquiet phase, or a slow p99', () => {
    const failed = (x: Partial<PhaseRecord>): string[] =>
      checkThresholds(p, [phase(x)], undefined, undefined)
        .filter((c) => !c.ok)
        .map((c) => c.what);
    expect(failed({ lost: 1 })).toEqual(['no acknowledged message lost']);
    expect(failed({ duplicated: 1 })).toEqual(['no message applied twice']);
    expect(failed({ quiesced: false })).toEqual(['every phase quiesced']);
    expect(failed({ linkReconnects: 3 })).toEqual(['long links stay up (no fault is injected)']);
    expect(failed({ stage: 'half-peak', deliveryLatencyMs: { count: 1, p50: 1, p90: 1, p99: 99_999, p999: 1, max: 1, mean: 1 } })).toEqual([
      'TCP p99 delivery at half peak ≤ 2000 ms',
    ]);
    // The bare baselines are not held to the server's checks.
    expect(checkThresholds(p, [phase({ kind: 'bare-tcp', lost: 5 })], undefined, undefined).every((c) => c.ok)).toBe(true);
  });
});

describe('report writers', () => {
  const report: Report = {
    profile: 'smoke',
    description: 'test',
    startedAt: '2024-01-01T00:00:00.000Z',
    durationMs: 5000,
    env: { node: 'v20', platform: 'linux', cpus: 2, cpuModel: 'cpu', memoryBytes: 1e9, fdLimit: 1024, loadAvg: [0.5, 1] },
    server: { where: 'child', db: 'tmp', synchronous: 'FULL', holdMs: 1, heartbeatSec: 1, scryptN: 2 },
    phases: [phase({}), phase({ kind: 'bare-tcp', name: 'bare tcp <peak> & co', startSec: 2, durablePerSec: 1000 })],
    thresholds: [{ what: 'x', ok: true, detail: 'y' }],
    passed: true,
    totals: { lost: 0, duplicated: 0, mismatched: 0 },
  };

  it('write a summary with each figure beside its baseline', () => {
    const md = summaryMarkdown(report);
    expect(md).toMatch(/\| TCP \| 8 \| 95 \| 1,000 \| 1\/10\.5 \|/);
    expect(md).toMatch(/\*\*PASSED\*\*/);
  });

  it('write a self-contained SVG with escaped labels', () => {
    const svg = chartSvg(report);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).not.toMatch(/<peak>/);
    expect(svg).toMatch(/<polyline points="[\d., ]+"/);
    expect(svg.match(/<svg/g)).toHaveLength(1);
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  });
});
