// The load-test profiles of `npm run loadtest -- --profile NAME`. Each says
// what to run, how long at most, and what must hold for the run to pass.
// The mixed phase takes its shape (devices per account, transport mix,
// groups, group share, content sizes, send rate) from a named scenario of
// scenarios/, scaled up; the per-transport phases find each transport's peak
// (closed loop) and then measure latency at half of it (open model). The
// peers stage (stages/peers.ts) runs the same shape against Redis Streams and
// NATS JetStream, for figures that read as ratios to systems people know.
import type { Workload } from '../scenarios/scenario.ts';
import { scenarioByName } from '../scenarios/index.ts';
import { DEFAULT_SCRYPT_N } from '../server/core/password.ts';

export type ProfileName = 'smoke' | 'baseline' | 'stress' | 'capacity' | 'abuse' | 'peers';

export interface TransportStages {
  /** Devices of one transport in each per-transport population. */
  clients: number;
  devicesPerAccount: number;
  groups: number;
  groupSize: number;
  groupSendFraction: number;
  contentBytes: [number, number];
  /** Unanswered sends per device in the saturation stage. */
  window: number;
  saturateMs: number;
  /** The open-model stage at half the measured peak. */
  halfRateMs: number;
  maxMessages: number;
}

export interface MixedStage {
  /** The scenario whose workload shapes this stage. */
  scenario: string;
  /** Accounts = scenario accounts × this. */
  accountsScale: number;
  /** Rate = scenario sendsPerSecond × this. */
  rateScale: number;
  durationMs: number;
  maxMessages: number;
}

export interface CapacityStage {
  /** Idle long links wanted; what the file-descriptor limit allows is used and reported. */
  links: number;
  devicesPerAccount: number;
  /** Heartbeat interval the server hands out; the links heartbeat at it while idle. */
  heartbeatSec: number;
  /** How long the links are held idle (several heartbeat intervals). */
  holdMs: number;
  /** Devices logging in at once. */
  loginBatch: number;
  /** A short open-model send phase across the held links, to show they are live (0 = none). */
  liveRate: number;
  liveMs: number;
}

export interface Thresholds {
  /** Both must be 0 in every profile; kept here so the report can print them. */
  maxLost: number;
  maxDuplicated: number;
  /** Peak durable messages per second at least this, per transport (loose floors: the machine varies). */
  minDurablePerSec: { tcp: number; ws: number; http: number };
  /** p99 send-to-delivery at half the peak rate, at most (ms). */
  maxP99AtHalfMs: number;
  /** Every phase must reach quiescence (all acknowledged messages everywhere) within its bound. */
  requireQuiescence: boolean;
}

/** The attacks of the abuse profile, in the order they run (stages/abuse/attacks/). */
export const ATTACK_NAMES = ['flood', 'chunked-body', 'slow-packet', 'idle-connections', 'pipelined-sync', 'login-guessing', 'guess-in-a-row', 'group-spam'] as const;
export type AttackName = (typeof ATTACK_NAMES)[number];

export interface AbuseStage {
  /** How long each attack runs (its honest load runs as long); never more than ABUSE_ATTACK_LIMIT_MS. */
  attackMs: number;
  /** The honest load alone first, for reference figures (0 = skip). */
  referenceMs: number;
  /** The honest population present through every attack: it sends (open model) and its probes heartbeat. */
  honest: { tcp: number; ws: number; http: number; devicesPerAccount: number; rate: number; probeEveryMs: number; quiesceTimeoutMs: number };
  flood: { links: number; window: number; httpConcurrency: number; maxMessages: number; contentBytes: number };
  chunkedBody: { fastRequests: number; slowRequests: number; slowChunkEveryMs: number; bodyBytes: number };
  slowPacket: { tcpLinks: number; wsLinks: number; authenticatedShare: number; byteEveryMs: number };
  idleConnections: { tcp: number; ws: number; http: number; maxOpens: number };
  pipelinedSync: { packets: number; maxRounds: number; prefillMessages: number; prefillContentBytes: number };
  /** `scryptN`: the password hash cost of this attack's server (a guess costs the server one hash). */
  loginGuessing: { guessers: number; linkShare: number; maxGuesses: number; scryptN: number };
  /** Wrong passwords one after the other at one account, then its owner's login (the profile's cheap hash: this one is about policy, not cost). */
  guessInARow: { guesses: number };
  groupSpam: { strangers: number; maxGroups: number; maxMessages: number; window: number };
  /** What must hold for honest clients during each attack. */
  thresholds: { maxHonestP99Ms: number; maxRssGrowthBytes: number };
  /** The attacks to run, in ATTACK_NAMES order (`--attacks`); all of them when absent. */
  only?: readonly AttackName[];
}

