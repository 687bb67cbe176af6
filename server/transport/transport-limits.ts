// Socket-level limits of the real server: how many connections it holds and
// from whom, and how long a request body may take. They are anti-abuse
// limits (docs/limits.md): an honest client never reaches them. The limits
// a simulated server shares (packets in flight, packet deadlines, links
// waiting to authenticate) are the node's, in server/node/node-config.ts.

export interface TransportLimits {
  /** Open connections in all (HTTP, WebSocket and TCP together); one more is shed. */
  maxConnections: number;
  /**
   * Open connections from one remote address (the exact address string; an
   * IPv4-mapped IPv6 address counts as its IPv4 one). Behind a proxy every
   * client shares the proxy's address: raise this there.
   */
  maxConnectionsPerAddress: number;
  /**
   * New connections per second from one remote address, after a burst of
   * connectionBurstPerAddress: a client reconnecting in a loop is shed
   * (CONN_RATE_LIMIT) instead of costing a parser and reads each time.
   */
  connectionsPerSecPerAddress: number;
  connectionBurstPerAddress: number;
  /**
   * What an HTTP request refused for its body (trickled, oversized or late:
   * 400, 413, 408) costs its address, in new connections of the rate above:
   * the parse of a trickled body's first read is the work the attack is after,
   * so each try must cost the attacker its connection budget.
   */
  refusalCostConnections: number;
  /**
   * A connection shed for its address's rate (CONN_RATE_LIMIT) gets its answer
   * this long after it came (a tarpit): a client that reconnects the moment it
   * is shed is slowed to its own concurrency per delay (server/transport/shed-hold.ts).
   */
  shedDelayMs: number;
  /** Shed sockets held at once (tarpitted, or given a grace to read their answer); past it one is answered and destroyed at once. */
  maxShedHeld: number;
  /** An HTTP request's headers, then its body, must each arrive within this long; past it: 408. */
  bodyTimeoutMs: number;
  /** What a shed HTTP connection is told to wait before retrying (Retry-After, seconds). */
  retryAfterSec: number;
}

export const DEFAULT_TRANSPORT_LIMITS: Readonly<TransportLimits> = Object.freeze({
  maxConnections: 50_000,
  maxConnectionsPerAddress: 1_024,
  connectionsPerSecPerAddress: 200,
  connectionBurstPerAddress: 1_000,
  refusalCostConnections: 50,
  shedDelayMs: 1_000,
  maxShedHeld: 2_000,
  bodyTimeoutMs: 30_000,
  retryAfterSec: 5,
});

export function transportLimits(over: Partial<TransportLimits> = {}): TransportLimits {
  const l = { ...DEFAULT_TRANSPORT_LIMITS, ...over };
  for (const [k, v] of Object.entries(l)) {
    if (!Number.isFinite(v) || v <= 0) throw new RangeError(`transport limit ${k} must be a positive number, got ${v}`);
  }
  return l;
}

/**
 * The connection limits lifted, for runs whose few clients on one loopback
 * address do the traffic of many users (benchmarks and load tests); the
 * abuse profile, which measures these limits, keeps the defaults.
 */
export const CONNECTION_LIMITS_LIFTED: Readonly<Partial<TransportLimits>> = Object.freeze({
  // The capacity profile holds 50,000 idle links, besides its live devices and registration's HTTP.
  maxConnections: 100_000,
  maxConnectionsPerAddress: 100_000,
  // A population connects all its devices at once, from one address.
  connectionsPerSecPerAddress: 1_000_000_000,
  connectionBurstPerAddress: 1_000_000_000,
});
