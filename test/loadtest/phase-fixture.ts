// A load-test phase record as the report and the thresholds read it: a
// clean TCP peak phase, which each test changes where its case needs.
import type { PhaseResult } from '../../loadtest/phase.ts';
import type { PhaseRecord } from '../../loadtest/report.ts';

export function phaseRecord(over: Partial<PhaseRecord>): PhaseRecord {
  const lat = { count: 10, p50: 2, p90: 3, p99: 5, p999: 6, max: 7, mean: 2.5 };
  const base: PhaseResult = {
    name: 'tcp peak',
    kind: 'synckey',
    mode: 'saturate',
    window: 4,
    clients: 8,
    sendWindowMs: 1000,
    elapsedMs: 1100,
    sent: 100,
    acked: 100,
    failed: 0,
    unanswered: 0,
    durable: 100,
    lost: 0,
    duplicated: 0,
    mismatched: 0,
    quiesced: true,
    ackedPerSec: 100,
    durablePerSec: 95,
    deliveryLatencyMs: lat,
    ackLatencyMs: lat,
    timeline: [{ t: 0, offered: 100, acked: 100, durable: 95, deliveries: 300, p50Ms: 2, p99Ms: 5 }],
    memory: [{ t: 0.1, rssBytes: 100e6, heapUsedBytes: 20e6 }],
    driverCpuPct: 50,
    httpFailures: 0,
    linkDrops: 0,
    linkReconnects: 0,
  };
  return { ...base, startSec: 0, transport: 'tcp', stage: 'peak', ...over };
}
