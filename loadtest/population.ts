// The Node load driver. A population of devices (TCP long links, WebSocket
// long links and web HTTP clients), each the reference ClientCore on
// NetClient, logged into accounts registered first; phases of sends on top:
//
//   open      Poisson arrivals at a fixed rate across all senders (an open
//             model: the offered load does not wait for the server)
//   saturate  every sender keeps `window` sends unanswered (a closed loop),
//             to find the peak
//
// Every message's content carries its id and send time, so each recipient
// device measures send-to-delivery latency; the sender measures send-to-ack.
// At the end of a phase the driver waits (bounded) for quiescence and checks
// that every acknowledged message reached every recipient device and the
// sender's other devices exactly once. Bare baselines (echo servers) run the
// same phase shapes with raw clients, so results read as ratios.
//
// Loopback only: any host outside 127.0.0.0/8, localhost and ::1 is refused.
// Bounded: every phase has a maximum duration and message count, and the
// quiescence wait has a timeout; nothing here runs on by itself.
import http from 'node:http';
import net from 'node:net';
import * as hdr from 'hdr-histogram-js';
import seedrandom from 'seedrandom';
import type { ClientConfig } from '../client/core/client-config.ts';
import type { ClientEvent, ClientTransport } from '../client/core/client-core.ts';
import type { MessageItem } from '../client/core/client-state.ts';
import { NetClient, parseHostPort, parseServerUrl, registerAccount } from '../client/net/net-client.ts';
import { RawTcpLink, RawWsLink, post, type RawLink } from '../server/bench/baselines.ts';
import { Op } from '../server/wire/packet.ts';
import type { ProcSample } from './memory.ts';

// ------------------------------------------------------------ loopback only

/** Throws unless `host` is a loopback address: 127.0.0.0/8, localhost or ::1. */
export function assertLoopback(host: string): void {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const ok = h === 'localhost' || h === '::1' || (net.isIPv4(h) && h.split('.')[0] === '127');
  if (!ok) throw new RangeError(`load tests run on loopback only (127.0.0.0/8, localhost, ::1); refusing '${host}'`);
}

// ------------------------------------------------------------ shapes

export interface Target {
  /** HTTP base URL (the WebSocket long link is at /longlink on it). */
  server: string;
  /** TCP long link, host:port. */
  tcp: string;
  /** Samples the server process (memory, CPU, and its own counters when it reports them). */
  sample?: () => Promise<ServerSample | undefined>;
}

export interface ServerSample extends ProcSample {
  openLinks?: number;
  commits?: number;
}

export interface PopulationSpec {
  /** Account name prefix: [A-Za-z0-9_-], short (names are prefix + index, at most 32 characters). */
  prefix: string;
  tcp: number;
  ws: number;
  http: number;
  /** Devices are dealt to accounts round robin; an account gets about this many (at most 8, the server's limit). */
  devicesPerAccount: number;
  groups: number;
  groupSize: number;
  password?: string;
  /** Devices starting their login at once (default 200). */
  loginBatch?: number;
  /** Registrations in flight at once (default 16). */
  registerConcurrency?: number;
  /** Limit for the whole login (default 120 s). */
  loginTimeoutMs?: number;
  clientConfig?: Partial<ClientConfig>;
  seed?: string;
  /** Called after registration, before any device logs in (e.g. to sample the server's memory). */
  onRegistered?: () => Promise<void>;
}

export interface PhaseSpec {
  name: string;
  mode: 'open' | 'saturate';
  /** open: messages per second across all senders. */
  rate?: number;
  /** saturate: unanswered sends each sender keeps (default 4). */
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

// ------------------------------------------------------------ measuring

const now = (): number => performance.now();

function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
}

function summarize(h: hdr.Histogram): LatencySummary {
  const ms = (us: number): number => Math.round(us) / 1000;
  if (h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
    mean: ms(h.mean),
  };
}

const us = (ms: number): number => Math.max(1, Math.round(ms * 1000));

/** Per-second counters and latency of one phase. */
class Recorder {
  readonly t0 = now();
  readonly delivery = histogram();
  readonly ack = histogram();
  readonly seconds: Array<{ offered: number; acked: number; durable: number; deliveries: number; h: hdr.Histogram }> = [];
  lastDurableAt = 0;