/** No attack runs longer than this, whatever a profile says. */
export const ABUSE_ATTACK_LIMIT_MS = 20_000;

/**
 * Redis Streams and NATS JetStream under the shape of the TCP phases (`--peers`
 * on a profile with transports, or the peers profile). With `own` the stage
 * runs the server's TCP phases and the bare TCP echo itself, in that shape,
 * the latency phase at a fixed rate; without it the peers repeat the
 * profile's TCP stages and take the server's half-peak rate, as the bare
 * baselines do.
 */
export interface PeerStages {
  own?: { shape: TransportStages; fixedRate: number };
}

export interface K6Stage {
  vus: number;
  duration: string;
  /** Sends per second per VU. */
  sendRate: number;
}

export interface Profile {
  name: ProfileName;
  description: string;
  server: {
    holdMs: number;
    heartbeatSec: number;
    synchronous: 'FULL' | 'NORMAL';
    scryptN: number;
    /** Commit on the server's storage thread; the server's default (false) commits on its event loop. */
    storageThread?: boolean;
  };
  transports: TransportStages | null;
  mixed: MixedStage | null;
  capacity: CapacityStage | null;
  abuse: AbuseStage | null;
  /** Bare baselines run with the transport stages' shape. */
  bare: boolean;
  /** Redis Streams and NATS JetStream under the same shape (when their binaries are on PATH). */
  peers?: PeerStages;
  k6: K6Stage;
  quiesceTimeoutMs: number;
  thresholds: Thresholds;
  /** The whole run is stopped (and fails) after this long. */
  maxRunMs: number;
}

