// A scenario: a named workload and a fault profile. The simulator runs it
// under a seeded world; the load tests read the same workload to shape real
// traffic (accounts, devices per transport, groups, send rates, content sizes).
import type { CoreConfig } from '../server/core/config.ts';
import type { NodeConfig } from '../server/node/node-config.ts';

export type TransportMix = { http: number; tcp: number; ws: number };

export interface Workload {
  /** Accounts in the run. */
  accounts: number;
  /** Devices per account, drawn uniformly in [min, max]. */
  devicesPerAccount: [number, number];
  /** Relative weights of the transports a device uses. */
  transports: TransportMix;
  /** Group chats created at the start, each with `groupSize` members. */
  groups: number;
  groupSize: number;
  /** User sends per second across the whole run (Poisson arrivals). */
  sendsPerSecond: number;
  /** Share of sends that go to a group. */
  groupSendFraction: number;
  /** Share of user actions that set a remark instead of sending (category 2 traffic). */
  remarkFraction: number;
  /** Message sizes in UTF-8 bytes, uniform in [min, max]. */
  contentBytes: [number, number];
  /** Every `everyMs`, one sender fires `size` messages at once (0 = never). */
  burst: { everyMs: number; size: number };
  /**
   * Long silences: the last `durationMs` of every `everyMs` window nobody
   * sends, so long polls run out their hold and links only heartbeat.
   */
  silence?: { everyMs: number; durationMs: number };
  /** Length of the safety phase, simulated milliseconds. */
  durationMs: number;
  /** Malicious accounts acting beside the honest users (sim/hostile-workload.ts); unset: none. */
  hostile?: HostileWorkload;
}

/**
 * What the hostile accounts do, each a Poisson process with the given mean
 * interval (0 = never), drawn from the world's own 'hostile' stream. Their
 * requests are raw (sim/hostile-client.ts): they pipeline where the real
 * client would wait, and ignore the server's refusals.
 */
export interface HostileWorkload {
  /** Hostile accounts h0, h1, ...; each also runs the real app on one device. */
  accounts: number;
  /** Every `everyMs`, one hostile account fires `size` direct messages at once at one honest stranger. */
  flood: { everyMs: number; size: number };
  /** Every `everyMs`, `packets` sync packets written at once on one new long link. */
  pipeline: { everyMs: number; packets: number };
  /** Every `everyMs`, a login at an honest account and device with a wrong password. */
  guess: { everyMs: number };
  /** Every `everyMs`, a room with `members` honest strangers, then `messages` sent into it at once. */
  groupSpam: { everyMs: number; members: number; messages: number };
}

/** Every probability is per message; every duration is a mean in milliseconds (exponential). */
export interface FaultProfile {
  /** One-way latency, uniform in [min, max] ms, plus a tail. */
  latencyMs: [number, number];
  /** Probability that a message takes `latencyTailMs` more (a slow path; reorders HTTP). */
  latencyTailProbability: number;
  latencyTailMs: number;
  /** An HTTP request or response is lost. */
  dropProbability: number;
  /** An HTTP request or response arrives twice. */
  duplicateProbability: number;
  /** A long link is reset, per second of its life. */
  linkResetPerSecond: number;
  /** A device loses its network (both ways, or one way), then gets it back. */
  partitionMeanIntervalMs: number;
  partitionMeanDurationMs: number;
  partitionOneWayProbability: number;
  /** The server crashes (volatile state gone, the store keeps what was committed) and restarts. */
  serverCrashMeanIntervalMs: number;
  serverDowntimeMeanMs: number;
  /** A client app is killed and restarted from its persisted state. */
  appKillMeanIntervalMs: number;
  appDowntimeMeanMs: number;
  /**
   * A kill that tears the app's last write: the messages of the last sync reply
   * were stored but its SyncKey was not, so the restarted app syncs them again
   * (the reason clients deduplicate by MsgId).
   */
  appKillTornWriteProbability: number;
  /** A device logs in again (new session), replacing its old one. */
  sessionReplaceMeanIntervalMs: number;
  /** Delay between a command and its group commit, uniform in [min, max] ms. */
  commitDelayMs: [number, number];
}

/**
 * Faults of the server's store (sim/faulty-store.ts), drawn from the run's
 * own 'store-faults' stream during the safety phase. Each probability is per
 * call: a command's writes (an apply), or a batch's commit.
 */
