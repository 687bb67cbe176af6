// A phase of sends: what it asks for and what it measured. Two modes:
//
//   open      Poisson arrivals at a fixed rate across all senders (an open
//             model: the offered load does not wait for the server)
//   saturate  every sender keeps `window` sends unanswered (a closed loop),
//             to find the peak
//
// Bounded: every phase has a maximum duration and message count, and the
// quiescence wait has a timeout. Bare baselines (echo servers) run the same
// phase shapes with raw clients, so results read as ratios.
import type { ClientTransport } from '../client/core/client-core.ts';

/** Unanswered sends each sender keeps in a saturate phase, unless the spec says. */
export const DEFAULT_WINDOW = 4;
/** How long a phase waits after its last send for every delivery, unless the spec says. */
export const DEFAULT_QUIESCE_TIMEOUT_MS = 30_000;
/** Server sampling period during a phase, unless the spec says. */
export const DEFAULT_SAMPLE_EVERY_MS = 500;
/** Content size range in UTF-8 bytes, unless the spec says. */
export const DEFAULT_CONTENT_BYTES: readonly [number, number] = [64, 64];

export interface PhaseSpec {
  name: string;
  mode: 'open' | 'saturate';
  /** open: messages per second across all senders. */
  rate?: number;
  /** saturate: unanswered sends each sender keeps (default DEFAULT_WINDOW). */
  window?: number;
  /** Transports whose devices send (default all). */
  senders?: ClientTransport[];
  durationMs: number;
  maxMessages: number;
  /** Share of sends that go to one of the sender's groups. */
  groupSendFraction?: number;
  /** Content size in UTF-8 bytes, uniform in [min, max]; at least the header (~30 bytes) is used. */
  contentBytes?: [number, number];
  /** How long to wait after the last send for every delivery (default 30 s). */
  quiesceTimeoutMs?: number;
  /** Server sampling period (default 500 ms). */
  sampleEveryMs?: number;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface CommitStats {
  /** Group commits of the server during the phase, and messages per commit. */
  commits: number;
  msgsPerCommit: number;
}

export interface TimelinePoint {
  /** Seconds since the phase began. */
  t: number;
  offered: number;
  acked: number;
  /** Messages that reached every device they were meant for in this second. */
  durable: number;
  deliveries: number;
  p50Ms: number;
  p99Ms: number;
}

export interface MemoryPoint {
  t: number;
  rssBytes: number;
  heapUsedBytes?: number;
  openLinks?: number;
}

export interface PhaseResult {
  name: string;
  kind: 'synckey' | 'bare-tcp' | 'bare-ws' | 'bare-http';
  mode: 'open' | 'saturate';
  offeredRate?: number;
  window?: number;
  clients: number;
  sendWindowMs: number;
  elapsedMs: number;
  sent: number;
  acked: number;
  failed: number;
  /** Sent, neither acknowledged nor failed when the phase ended. */
  unanswered: number;
  /** Acknowledged and delivered to every device meant. */
  durable: number;
  /** Expected (message, device) deliveries of acknowledged messages that never came. */
  lost: number;
  /** Deliveries of a message to a device that already had it. */
  duplicated: number;
  /** Deliveries whose MsgId differs from the one the sender was answered. */
  mismatched: number;
  quiesced: boolean;
  ackedPerSec: number;
  /** Durable messages per second: durable / (last durable time − start). */
  durablePerSec: number;
  deliveryLatencyMs: LatencySummary;
  ackLatencyMs: LatencySummary;
  timeline: TimelinePoint[];
  memory: MemoryPoint[];
  serverCpuPct?: number;
  /** Only when the server reports its counters. */
  serverCommits?: CommitStats;
  driverCpuPct: number;
  /** Driver-side counters across the population: HTTP requests without an answer, links the network closed, and long-link connects beyond the first per device (a reconnect after any link failure). */
  httpFailures: number;
  linkDrops: number;
  linkReconnects: number;
}
