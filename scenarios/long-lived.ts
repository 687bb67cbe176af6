import { BASE_WORKLOAD, CALM_FAULTS, type Scenario } from './scenario.ts';

const SESSION_TTL_MS = 6_000;

/**
 * A run ten session lifetimes long. Each account has old devices, on from
 * the start to the end, whose sessions grow far older than the lifetime
 * while they keep syncing, and young ones that come and go, away for up to
 * two and a half lifetimes: they come back to an expired session (1100, a
 * new login), to a device record the sweep forgot, or as a new install.
 * Retention runs, but keeps items long enough for any returning device, so
 * a 1200 is a violation here: an old device may never be taken for gone.
 */
export const longLived: Scenario = {
  name: 'long-lived',
  description: 'old devices sync for ten session lifetimes while young ones come and go past the lifetime; no resync allowed',
  workload: { ...BASE_WORKLOAD, devicesPerAccount: [2, 4], sendsPerSecond: 3, durationMs: 60_000, silence: { everyMs: 15_000, durationMs: 5_000 } },
  faults: { ...CALM_FAULTS, latencyMs: [1, 30], commitDelayMs: [0, 10] },
  lifetimes: { oldDevicesPerAccount: 1, presentMs: [3_000, 12_000], awayMs: [2_000, 2.5 * SESSION_TTL_MS], reinstallProbability: 0.2 },
  core: {
    sessionTtlMs: SESSION_TTL_MS,
    lastSeenGranularityMs: 500,
    sweepAccountIntervalMs: 2_000,
    pruneIntervalMs: 1_000,
    // Longer than any young device stays away, with its time present: what it comes back for is still kept.
    minRetentionMs: 30_000,
  },
  // Idle old devices must show life well within the lifetime: the long poll and the long link's heartbeat.
  node: { holdMs: 2_000, heartbeatSec: 2 },
  resyncAllowed: false,
  livenessBoundMs: 120_000,
};
