// Limits of the server node around the core: long polls, long links, bodies.
// The ones marked anti-abuse bound what one hostile peer can make the node
// hold or do (docs/limits.md); an honest client never reaches them.
import { HEADER_LEN } from '../wire/packet.ts';

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
  /**
   * Anti-abuse: packets of one link the node takes per turn, and commands of
   * one link unanswered at once. Past it the node reads no more of that link
   * (the driver is told to pause it) until its answers are out and its next
   * turn comes: links are served round-robin, one turn each per flush.
   * The transports' write limit must hold a quarter of itself (where they
   * stop reading a link) plus this many of the largest replies, so that a
   * peer that reads is never cut: 256 KiB + 8 × (16 + 64 KiB) < 1 MiB.
   */
  maxLinkInFlight: number;
  /**
   * Fair service: work (writes made and log items read: a message to a room
   * of N costs about N, a full sync page about 100) that the commands started
   * in one round may do. Past it, the clients that did the work wait for the
   * next round (server/node/round-budget.ts), so the event loop gets back to
   * every socket between rounds: one account's room traffic or pipelined
   * syncs cannot hold it for hundreds of milliseconds. One command is never split.
   */
  maxWorkPerRound: number;
  /** Anti-abuse: a packet whose first bytes arrived must be whole this long after, or the link is closed. */
  packetTimeoutMs: number;
  /** Anti-abuse: links not yet authenticated, in all; one more is refused at once. */
  maxUnauthLinks: number;
  /**
   * Anti-abuse: bytes of one link the node holds unread (a partial packet, and
   * whole ones waiting for the link's turn). A driver that pauses the link
   * when told never reaches it; past it the link is closed.
   */
  maxLinkBufferBytes: number;
  /**
   * Anti-abuse: password hashes (register, login by password) out at the
   * driver at once. One more login or register answers Ret 2 (Busy) with
   * `retry after hashBusyRetryMs ms`, without hashing.
   */
  maxHashJobs: number;
  /** The retry-after hint of that Busy answer, in ms. */
  hashBusyRetryMs: number;
  /**
   * Anti-abuse: failed logins from one address (an IPv6 /64) that cost no
   * wait; after them each next login from it waits loginDelayBaseMs × 2^n
   * after the last failure (Ret 1112 before that, without hashing), at most
   * loginMaxDelayPerAddressMs.
   */
  loginFreeFailuresPerAddress: number;
  /**
   * Anti-abuse: the same for one user name, from any address: gentler (more
   * free failures, a lower cap) so that guessers elsewhere cannot keep the
   * owner out for longer than loginMaxDelayPerAccountMs per attempt.
   */
  loginFreeFailuresPerAccount: number;
  /** The first wait after the free failures, in ms; it doubles with each further failure. */
  loginDelayBaseMs: number;
  /** The longest wait per address, in ms. */
  loginMaxDelayPerAddressMs: number;
  /** The longest wait per user name, in ms. */
  loginMaxDelayPerAccountMs: number;
  /** Failed logins are forgotten this long after the last one, in ms. */
  loginFailureMemoryMs: number;
  /** Anti-abuse: registrations one address may make at once (a token bucket's burst)... */
  registerBurstPerAddress: number;
  /** ...and per hour, sustained (Ret 1112 beyond). */
  registersPerAddressPerHour: number;
  /**
   * Anti-abuse: entries in each throttle table (failures per address, per
   * user name; registrations per address). Past it the least recently
   * touched entry is dropped (it starts afresh). An entry is a key of at
   * most 64 characters and two numbers: about 200 bytes.
   */
  maxThrottleEntries: number;
  /**
   * The QR web login (docs/protocol.md 5.11), held in memory only: a crash
   * loses pending logins, which the user rescans. A uuid lives this long
   * until it is confirmed; then its ticket lives qrTicketTtlMs.
   */
  qrLoginTtlMs: number;
  /** A confirmed login's ticket works once, within this time of the confirm. */
  qrTicketTtlMs: number;
  /** Anti-abuse: QR logins pending (waiting, scanned or confirmed) in all; one more jslogin is refused (code 503). */
  maxQrLogins: number;
  /** Anti-abuse: QR logins pending per address (an IPv6 /64); one more replaces the address's oldest. */
  maxQrLoginsPerAddress: number;
  /** The login long poll holds a request this long, then answers `window.code=408;`. */
  loginHoldMs: number;
  /** Anti-abuse: login polls held in all (one more answers `window.code=503;`)... */
  maxLoginPolls: number;
  /** ...and per address (one more completes the address's oldest with 408); a uuid has one poll, its newest. */
  maxLoginPollsPerAddress: number;
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
  maxLinkInFlight: 8,
  maxWorkPerRound: 1_000,
  packetTimeoutMs: 30_000,
  maxUnauthLinks: 1_024,
  maxLinkBufferBytes: 256 * 1024,
  maxHashJobs: 8,
  hashBusyRetryMs: 1_000,
  loginFreeFailuresPerAddress: 10,
  loginFreeFailuresPerAccount: 20,
  loginDelayBaseMs: 1_000,
  loginMaxDelayPerAddressMs: 300_000,
  loginMaxDelayPerAccountMs: 30_000,
  loginFailureMemoryMs: 900_000,
  registerBurstPerAddress: 20,
  registersPerAddressPerHour: 20,
  maxThrottleEntries: 50_000,
  qrLoginTtlMs: 300_000,
  qrTicketTtlMs: 60_000,
  maxQrLogins: 10_000,
  maxQrLoginsPerAddress: 16,
  loginHoldMs: 25_000,
  maxLoginPolls: 10_000,
  maxLoginPollsPerAddress: 16,
});

export function nodeConfig(over: Partial<NodeConfig> = {}): NodeConfig {
  const c = { ...DEFAULT_NODE_CONFIG, ...over };
  for (const [k, v] of Object.entries(c)) {
    if (!Number.isFinite(v) || v <= 0) throw new RangeError(`node config ${k} must be a positive number, got ${v}`);
  }
  // Room for a partial packet and one read (or WebSocket message) of whole ones behind it.
  const minBuffer = 2 * (HEADER_LEN + c.maxPacketBody);
  if (c.maxLinkBufferBytes < minBuffer) {
    throw new RangeError(`node config maxLinkBufferBytes (${c.maxLinkBufferBytes}) must be at least twice 16 + maxPacketBody (${minBuffer})`);
  }
  return c;
}

/** A link silent this long is closed: about two and a half heartbeat intervals. */
export function idleTimeoutMs(c: NodeConfig): number {
  return c.heartbeatSec * 2500;
}

/** Registrations from one address lifted: a run whose setup registers its many accounts from one loopback address. */
export const REGISTRATIONS_LIFTED: Readonly<Partial<NodeConfig>> = Object.freeze({
  registerBurstPerAddress: 1_000_000,
  registersPerAddressPerHour: 1_000_000,
});

/** Password-hash admission lifted too: a benchmark or load population logs hundreds of devices in at once. */
export const ADMISSION_LIFTED: Readonly<Partial<NodeConfig>> = Object.freeze({ ...REGISTRATIONS_LIFTED, maxHashJobs: 100_000 });
