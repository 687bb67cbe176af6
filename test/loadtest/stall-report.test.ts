// The server's stalls in a load report: the sampler merges the intervals a
// server process sends into a phase's figures (leaving out the interval
// before the phase), and summary.md and chart.svg show them.
import { afterAll, describe, expect, it } from 'vitest';
import { chartSvg, summaryMarkdown, type PhaseRecord, type Report } from '../../loadtest/report.ts';
import { sampler, type StallSample } from '../../loadtest/sampler.ts';
import { StallMonitor } from '../../server/observability/stall-monitor.ts';
import { phaseRecord } from './phase-fixture.ts';

const COMMIT_MS = 5;
const BEFORE_MS = 400;

describe('the sampler', () => {
  const m = new StallMonitor();
  afterAll(() => m.stop());

  it('merges the stalls of every interval after its first sample', async () => {
    const w = m.openWindow();
    let samples = 0;
    // One commit before the phase (reported by the first sample, which is left out), then one before each later sample.
    m.commitDone(BEFORE_MS, 1);
    const target = {
      sample: async (): Promise<StallSample> => {
        if (samples++ > 0) m.commitDone(COMMIT_MS, 2);
        return { rssBytes: 1, stalls: w.take() };
      },
    };
    const s = sampler(target, performance.now(), 15);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await s.stop();
    const stalls = s.stalls()!;
    expect(samples).toBeGreaterThan(2);
    expect(stalls.timeline).toHaveLength(samples - 1);
    expect(stalls.commit.count).toBe(samples - 1);
    expect(stalls.commit.commands).toBe(2 * (samples - 1));
    expect(stalls.commit.maxMs).toBe(COMMIT_MS);
    expect(stalls.commit.p99Ms).toBe(COMMIT_MS);
    for (const p of stalls.timeline) expect(p).toMatchObject({ commits: 1, commitMaxMs: COMMIT_MS });
    expect(stalls.eventLoop.maxMs).toBe(Math.max(...stalls.timeline.map((p) => p.eventLoopMaxMs)));
  });

  it('reports no stalls for a server that does not measure them', async () => {
    const s = sampler({ sample: async () => ({ rssBytes: 1 }) }, performance.now(), 10);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await s.stop();
    expect(s.stalls()).toBeUndefined();
  });
});

/** A half-peak phase with two seconds of timeline (the second with a delivery stall). */
function phase(over: Partial<PhaseRecord>): PhaseRecord {
  const { window: _peakWindow, ...peak } = phaseRecord({});
  return {
    ...peak,
    name: 'tcp half-peak',
    mode: 'open',
    offeredRate: 100,
    sendWindowMs: 2000,
    elapsedMs: 2100,
    sent: 200,
    acked: 200,
    durable: 200,
    timeline: [
      { t: 0, offered: 100, acked: 100, durable: 95, deliveries: 300, p50Ms: 2, p99Ms: 5 },
      { t: 1, offered: 100, acked: 100, durable: 95, deliveries: 300, p50Ms: 2, p99Ms: 61 },
    ],
    memory: [{ t: 0.1, rssBytes: 100e6 }],
    stage: 'half-peak',
    ...over,
  };
}

describe('the report', () => {
  const stalled = phase({
    serverStalls: {
      eventLoop: { count: 200, p50Ms: 0.21, p99Ms: 3.4, maxMs: 58.7 },
      commit: { count: 150, p50Ms: 0.9, p99Ms: 12.5, maxMs: 40.2, commands: 200 },
      timeline: [
        { t: 0.25, span: 0.5, eventLoopP99Ms: 1.2, eventLoopMaxMs: 2.5, commitP99Ms: 3, commitMaxMs: 4, commits: 40 },
        { t: 0.75, span: 0.5, eventLoopP99Ms: 58.7, eventLoopMaxMs: 58.7, commitP99Ms: 40.2, commitMaxMs: 40.2, commits: 30 },
        { t: 1.25, span: 0.5, eventLoopP99Ms: 1.1, eventLoopMaxMs: 1.9, commitP99Ms: 2.5, commitMaxMs: 3.1, commits: 80 },
      ],
    },
  });
  const report = (phases: PhaseRecord[]): Report => ({
    profile: 'smoke',
    description: 'test',
    startedAt: '2024-01-01T00:00:00.000Z',
    durationMs: 5000,
    env: { node: 'v20', platform: 'linux', cpus: 2, cpuModel: 'cpu', memoryBytes: 1e9, fdLimit: 1024, loadAvg: [0.5, 1] },
    server: { where: 'child', db: 'tmp', synchronous: 'FULL', holdMs: 1, heartbeatSec: 1, scryptN: 2 },
    phases,
    thresholds: [],
    passed: true,
    totals: { lost: 0, duplicated: 0, mismatched: 0 },
  });

  it('summarizes each phase\'s event-loop delay and commit latency beside its worst second of delivery', () => {
    const md = summaryMarkdown(report([stalled, phase({ name: 'no stalls reported' })]));
    const section = /## Server stalls\n[^]*?\n## /.exec(md)?.[0] ?? '';
    expect(section).toContain('| tcp half-peak | 0.21 / 3.40 / 58.7 ms | 150 | 0.90 / 12.5 / 40.2 ms | 61.0 ms |');
    expect(section).not.toContain('| no stalls reported |');
    expect(summaryMarkdown(report([phase({})]))).not.toContain('## Server stalls');
  });

  it('plots the stalls per sample in panels of their own', () => {
    const svg = chartSvg(report([stalled]));
    expect(svg).toContain('Server event-loop delay per sample');
    expect(svg).toContain('Server commit latency per sample');
    // Throughput, delivery p50 and p99, event-loop max and p99, commit max and p99, memory.
    expect(svg.match(/<polyline /g)).toHaveLength(8);
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    expect(chartSvg(report([phase({})]))).not.toContain('Server event-loop delay');
  });
});
