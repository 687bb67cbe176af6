// Limits of the server node around the core: long polls, long links, bodies.
export interface NodeConfig {
  /** synccheck holds a request this long when there is no news. */
  holdMs: number;
  /** A long link must authenticate within this time. */
  authTimeoutMs: number;
  /** Told to clients in the auth reply; a link silent for 2.5 intervals is closed. */
  heartbeatSec: number;
  /** Largest packet body on a long link. */
  maxPacketBody: number;
  /** Largest HTTP request body; transports answer 413 above it. */
  maxHttpBody: number;
  /** Waiting synccheck polls per account, and in all. */
  maxPollsPerAccount: number;
  maxPolls: number;
  /** Authenticated long links per account. */
  maxLinksPerAccount: number;
  /** Commands per group commit at most. */
  maxBatch: number;
  /** How often a step of the background retention sweep runs. */
  sweepIntervalMs: number;
}

export const DEFAULT_NODE_CONFIG: Readonly<NodeConfig> = Object.freeze({
  holdMs: 25_000,
  authTimeoutMs: 10_000,
  heartbeatSec: 240,
  maxPacketBody: 64 * 1024,
  maxHttpBody: 256 * 1024,
  maxPollsPerAccount: 16,
  maxPolls: 100_000,
  maxLinksPerAccount: 16,
  maxBatch: 256,
  sweepIntervalMs: 1_000,
});

export function nodeConfig(over: Partial<NodeConfig> = {}): NodeConfig {
  const c = { ...DEFAULT_NODE_CONFIG, ...over };
  for (const [k, v] of Object.entries(c)) {
    if (!Number.isFinite(v) || v <= 0) throw new RangeError(`node config ${k} must be a positive number, got ${v}`);
  }
  return c;
}

/** A link silent this long is closed: about two and a half heartbeat intervals. */
export function idleTimeoutMs(c: NodeConfig): number {
  return c.heartbeatSec * 2500;
}