  #sec(at: number): { offered: number; acked: number; durable: number; deliveries: number; h: hdr.Histogram } {
    const i = Math.max(0, Math.floor((at - this.t0) / 1000));
    while (this.seconds.length <= i) {
      this.seconds.push({ offered: 0, acked: 0, durable: 0, deliveries: 0, h: hdr.build({ numberOfSignificantValueDigits: 2 }) });
    }
    return this.seconds[i]!;
  }

  offered(at: number): void {
    this.#sec(at).offered++;
  }

  acked(at: number, latencyMs: number): void {
    this.#sec(at).acked++;
    this.ack.recordValue(us(latencyMs));
  }

  delivered(at: number, latencyMs: number): void {
    const s = this.#sec(at);
    s.deliveries++;
    s.h.recordValue(us(latencyMs));
    this.delivery.recordValue(us(latencyMs));
  }

  durable(at: number): void {
    this.#sec(at).durable++;
    this.lastDurableAt = Math.max(this.lastDurableAt, at);
  }

  /** Per-second rates; the last, partial second is scaled by its length (and left out if shorter than 0.25 s). */
  timeline(endMs: number): TimelinePoint[] {
    const out: TimelinePoint[] = [];
    this.seconds.forEach((s, i) => {
      const len = Math.min(1, (endMs - i * 1000) / 1000);
      if (len < 0.25) return;
      const r = (x: number): number => Math.round((x / len) * 10) / 10;
      out.push({
        t: i,
        offered: r(s.offered),
        acked: r(s.acked),
        durable: r(s.durable),
        deliveries: r(s.deliveries),
        p50Ms: s.h.totalCount ? s.h.getValueAtPercentile(50) / 1000 : 0,
        p99Ms: s.h.totalCount ? s.h.getValueAtPercentile(99) / 1000 : 0,
      });
    });
    return out;
  }

  destroy(): void {
    this.delivery.destroy();
    this.ack.destroy();
    for (const s of this.seconds) s.h.destroy();
  }
}

/** Samples the server every `everyMs` until stopped. */
function sampler(
  target: { sample?: () => Promise<ServerSample | undefined> },
  t0: number,
  everyMs: number,
): { stop: () => Promise<MemoryPoint[]>; cpu: () => number | undefined; commits: () => number | undefined } {
  const points: MemoryPoint[] = [];
  let first: ServerSample | undefined;
  let last: ServerSample | undefined;
  let firstAt = 0;
  let lastAt = 0;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const take = async (): Promise<void> => {
    const s = await target.sample?.().catch(() => undefined);
    if (!s) return;
    const at = now();
    if (!first) {
      first = s;
      firstAt = at;
    }
    last = s;
    lastAt = at;
    points.push({
      t: Math.round(at - t0) / 1000,
      rssBytes: s.rssBytes,
      ...(s.heapUsedBytes !== undefined ? { heapUsedBytes: s.heapUsedBytes } : {}),
      ...(s.openLinks !== undefined ? { openLinks: s.openLinks } : {}),
    });
  };
  const timer = setInterval(() => {
    if (!stopped) running = running.then(take);
  }, everyMs);
  running = running.then(take);
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      running = running.then(take);
      await running;
      return points;
    },
    commits: () => (first?.commits !== undefined && last?.commits !== undefined ? last.commits - first.commits : undefined),
    cpu: () =>
      first?.cpuMs !== undefined && last?.cpuMs !== undefined && lastAt > firstAt
        ? Math.round(((last.cpuMs - first.cpuMs) / (lastAt - firstAt)) * 1000) / 10
        : undefined,
  };
}

// ------------------------------------------------------------ content

/** `lt:<id>:<send time, ms>:` then padding. */
export function encodeContent(id: number, sentAtMs: number, bytes: number): string {
  const head = `lt:${id}:${sentAtMs.toFixed(3)}:`;
  return head.length >= bytes ? head : head + 'x'.repeat(bytes - head.length);
}

export function decodeContent(content: string): { id: number; sentAtMs: number } | undefined {
  const m = /^lt:(\d+):(\d+\.\d+):/.exec(content);
  return m ? { id: Number(m[1]), sentAtMs: Number(m[2]) } : undefined;
}

