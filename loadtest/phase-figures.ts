// The figures every send phase reports the same way, whatever it drove (the
// SyncKey server or a peer): counts from the phase's tally, rates over the
// send window and to the last durable message, latency summaries and the
// driver's CPU. Each runner adds what only it knows (server counters,
// client-side failures).
import type { PhaseTally } from './delivery-ledger.ts';
import { DEFAULT_WINDOW, type PhaseResult, type PhaseSpec } from './phase.ts';
import { round1, summarize } from './recorder.ts';

export type PhaseFigures = Omit<PhaseResult, 'kind' | 'memory' | 'serverCpuPct' | 'serverCommits' | 'httpFailures' | 'linkDrops' | 'linkReconnects'>;

export interface PhaseClock {
  senders: number;
  sendWindowMs: number;
  elapsedMs: number;
  quiesced: boolean;
  /** The driver's CPU over the phase (process.cpuUsage since its start). */
  cpu: NodeJS.CpuUsage;
}

export function phaseFigures(ph: PhaseTally, spec: PhaseSpec, c: PhaseClock): PhaseFigures {
  const { lost, unanswered } = ph.outcome();
  const durableMs = ph.rec.lastDurableAt > 0 ? ph.rec.lastDurableAt - ph.rec.t0 : 0;
  return {
    name: spec.name,
    mode: spec.mode,
    ...(spec.mode === 'open' ? { offeredRate: spec.rate! } : { window: spec.window ?? DEFAULT_WINDOW }),
    clients: c.senders,
    sendWindowMs: Math.round(c.sendWindowMs),
    elapsedMs: Math.round(c.elapsedMs),
    sent: ph.sent,
    acked: ph.acked,
    failed: ph.failed,
    unanswered,
    durable: ph.durable,
    lost,
    duplicated: ph.duplicated,
    mismatched: ph.mismatched,
    quiesced: c.quiesced,
    ackedPerSec: round1((ph.acked / Math.max(1, c.sendWindowMs)) * 1000),
    durablePerSec: durableMs > 0 ? round1((ph.durable / durableMs) * 1000) : 0,
    deliveryLatencyMs: summarize(ph.rec.delivery),
    ackLatencyMs: summarize(ph.rec.ack),
    timeline: ph.rec.timeline(c.elapsedMs),
    driverCpuPct: round1(((c.cpu.user + c.cpu.system) / 1000 / c.elapsedMs) * 100),
  };
}