export interface StorageFaults {
  /** A command's writes fail part-way (an I/O error, a full disk): the store undoes them. */
  applyFailProbability: number;
  /** A batch's commit fails. */
  commitFailProbability: number;
  /**
   * Of those failures, the share after which the database has already rolled
   * the whole transaction back itself (as SQLite does on some I/O errors);
   * the others leave it open (a failed statement, a busy commit).
   */
  transactionLostProbability: number;
  /**
   * synchronous NORMAL: a server crash is a power cut that also drops up to
   * this many of the last commits, which had returned but were not yet on
   * disk (0: FULL, the default, which loses nothing committed). docs/protocol.md
   * section 9.2 says what the server then still promises.
   */
  powerLossCommits: number;
}

/**
 * Devices of different ages on each account (sim/fault-scheduler.ts): the
 * first `oldDevicesPerAccount` run the whole time; the others come and go,
 * present for a while, then away (their app killed) for a while, some of
 * them longer than the session lifetime.
 */
export interface DeviceLifetimes {
  oldDevicesPerAccount: number;
  /** How long a young device stays, uniform in [min, max] ms. */
  presentMs: [number, number];
  /** How long it stays away, uniform in [min, max] ms. */
  awayMs: [number, number];
  /** A young device comes back as a new install of the same DeviceID: nothing it persisted survives. */
  reinstallProbability: number;
}

/**
 * Several server nodes on one store (sim/multi-node.ts), as on one
 * PostgreSQL database: where devices connect, and what the cross-node
 * notify does. Each draw comes from the run's own streams.
 */
export interface NodeFaults {
  /** On each request or new link, the share of devices the balancer sends to another node than before. */
  moveProbability: number;
  /** A cross-node notice is lost. */
  noticeLossProbability: number;
  /** A notice's delay, uniform in [min, max] ms. */
  noticeDelayMs: [number, number];
}

export interface Scenario {
  name: string;
  description: string;
  workload: Workload;
  faults: FaultProfile;
  /** Faults of the server's store; unset: it never fails. */
  storage?: StorageFaults;
  /** Young devices that come and go beside old ones; unset: every device runs the whole time (as far as the faults let it). */
  lifetimes?: DeviceLifetimes;
  /**
   * Whether a device may be told to resync (1200). Unset, the world decides
   * from the limits (a session lifetime or a maximum retention shorter than
   * the run allows it); a scenario whose limits keep every item a returning
   * device needs says false, and any 1200 is a violation.
   */
  resyncAllowed?: boolean;
  /** Server limits for this scenario (small retention for long-offline, small sync pages). */
  core?: Partial<CoreConfig>;
  node?: Partial<NodeConfig>;
  /** After healing, every device must converge within this much simulated time. */
  livenessBoundMs: number;
  /**
   * Where nothing goes wrong, every message must reach every recipient device
   * within this bound (simulated ms from the user's send); unset: no bound.
   */
  maxDeliveryMs?: number;
  /**
   * Server nodes sharing one store (default 1). With more, a crash takes one
   * node while the others serve, and `nodeFaults` says how devices spread.
   */
  nodes?: number;
  nodeFaults?: NodeFaults;
}

/** A store that never fails. */
export const NO_STORAGE_FAULTS: StorageFaults = {
  applyFailProbability: 0,
  commitFailProbability: 0,
  transactionLostProbability: 0,
  powerLossCommits: 0,
};

/** A fault profile with nothing going wrong. */
export const CALM_FAULTS: FaultProfile = {
  latencyMs: [1, 20],
  latencyTailProbability: 0,
  latencyTailMs: 0,
  dropProbability: 0,
  duplicateProbability: 0,
  linkResetPerSecond: 0,
  partitionMeanIntervalMs: 0,
  partitionMeanDurationMs: 0,
  partitionOneWayProbability: 0,
  serverCrashMeanIntervalMs: 0,
  serverDowntimeMeanMs: 0,
  appKillMeanIntervalMs: 0,
  appDowntimeMeanMs: 0,
  appKillTornWriteProbability: 0,
  sessionReplaceMeanIntervalMs: 0,
  commitDelayMs: [0, 2],
};

export const BASE_WORKLOAD: Workload = {
  accounts: 4,
  devicesPerAccount: [1, 3],
  transports: { http: 1, tcp: 1, ws: 1 },
  groups: 1,
  groupSize: 3,
  sendsPerSecond: 4,
  groupSendFraction: 0.3,
  remarkFraction: 0.05,
  contentBytes: [1, 200],
  burst: { everyMs: 0, size: 0 },
  durationMs: 30_000,
};