/** Exponential inter-arrival time (ms) of a Poisson process of `ratePerSec`. */
export function interArrivalMs(ratePerSec: number, u: number): number {
  return (-Math.log(1 - u) / ratePerSec) * 1000;
}

// ------------------------------------------------------------ the population

interface Dev {
  idx: number;
  account: number;
  transport: ClientTransport;
  client: NetClient;
  ready: boolean;
  /** localId → message id of its sends not yet answered. */
  pending: Map<string, number>;
}

interface Account {
  idx: number;
  name: string;
  devices: number[];
  groups: number[];
}

interface Group {
  name: string;
  members: number[];
  memberSet: Set<number>;
}

interface Rec {
  id: number;
  sender: number;
  senderAccount: number;
  /** Recipient account, or -1 for a group. */
  toAccount: number;
  group: number;
  sentAt: number;
  expected: number;
  got: number;
  /** device → deliveries. */
  seen: Map<number, number>;
  acked: boolean;
  msgId: number;
  failed: boolean;
  durable: boolean;
}

export interface PopulationInfo {
  accounts: number;
  devices: { tcp: number; ws: number; http: number };
  groups: number;
  registerMs: number;
  loginMs: number;
}

const DEFAULT_CLIENT_CONFIG: Partial<ClientConfig> = {
  retryBaseMs: 200,
  retryMaxMs: 5_000,
  reconnectBaseMs: 200,
  reconnectMaxMs: 5_000,
  maxSendAttempts: 30,
  maxInbox: 5_000,
};

export class Population {
  readonly devs: Dev[] = [];
  readonly accounts: Account[] = [];
  readonly groups: Group[] = [];
  info!: PopulationInfo;
  readonly #target: Target;
  readonly #spec: PopulationSpec;
  readonly #rand: () => number;
  readonly #log: (line: string) => void;
  readonly #recs = new Map<number, Rec>();
  #nextId = 1;
  /** The phase now receiving events. */
  #phase: PhaseState | undefined;
  #closed = false;
  /** Deliveries of messages this driver did not send (none expected) or sent in no known phase. */
  foreign = 0;

  private constructor(target: Target, spec: PopulationSpec, log: (line: string) => void) {
    this.#target = target;
    this.#spec = spec;
    this.#rand = seedrandom(spec.seed ?? `${spec.prefix}-seed`);
    this.#log = log;
  }

  /** Registers the accounts, logs every device in (in batches) and creates the groups. */
  static async create(target: Target, spec: PopulationSpec, log: (line: string) => void = () => {}): Promise<Population> {
    assertLoopback(parseServerUrl(target.server).host);
    assertLoopback(parseHostPort(target.tcp).host);
    if (!/^[A-Za-z0-9_-]{1,20}$/.test(spec.prefix)) throw new RangeError(`population prefix must be 1-20 of [A-Za-z0-9_-], got '${spec.prefix}'`);
    if (spec.devicesPerAccount < 1 || spec.devicesPerAccount > 8) throw new RangeError(`devicesPerAccount must be 1..8, got ${spec.devicesPerAccount}`);
    const p = new Population(target, spec, log);
    try {
      await p.#setUp();
    } catch (e) {
      p.close();
      throw e;
    }
    return p;
  }

  async #setUp(): Promise<void> {
    const s = this.#spec;
    const total = s.tcp + s.ws + s.http;
    if (total < 1) throw new RangeError('a population needs at least one device');
    const nAccounts = Math.max(1, Math.ceil(total / s.devicesPerAccount));
    const password = s.password ?? 'load-test-password';
    for (let i = 0; i < nAccounts; i++) this.accounts.push({ idx: i, name: `${s.prefix}${i}`, devices: [], groups: [] });

