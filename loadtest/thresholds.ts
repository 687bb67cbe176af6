// What must hold for a load-test run to pass: nothing acknowledged lost,
// nothing applied twice, every phase quiet at its end, and the profile's
// floors and ceilings (throughput, latency, idle links kept alive, k6).
import type { Profile } from './profiles.ts';
import type { CapacityReport, K6Report, PhaseRecord, ThresholdCheck } from './report.ts';

export function checkThresholds(profile: Profile, phases: PhaseRecord[], capacity: CapacityReport | undefined, k6: K6Report | undefined): ThresholdCheck[] {
  const t = profile.thresholds;
  const checks: ThresholdCheck[] = [];
  const server = phases.filter((p) => p.kind === 'synckey');
  const lost = server.reduce((n, p) => n + p.lost, 0);
  const dup = server.reduce((n, p) => n + p.duplicated, 0);
  const mismatched = server.reduce((n, p) => n + p.mismatched, 0);
  checks.push({ what: 'no acknowledged message lost', ok: lost <= t.maxLost, detail: `${lost} missing deliveries (allowed ${t.maxLost})` });
  checks.push({ what: 'no message applied twice', ok: dup <= t.maxDuplicated, detail: `${dup} duplicate deliveries (allowed ${t.maxDuplicated})` });
  checks.push({ what: 'one MsgId per send on every device', ok: mismatched === 0, detail: `${mismatched} mismatches` });
  if (t.requireQuiescence) {
    const stuck = server.filter((p) => !p.quiesced).map((p) => p.name);
    checks.push({ what: 'every phase quiesced', ok: stuck.length === 0, detail: stuck.length ? `not: ${stuck.join(', ')}` : `${server.length} phases` });
  }
  const unanswered = server.reduce((n, p) => n + p.unanswered, 0);
  checks.push({ what: 'every send answered', ok: unanswered === 0, detail: `${unanswered} sends without an answer at the end` });
  for (const tr of ['tcp', 'ws', 'http'] as const) {
    const peak = server.find((p) => p.transport === tr && p.stage === 'peak');
    if (peak) {
      const min = t.minDurablePerSec[tr];
      checks.push({ what: `${tr.toUpperCase()} peak durable msg/s ≥ ${min}`, ok: peak.durablePerSec >= min, detail: `${peak.durablePerSec}/s` });
    }
    const half = server.find((p) => p.transport === tr && p.stage === 'half-peak');
    if (half) {
      checks.push({
        what: `${tr.toUpperCase()} p99 delivery at half peak ≤ ${t.maxP99AtHalfMs} ms`,
        ok: half.deliveryLatencyMs.p99 <= t.maxP99AtHalfMs,
        detail: `${half.deliveryLatencyMs.p99} ms at ${half.offeredRate}/s`,
      });
    }
  }
  const reconnects = server.reduce((n, p) => n + (p.linkReconnects ?? 0) + p.linkDrops, 0);
  checks.push({
    what: 'long links stay up (no fault is injected)',
    ok: reconnects === 0,
    detail: reconnects === 0 ? 'no drop, no reconnect' : `${reconnects} drops or reconnects: the client gave up on a link (bad packet, disconnect, timeout) or the network closed it`,
  });
  const failed = server.reduce((n, p) => n + p.failed, 0);
  checks.push({ what: 'no send failed', ok: failed === 0, detail: `${failed} sendFailed events` });
  if (capacity) {
    checks.push({
      what: 'idle links survive the hold (heartbeats)',
      ok: capacity.linkDropsDuringHold === 0 && capacity.serverOpenLinksAfterHold === capacity.reachedLinks,
      detail: `${capacity.serverOpenLinksAfterHold} of ${capacity.reachedLinks} open at the server, ${capacity.linkDropsDuringHold} drops`,
    });
  }
  if (k6?.ran) {
    for (const s of k6.scripts) checks.push({ what: `k6 ${s.script} thresholds`, ok: s.exitCode === 0, detail: `exit ${s.exitCode}` });
  }
  return checks;
}