const STRICT = { maxLost: 0, maxDuplicated: 0, requireQuiescence: true };

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  smoke: {
    name: 'smoke',
    description: 'a few devices per transport for a few seconds: does everything work end to end (well under a minute)',
    server: { holdMs: 5_000, heartbeatSec: 30, synchronous: 'FULL', scryptN: 2 },
    transports: {
      clients: 8,
      devicesPerAccount: 2,
      groups: 1,
      groupSize: 3,
      groupSendFraction: 0.2,
      contentBytes: [40, 200],
      window: 4,
      saturateMs: 1_500,
      halfRateMs: 1_500,
      maxMessages: 20_000,
    },
    mixed: { scenario: 'calm', accountsScale: 2, rateScale: 25, durationMs: 2_000, maxMessages: 5_000 },
    capacity: null,
    abuse: null,
    bare: true,
    k6: { vus: 4, duration: '10s', sendRate: 2 },
    quiesceTimeoutMs: 10_000,
    thresholds: { ...STRICT, minDurablePerSec: { tcp: 50, ws: 50, http: 20 }, maxP99AtHalfMs: 2_000 },
    maxRunMs: 55_000,
  },
  baseline: {
    name: 'baseline',
    description: 'the reference numbers: 32 devices per transport, peak and half-peak latency, a calm mixed workload',
    server: { holdMs: 25_000, heartbeatSec: 60, synchronous: 'FULL', scryptN: 2 },
    transports: {
      clients: 32,
      devicesPerAccount: 2,
      groups: 2,
      groupSize: 4,
      groupSendFraction: 0.2,
      contentBytes: [40, 200],
      window: 4,
      saturateMs: 6_000,
      halfRateMs: 6_000,
      maxMessages: 200_000,
    },
    mixed: { scenario: 'calm', accountsScale: 10, rateScale: 100, durationMs: 8_000, maxMessages: 50_000 },
    capacity: null,
    abuse: null,
    bare: true,
    k6: { vus: 20, duration: '30s', sendRate: 2 },
    quiesceTimeoutMs: 30_000,
    thresholds: { ...STRICT, minDurablePerSec: { tcp: 300, ws: 300, http: 100 }, maxP99AtHalfMs: 1_000 },
    maxRunMs: 4 * 60_000,
  },
  stress: {
    name: 'stress',
    description: 'many devices and a bursty group workload: 200 devices per transport, a window of 8, group-burst mixed stage',
    server: { holdMs: 25_000, heartbeatSec: 60, synchronous: 'FULL', scryptN: 2 },
    transports: {
      clients: 200,
      devicesPerAccount: 3,
      groups: 10,
      groupSize: 8,
      groupSendFraction: 0.3,
      contentBytes: [40, 1_000],
      window: 8,
      saturateMs: 10_000,
      halfRateMs: 10_000,
      maxMessages: 300_000,
    },
    mixed: { scenario: 'group-burst', accountsScale: 40, rateScale: 100, durationMs: 15_000, maxMessages: 100_000 },
    capacity: null,
    abuse: null,
    bare: true,
    k6: { vus: 100, duration: '60s', sendRate: 1 },
    quiesceTimeoutMs: 60_000,
    thresholds: { ...STRICT, minDurablePerSec: { tcp: 300, ws: 300, http: 100 }, maxP99AtHalfMs: 3_000 },
    maxRunMs: 8 * 60_000,
  },
  capacity: {
    name: 'capacity',
    description: 'many idle long links with heartbeats: server memory per connection against a bare TCP server holding as many idle sockets',
    server: { holdMs: 25_000, heartbeatSec: 10, synchronous: 'FULL', scryptN: 2 },
    transports: null,
    mixed: null,
    // loginBatch: logins in flight over all link holders, under the server's maxUnauthLinks (1,024) and a listen backlog of 511.
    capacity: { links: 50_000, devicesPerAccount: 4, heartbeatSec: 10, holdMs: 30_000, loginBatch: 256, liveRate: 200, liveMs: 5_000 },
    abuse: null,
    bare: true,
    k6: { vus: 200, duration: '60s', sendRate: 0.1 },
    quiesceTimeoutMs: 60_000,
    thresholds: { ...STRICT, minDurablePerSec: { tcp: 0, ws: 0, http: 0 }, maxP99AtHalfMs: 5_000 },
    maxRunMs: 10 * 60_000,
  },
  abuse: {
    name: 'abuse',
    description: 'hostile users, one attack at a time against a fresh server while honest TCP, WebSocket and HTTP devices send and heartbeat: server memory, honest p99, what was refused',
    server: { holdMs: 5_000, heartbeatSec: 30, synchronous: 'FULL', scryptN: 2 },
    transports: null,
    mixed: null,
    capacity: null,
    abuse: {
      attackMs: 12_000,
      referenceMs: 6_000,
      honest: { tcp: 4, ws: 2, http: 4, devicesPerAccount: 2, rate: 20, probeEveryMs: 50, quiesceTimeoutMs: 15_000 },
      flood: { links: 4, window: 64, httpConcurrency: 16, maxMessages: 300_000, contentBytes: 200 },
      chunkedBody: { fastRequests: 16, slowRequests: 64, slowChunkEveryMs: 200, bodyBytes: 300_000 },
      slowPacket: { tcpLinks: 150, wsLinks: 50, authenticatedShare: 0.5, byteEveryMs: 100 },
      idleConnections: { tcp: 3_000, ws: 300, http: 300, maxOpens: 20_000 },
      pipelinedSync: { packets: 10_000, maxRounds: 10, prefillMessages: 200, prefillContentBytes: 1_000 },
      // The server's own default hash cost, as `npm start` runs: what each guess really costs it.
      loginGuessing: { guessers: 256, linkShare: 0.25, maxGuesses: 20_000, scryptN: DEFAULT_SCRYPT_N },
      guessInARow: { guesses: 1_000 },
      groupSpam: { strangers: 499, maxGroups: 100, maxMessages: 20_000, window: 32 },
      thresholds: { maxHonestP99Ms: 100, maxRssGrowthBytes: 100 * 1024 * 1024 },
    },
    bare: false,
    k6: { vus: 1, duration: '1s', sendRate: 1 },
    quiesceTimeoutMs: 15_000,
    thresholds: { ...STRICT, minDurablePerSec: { tcp: 0, ws: 0, http: 0 }, maxP99AtHalfMs: 5_000 },
    maxRunMs: 9 * 60_000,
  },
  peers: {
    name: 'peers',
    description:
      'the server\'s TCP long link beside Redis Streams, NATS JetStream and a bare TCP echo, one shape for all: 32 single-device accounts, 100-byte messages to one recipient device each, 256 sends in flight, then 2,000 sends/s',
    server: { holdMs: 25_000, heartbeatSec: 60, synchronous: 'FULL', scryptN: 2 },
    // Not the per-transport stages (TCP, WebSocket and HTTP at half their
    // peak): stages/peers.ts runs its own shape on TCP at a fixed rate.
    transports: null,
    mixed: null,
    capacity: null,
    abuse: null,
    bare: true,
    peers: {
      own: {
        shape: {
          // 32 devices × a window of 8 = 256 sends in flight at the peak.
          clients: 32,
          // One device per account and no groups: each message has one recipient device, which acknowledges it.
          devicesPerAccount: 1,
          groups: 0,
          groupSize: 0,
          groupSendFraction: 0,
          contentBytes: [100, 100],
          window: 8,
          saturateMs: 6_000,
          halfRateMs: 6_000,
          maxMessages: 300_000,
        },
        fixedRate: 2_000,
      },
    },
    k6: { vus: 1, duration: '1s', sendRate: 1 },
    quiesceTimeoutMs: 30_000,
    thresholds: { ...STRICT, minDurablePerSec: { tcp: 300, ws: 0, http: 0 }, maxP99AtHalfMs: 2_000 },
    maxRunMs: 5 * 60_000,
  },
};