    const t0 = now();
    const agent = new http.Agent({ keepAlive: true, maxSockets: s.registerConcurrency ?? 16 });
    try {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < nAccounts) {
          const a = this.accounts[next++]!;
          const r = await registerAccount(this.#target.server, a.name, password, undefined, agent);
          if (r.ret !== 0 && r.ret !== 1104) throw new Error(`register ${a.name}: Ret ${r.ret} ${r.errMsg}`);
        }
      };
      await Promise.all(Array.from({ length: s.registerConcurrency ?? 16 }, worker));
    } finally {
      agent.destroy();
    }
    const registerMs = now() - t0;
    await s.onRegistered?.();

    const transports: ClientTransport[] = [
      ...Array<ClientTransport>(s.tcp).fill('tcp'),
      ...Array<ClientTransport>(s.ws).fill('ws'),
      ...Array<ClientTransport>(s.http).fill('http'),
    ];
    const config = { ...DEFAULT_CLIENT_CONFIG, ...s.clientConfig };
    transports.forEach((transport, idx) => {
      const account = idx % nAccounts;
      const a = this.accounts[account]!;
      const dev: Dev = {
        idx,
        account,
        transport,
        ready: false,
        pending: new Map(),
        client: new NetClient({
          userName: a.name,
          password,
          deviceId: `${transport}${idx}`,
          transport,
          server: this.#target.server,
          tcp: this.#target.tcp,
          config,
          onEvent: (e) => this.#event(dev, e),
        }),
      };
      a.devices.push(idx);
      this.devs.push(dev);
    });

    const t1 = now();
    const batch = s.loginBatch ?? 200;
    const deadline = t1 + (s.loginTimeoutMs ?? 120_000);
    for (let i = 0; i < this.devs.length; i += batch) {
      const group = this.devs.slice(i, i + batch);
      for (const d of group) d.client.start();
      await until(() => group.every((d) => d.ready), deadline - now(), () => `${group.filter((d) => !d.ready).length} of ${group.length} devices to log in (batch at ${i})`);
      if ((i / batch) % 10 === 9) this.#log(`  ${i + group.length} of ${this.devs.length} devices logged in`);
    }
    const loginMs = now() - t1;

    // Groups: members drawn from the accounts; the first member's first device creates it.
    for (let g = 0; g < s.groups && nAccounts >= 2; g++) {
      const size = Math.min(s.groupSize, nAccounts);
      const members = this.#pick(size, nAccounts);
      const creator = this.devs[this.accounts[members[0]!]!.devices[0]!]!;
      const before = this.groups.length;
      let name = '';
      const waitFor = (e: ClientEvent): void => {
        if (e.kind === 'groupCreated') name = e.chatRoomName;
      };
      this.#groupWaiters.set(creator.idx, waitFor);
      creator.client.createChatRoom(members.slice(1).map((m) => this.accounts[m]!.name), `${s.prefix} group ${g}`);
      await until(() => name !== '', 15_000, () => `group ${g} to be created`);
      this.#groupWaiters.delete(creator.idx);
      this.groups.push({ name, members, memberSet: new Set(members) });
      for (const m of members) this.accounts[m]!.groups.push(before);
    }
    this.info = {
      accounts: nAccounts,
      devices: { tcp: s.tcp, ws: s.ws, http: s.http },
      groups: this.groups.length,
      registerMs: Math.round(registerMs),
      loginMs: Math.round(loginMs),
    };
  }

  readonly #groupWaiters = new Map<number, (e: ClientEvent) => void>();

  /** `k` distinct indexes in [0, n). */
  #pick(k: number, n: number): number[] {
    const out = new Set<number>();
    while (out.size < k) out.add(Math.floor(this.#rand() * n));
    return [...out];
  }

  #event(d: Dev, e: ClientEvent): void {
    switch (e.kind) {
      case 'loggedIn':
        d.ready = true;
        break;
      case 'applied':
        this.#applied(d, e.msg);
        break;
      case 'sendAcked':
        this.#answered(d, e.localId, e.msgId);
        break;
      case 'sendFailed':
        this.#answered(d, e.localId, undefined);
        break;
      case 'groupCreated':
        this.#groupWaiters.get(d.idx)?.(e);
        break;
      case 'sessionLost':
        this.#log(`  device ${d.idx} (${d.transport}) lost its session: Ret ${e.ret}`);
        break;
      default:
        break;
    }
  }

  #applied(d: Dev, m: MessageItem): void {
    const c = decodeContent(m.Content);
    const rec = c ? this.#recs.get(c.id) : undefined;
    if (!rec) {
      this.foreign++;
      return;
    }
    const ph = this.#phase;
    const n = (rec.seen.get(d.idx) ?? 0) + 1;
    rec.seen.set(d.idx, n);
    if (n > 1) {
      if (ph) ph.duplicated++;
      return;
    }
    if (rec.acked && m.MsgId !== rec.msgId && ph) ph.mismatched++;
    if (d.idx === rec.sender || !this.#expects(rec, d)) return;
    rec.got++;
    const at = now();
    ph?.rec.delivered(at, at - rec.sentAt);
    this.#maybeDurable(rec, at);
  }

  #answered(d: Dev, localId: string, msgId: number | undefined): void {
    const id = d.pending.get(localId);
    if (id === undefined) return;
    d.pending.delete(localId);
    const rec = this.#recs.get(id);
    if (!rec) return;
    const ph = this.#phase;
    const at = now();
    if (msgId === undefined) {
      rec.failed = true;
      if (ph) ph.failed++;
    } else {
      rec.acked = true;
      rec.msgId = msgId;
      if (ph) {
        ph.acked++;
        ph.rec.acked(at, at - rec.sentAt);
      }
      this.#maybeDurable(rec, at);
    }
    ph?.onAnswer(d);
  }

  #maybeDurable(rec: Rec, at: number): void {
    if (rec.durable || !rec.acked || rec.got < rec.expected) return;
    rec.durable = true;
    const ph = this.#phase;
    if (ph) {
      ph.durable++;
      ph.rec.durable(at);
    }
  }

  /** Devices meant to receive `rec`: every device of the recipient accounts and of the sender's account, but the sending one. */
  #expects(rec: Rec, d: Dev): boolean {
    if (d.account === rec.senderAccount) return true;
    if (rec.group >= 0) return this.groups[rec.group]!.memberSet.has(d.account);
    return d.account === rec.toAccount;
  }

  #expectedCount(senderAccount: number, toAccount: number, group: number): number {
    let n = this.accounts[senderAccount]!.devices.length - 1;
    if (group >= 0) {
      for (const m of this.groups[group]!.members) if (m !== senderAccount) n += this.accounts[m]!.devices.length;
    } else if (toAccount !== senderAccount) n += this.accounts[toAccount]!.devices.length;
    return n;
  }

  /** One send from device `d` to a random peer (or one of its groups). */
  #sendFrom(d: Dev, ph: PhaseState): void {
    const a = this.accounts[d.account]!;
    let group = -1;
    let toAccount = -1;
    if (a.groups.length > 0 && this.#rand() < ph.groupSendFraction) {
      group = a.groups[Math.floor(this.#rand() * a.groups.length)]!;
    } else if (this.accounts.length === 1) {
      toAccount = d.account;
    } else {
      toAccount = Math.floor(this.#rand() * (this.accounts.length - 1));
      if (toAccount >= d.account) toAccount++;
    }
    const id = this.#nextId++;
    const at = now();
    const [lo, hi] = ph.contentBytes;
    const bytes = lo + Math.floor(this.#rand() * (hi - lo + 1));
    const rec: Rec = {
      id,
      sender: d.idx,
      senderAccount: d.account,
      toAccount,
      group,
      sentAt: at,
      expected: this.#expectedCount(d.account, toAccount, group),
      got: 0,
      seen: new Map(),
      acked: false,
      msgId: 0,
      failed: false,
      durable: false,
    };
    this.#recs.set(id, rec);
    ph.recs.push(rec);
    ph.sent++;
    ph.rec.offered(at);
    const to = group >= 0 ? this.groups[group]!.name : this.accounts[toAccount]!.name;
    const localId = d.client.send(to, encodeContent(id, at, bytes));
    d.pending.set(localId, id);
  }

  /** Runs one phase of sends, then waits for quiescence and checks delivery. */
  async run(spec: PhaseSpec): Promise<PhaseResult> {
    if (this.#closed) throw new Error('population is closed');
    const senders = this.devs.filter((d) => !spec.senders || spec.senders.includes(d.transport));
    if (senders.length === 0) throw new RangeError(`phase ${spec.name}: no devices of ${spec.senders?.join('/')} to send from`);
    const ph = new PhaseState(spec);
    this.#phase = ph;
    const cpu0 = process.cpuUsage();
    const stats0 = this.#clientStats();
    const samples = sampler(this.#target, ph.rec.t0, spec.sampleEveryMs ?? 500);
    const endAt = ph.rec.t0 + spec.durationMs;
    const open = (): boolean => now() < endAt && ph.sent < spec.maxMessages && !this.#closed;

    if (spec.mode === 'saturate') {
      const window = spec.window ?? 4;
      const sending = new Set(senders);
      ph.onAnswer = (d) => {
        if (open() && sending.has(d)) this.#sendFrom(d, ph);
      };
      for (let k = 0; k < window; k++) for (const d of senders) if (open()) this.#sendFrom(d, ph);
      await until(() => !open(), spec.durationMs + 1000, () => 'the send window to close');
    } else {
      const rate = spec.rate ?? 0;
      if (!(rate > 0)) throw new RangeError(`phase ${spec.name}: an open phase needs a rate > 0`);
      let next = ph.rec.t0;
      await new Promise<void>((resolve) => {
        const pump = (): void => {
          const t = now();
          while (next <= t && open()) {
            this.#sendFrom(senders[Math.floor(this.#rand() * senders.length)]!, ph);
            next += interArrivalMs(rate, this.#rand());
          }
          if (!open()) return resolve();
          setTimeout(pump, Math.max(0, Math.min(next - now(), 100)));
        };
        pump();
      });
    }
    const sendWindowMs = now() - ph.rec.t0;
    ph.onAnswer = () => {};

    // Quiescence: nothing left to send, every acknowledged message delivered everywhere.
    const busy = (): boolean => this.devs.some((d) => d.client.core.outbox().some((e) => e.state !== 'failed'));
    const incomplete = (): number => ph.recs.reduce((n, r) => n + (r.acked && !r.durable ? 1 : 0), 0);
    let quiesced = true;
    try {
      await until(() => !busy() && incomplete() === 0, spec.quiesceTimeoutMs ?? 30_000, () => `quiescence: ${incomplete()} acknowledged messages not yet everywhere`, 50);
    } catch (e) {
      quiesced = false;
      this.#log(`  ${spec.name}: ${(e as Error).message}`);
    }
    const elapsedMs = now() - ph.rec.t0;
    const memory = await samples.stop();
    this.#phase = undefined;
    const cpu = process.cpuUsage(cpu0);
    const stats1 = this.#clientStats();

    let lost = 0;
    let unanswered = 0;
    for (const r of ph.recs) {
      if (r.acked) lost += Math.max(0, r.expected - r.got);
      else if (!r.failed) unanswered++;
    }
    const durableMs = ph.rec.lastDurableAt > 0 ? ph.rec.lastDurableAt - ph.rec.t0 : 0;
    const result: PhaseResult = {
      name: spec.name,
      kind: 'synckey',
      mode: spec.mode,
      ...(spec.mode === 'open' ? { offeredRate: spec.rate! } : { window: spec.window ?? 4 }),
      clients: senders.length,
      sendWindowMs: Math.round(sendWindowMs),
      elapsedMs: Math.round(elapsedMs),
      sent: ph.sent,
      acked: ph.acked,
      failed: ph.failed,
      unanswered,
      durable: ph.durable,
      lost,
      duplicated: ph.duplicated,
      mismatched: ph.mismatched,
      quiesced,
      ackedPerSec: round1((ph.acked / Math.max(1, sendWindowMs)) * 1000),
      durablePerSec: durableMs > 0 ? round1((ph.durable / durableMs) * 1000) : 0,
      deliveryLatencyMs: summarize(ph.rec.delivery),
      ackLatencyMs: summarize(ph.rec.ack),
      timeline: ph.rec.timeline(elapsedMs),
      memory,
      ...(samples.cpu() !== undefined ? { serverCpuPct: samples.cpu()! } : {}),
      ...(samples.commits() ? { serverCommits: { commits: samples.commits()!, msgsPerCommit: round1(ph.acked / samples.commits()!) } } : {}),
      driverCpuPct: round1(((cpu.user + cpu.system) / 1000 / elapsedMs) * 100),
      httpFailures: stats1.httpFailures - stats0.httpFailures,
      linkDrops: stats1.linkDrops - stats0.linkDrops,
      linkReconnects: stats1.linkConnects - stats0.linkConnects,
    };
    ph.rec.destroy();
    // What the phase sent is settled: forget the records (a late duplicate would count as foreign).
    for (const r of ph.recs) this.#recs.delete(r.id);
    for (const d of this.devs) d.pending.clear();
    return result;
  }

  #clientStats(): { httpFailures: number; linkDrops: number; linkConnects: number } {
    let httpFailures = 0;
    let linkDrops = 0;
    let linkConnects = 0;
    for (const d of this.devs) {
      httpFailures += d.client.stats.httpFailures;
      linkDrops += d.client.stats.linkDrops;
      linkConnects += d.client.stats.linkConnects;
    }
    return { httpFailures, linkDrops, linkConnects };
  }

  /** Holds the population idle for `ms` (heartbeats only), sampling the server; returns the samples and the links dropped or reconnected meanwhile. */
  async idle(ms: number, sampleEveryMs = 1000): Promise<{ memory: MemoryPoint[]; linkDrops: number; ready: number }> {
    const s0 = this.#clientStats();
    const samples = sampler(this.#target, now(), sampleEveryMs);
    await new Promise((r) => setTimeout(r, ms));
    const memory = await samples.stop();
    const s1 = this.#clientStats();
    return { memory, linkDrops: s1.linkDrops - s0.linkDrops + (s1.linkConnects - s0.linkConnects), ready: this.devs.filter((d) => d.client.core.state === 'ready').length };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const d of this.devs) d.client.close();
  }
}

class PhaseState {
  readonly rec = new Recorder();
  readonly recs: Rec[] = [];
  readonly groupSendFraction: number;
  readonly contentBytes: [number, number];
  sent = 0;
  acked = 0;
  failed = 0;
  durable = 0;
  duplicated = 0;
  mismatched = 0;
  onAnswer: (d: Dev) => void = () => {};

  constructor(spec: PhaseSpec) {
    this.groupSendFraction = spec.groupSendFraction ?? 0;
    this.contentBytes = spec.contentBytes ?? [64, 64];
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

export function until(f: () => boolean, ms: number, what: () => string, everyMs = 10): Promise<void> {
  const t0 = now();
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (f()) return resolve();
      if (now() - t0 > ms) return reject(new Error(`timed out after ${Math.round(ms)} ms waiting for ${what()}`));
      setTimeout(poll, everyMs);
    };
    poll();
  });
}

// ------------------------------------------------------------ bare baselines

export interface BareTarget {
  kind: 'tcp' | 'ws' | 'http';
  host: string;
  port: number;
  sample?: () => Promise<ServerSample | undefined>;
}

/**
 * The same phase shape against a bare echo server with raw clients: a send
 * is one packet (or POST) of the same size; its "ack" and its "delivery" are
 * the echo (answer) coming back.
 */
export async function runBarePhase(target: BareTarget, clients: number, spec: PhaseSpec): Promise<PhaseResult> {
  assertLoopback(target.host);
  const rand = seedrandom(`bare-${spec.name}`);
  const links: RawLink[] = [];
  const agents: http.Agent[] = [];
  try {
    if (target.kind === 'tcp') {
      for (let i = 0; i < clients; i++) links.push(await RawTcpLink.connect(target.port, target.host));
    } else if (target.kind === 'ws') {
      const h = target.host.includes(':') ? `[${target.host}]` : target.host;
      for (let i = 0; i < clients; i++) links.push(await RawWsLink.connect(`ws://${h}:${target.port}/longlink`));
    } else {
      for (let i = 0; i < clients; i++) agents.push(new http.Agent({ keepAlive: true, maxSockets: 4 }));
    }
    for (const l of links) l.onBroken = () => {};
    const rec = new Recorder();
    const cpu0 = process.cpuUsage();
    const samples = sampler(target, rec.t0, spec.sampleEveryMs ?? 500);
    const endAt = rec.t0 + spec.durationMs;
    let sent = 0;
    let answered = 0;
    let failed = 0;
    const open = (): boolean => now() < endAt && sent < spec.maxMessages;
    const [lo, hi] = spec.contentBytes ?? [64, 64];
    const one = (c: number): Promise<void> => {
      const id = ++sent;
      const at = now();
      rec.offered(at);
      const msg = { ClientMsgId: `b${id}`, ToUserName: `peer${c}`, Type: 1, Content: encodeContent(id, at, lo + Math.floor(rand() * (hi - lo + 1))) };
      const p: Promise<unknown> =
        target.kind === 'http'
          ? post(agents[c]!, target.host, target.port, '/cgi-bin/mmwebwx-bin/webwxsendmsg', { BaseRequest: {}, Msg: msg, Scene: 0 })
          : links[c]!.call(Op.Send, msg);
      return p.then(
        () => {
          const t = now();
          answered++;
          rec.acked(t, t - at);
          rec.delivered(t, t - at);
          rec.durable(t);
        },
        () => {
          failed++;
        },
      );
    };
    const inflight = new Set<Promise<void>>();
    const track = (p: Promise<void>): void => {
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    };
    if (spec.mode === 'saturate') {
      const window = spec.window ?? 4;
      await Promise.all(
        Array.from({ length: clients * window }, async (_, k) => {
          const c = k % clients;
          while (open()) await one(c);
        }),
      );
    } else {
      const rate = spec.rate ?? 0;
      if (!(rate > 0)) throw new RangeError(`phase ${spec.name}: an open phase needs a rate > 0`);
      let next = rec.t0;
      await new Promise<void>((resolve) => {
        const pump = (): void => {
          const t = now();
          while (next <= t && open()) {
            track(one(Math.floor(rand() * clients)));
            next += interArrivalMs(rate, rand());
          }
          if (!open()) return resolve();
          setTimeout(pump, Math.max(0, Math.min(next - now(), 100)));
        };
        pump();
      });
    }
    const sendWindowMs = now() - rec.t0;
    let quiesced = true;
    try {
      await until(() => inflight.size === 0, spec.quiesceTimeoutMs ?? 30_000, () => `${inflight.size} answers`, 10);
    } catch {
      quiesced = false;
    }
    const elapsedMs = now() - rec.t0;
    const memory = await samples.stop();
    const cpu = process.cpuUsage(cpu0);
    const durableMs = rec.lastDurableAt > 0 ? rec.lastDurableAt - rec.t0 : 0;
    const result: PhaseResult = {
      name: spec.name,
      kind: `bare-${target.kind}`,
      mode: spec.mode,
      ...(spec.mode === 'open' ? { offeredRate: spec.rate! } : { window: spec.window ?? 4 }),
      clients,
      sendWindowMs: Math.round(sendWindowMs),
      elapsedMs: Math.round(elapsedMs),
      sent,
      acked: answered,
      failed,
      unanswered: sent - answered - failed,
      durable: answered,
      lost: 0,
      duplicated: 0,
      mismatched: 0,
      quiesced,
      ackedPerSec: round1((answered / Math.max(1, sendWindowMs)) * 1000),
      durablePerSec: durableMs > 0 ? round1((answered / durableMs) * 1000) : 0,
      deliveryLatencyMs: summarize(rec.delivery),
      ackLatencyMs: summarize(rec.ack),
      timeline: rec.timeline(elapsedMs),
      memory,
      ...(samples.cpu() !== undefined ? { serverCpuPct: samples.cpu()! } : {}),
      driverCpuPct: round1(((cpu.user + cpu.system) / 1000 / elapsedMs) * 100),
      httpFailures: target.kind === 'http' ? failed : 0,
      linkDrops: 0,
      linkReconnects: 0,
    };
    rec.destroy();
    return result;
  } finally {
    for (const l of links) l.destroy();
    for (const a of agents) a.destroy();
  }
}

/** Opens `n` idle raw TCP connections (for the capacity baseline); resolves with them once all are connected. */
export async function openIdleSockets(host: string, port: number, n: number, concurrency = 256): Promise<net.Socket[]> {
  assertLoopback(host);
  const sockets: net.Socket[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      const s = await new Promise<net.Socket>((resolve, reject) => {
        const x = net.connect(port, host, () => {
          x.off('error', reject);
          resolve(x);
        });
        x.once('error', reject);
      });
      s.on('error', () => {});
      sockets.push(s);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } catch (e) {
    for (const s of sockets) s.destroy();
    throw e;
  }
  return sockets;
}