export function profileByName(name: string): Profile {
  const p = (PROFILES as Record<string, Profile | undefined>)[name];
  if (!p) throw new RangeError(`unknown profile '${name}'; known: ${Object.keys(PROFILES).join(', ')}`);
  return p;
}

export interface MixedShape {
  scenario: string;
  accounts: number;
  devicesPerAccount: number;
  tcp: number;
  ws: number;
  http: number;
  groups: number;
  groupSize: number;
  groupSendFraction: number;
  contentBytes: [number, number];
  rate: number;
}

/** The mixed stage's population and rate, from its scenario's workload. */
export function mixedShape(m: MixedStage): MixedShape {
  const w: Workload = scenarioByName(m.scenario).workload;
  const accounts = Math.max(2, Math.round(w.accounts * m.accountsScale));
  // Whole devices per account, the scenario's mean, within the server's limit of 8.
  const devicesPerAccount = Math.min(8, Math.max(1, Math.round((w.devicesPerAccount[0] + w.devicesPerAccount[1]) / 2)));
  const devices = accounts * devicesPerAccount;
  const total = w.transports.tcp + w.transports.ws + w.transports.http;
  const tcp = Math.round((devices * w.transports.tcp) / total);
  const ws = Math.round((devices * w.transports.ws) / total);
  const http = Math.max(0, devices - tcp - ws);
  return {
    scenario: m.scenario,
    accounts,
    devicesPerAccount,
    tcp,
    ws,
    http,
    groups: Math.max(0, Math.round(w.groups * m.accountsScale)),
    groupSize: Math.min(w.groupSize, accounts),
    groupSendFraction: w.groupSendFraction,
    // The content carries a ~30-byte header (id and send time); smaller sizes are padded up to it.
    contentBytes: [Math.max(40, w.contentBytes[0]), Math.max(40, w.contentBytes[1])],
    rate: w.sendsPerSecond * m.rateScale,
  };
}
