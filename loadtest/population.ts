// The population of the Node load driver: TCP long-link, WebSocket long-link
// and web HTTP devices, each the reference ClientCore on NetClient, logged
// into accounts registered first, and groups among those accounts. Its
// devices' events feed the delivery ledger; phases of sends run on top
// (phase-runner.ts).
import http from 'node:http';
import seedrandom from 'seedrandom';
import type { ClientConfig } from '../client/core/client-config.ts';
import type { ClientEvent, ClientTransport } from '../client/core/client-core.ts';
import { NetClient } from '../client/net/net-client.ts';
import { registerAccount } from '../client/net/register-account.ts';
import { parseHostPort, parseServerUrl } from '../client/net/server-address.ts';
import { DEFAULT_CORE_CONFIG } from '../server/core/config.ts';
import { Ret } from '../server/core/ret.ts';
import { DeliveryLedger } from './delivery-ledger.ts';
import { assertLoopback } from './loopback.ts';
import type { Account, Dev, Group } from './members.ts';
import type { MemoryPoint } from './phase.ts';
import { sampler } from './sampler.ts';
import type { Target } from './target.ts';
import { until } from './wait-until.ts';

const DEFAULT_PASSWORD = 'load-test-password';
const DEFAULT_LOGIN_BATCH = 200;
const DEFAULT_REGISTER_CONCURRENCY = 16;
const DEFAULT_LOGIN_TIMEOUT_MS = 120_000;
const GROUP_CREATE_TIMEOUT_MS = 15_000;
/** Progress is logged every this many login batches. */
const LOG_EVERY_BATCHES = 10;

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

/** Driver-side counters summed over the devices. */
export interface ClientStats {
  httpFailures: number;
  linkDrops: number;
  linkConnects: number;
}

export class Population {
  readonly devs: Dev[] = [];
  readonly accounts: Account[] = [];
  readonly groups: Group[] = [];
  readonly ledger = new DeliveryLedger(this.groups);
  info!: PopulationInfo;
  readonly target: Target;
  /** Seeded by the spec: group members and every phase's choices of sender, peer and size. */
  readonly rand: () => number;
  readonly log: (line: string) => void;
  readonly #spec: PopulationSpec;
  readonly #groupWaiters = new Map<number, (e: ClientEvent) => void>();
  #closed = false;

  private constructor(target: Target, spec: PopulationSpec, log: (line: string) => void) {
    this.target = target;
    this.#spec = spec;
    this.rand = seedrandom(spec.seed ?? `${spec.prefix}-seed`);
    this.log = log;
  }

  /** Registers the accounts, logs every device in (in batches) and creates the groups. */
  static async create(target: Target, spec: PopulationSpec, log: (line: string) => void = () => {}): Promise<Population> {
    assertLoopback(parseServerUrl(target.server).host);
    assertLoopback(parseHostPort(target.tcp).host);
    if (!/^[A-Za-z0-9_-]{1,20}$/.test(spec.prefix)) throw new RangeError(`population prefix must be 1-20 of [A-Za-z0-9_-], got '${spec.prefix}'`);
    const maxDevices = DEFAULT_CORE_CONFIG.maxDevicesPerAccount;
    if (spec.devicesPerAccount < 1 || spec.devicesPerAccount > maxDevices) {
      throw new RangeError(`devicesPerAccount must be 1..${maxDevices}, got ${spec.devicesPerAccount}`);
    }
    const p = new Population(target, spec, log);
    try {
      await p.#setUp();
    } catch (e) {
      p.close();
      throw e;
    }
    return p;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async #setUp(): Promise<void> {
    const s = this.#spec;
    const total = s.tcp + s.ws + s.http;
    if (total < 1) throw new RangeError('a population needs at least one device');
    const nAccounts = Math.max(1, Math.ceil(total / s.devicesPerAccount));
    const password = s.password ?? DEFAULT_PASSWORD;
    for (let i = 0; i < nAccounts; i++) this.accounts.push({ idx: i, name: `${s.prefix}${i}`, devices: [], groups: [] });

    const t0 = performance.now();
    await this.#register(password, s.registerConcurrency ?? DEFAULT_REGISTER_CONCURRENCY);
    const registerMs = performance.now() - t0;
    await s.onRegistered?.();

    this.#addDevices(password);
    const t1 = performance.now();
    await this.#logIn(t1 + (s.loginTimeoutMs ?? DEFAULT_LOGIN_TIMEOUT_MS));
    const loginMs = performance.now() - t1;

    await this.#createGroups();
    this.info = {
      accounts: nAccounts,
      devices: { tcp: s.tcp, ws: s.ws, http: s.http },
      groups: this.groups.length,
      registerMs: Math.round(registerMs),
      loginMs: Math.round(loginMs),
    };
  }

  /** Registers every account, `concurrency` at a time; a name already taken (by an earlier run) is fine. */
  async #register(password: string, concurrency: number): Promise<void> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    try {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < this.accounts.length) {
          const a = this.accounts[next++]!;
          const r = await registerAccount(this.target.server, a.name, password, undefined, agent);
          if (r.ret !== Ret.Ok && r.ret !== Ret.UserNameTaken) throw new Error(`register ${a.name}: Ret ${r.ret} ${r.errMsg}`);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    } finally {
      agent.destroy();
    }
  }

  /** One client per device, TCP ones first, dealt to the accounts round robin. */
  #addDevices(password: string): void {
    const s = this.#spec;
    const transports: ClientTransport[] = [
      ...Array<ClientTransport>(s.tcp).fill('tcp'),
      ...Array<ClientTransport>(s.ws).fill('ws'),
      ...Array<ClientTransport>(s.http).fill('http'),
    ];
    const config = { ...DEFAULT_CLIENT_CONFIG, ...s.clientConfig };
    transports.forEach((transport, idx) => {
      const account = idx % this.accounts.length;
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
          server: this.target.server,
          tcp: this.target.tcp,
          config,
          onEvent: (e) => this.#event(dev, e),
        }),
      };
      a.devices.push(idx);
      this.devs.push(dev);
    });
  }

  /** Starts the devices batch by batch, each batch once the one before has logged in. */
  async #logIn(deadline: number): Promise<void> {
    const batch = this.#spec.loginBatch ?? DEFAULT_LOGIN_BATCH;
    for (let i = 0; i < this.devs.length; i += batch) {
      const group = this.devs.slice(i, i + batch);
      for (const d of group) d.client.start();
      await until(() => group.every((d) => d.ready), deadline - performance.now(), () => `${group.filter((d) => !d.ready).length} of ${group.length} devices to log in (batch at ${i})`);
      if ((i / batch) % LOG_EVERY_BATCHES === LOG_EVERY_BATCHES - 1) this.log(`  ${i + group.length} of ${this.devs.length} devices logged in`);
    }
  }

  /** Groups: members drawn from the accounts; the first member's first device creates it. */
  async #createGroups(): Promise<void> {
    const s = this.#spec;
    const nAccounts = this.accounts.length;
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
      await until(() => name !== '', GROUP_CREATE_TIMEOUT_MS, () => `group ${g} to be created`);
      this.#groupWaiters.delete(creator.idx);
      this.groups.push({ name, members, memberSet: new Set(members) });
      for (const m of members) this.accounts[m]!.groups.push(before);
    }
  }

  /** `k` distinct indexes in [0, n). */
  #pick(k: number, n: number): number[] {
    const out = new Set<number>();
    while (out.size < k) out.add(Math.floor(this.rand() * n));
    return [...out];
  }

  #event(d: Dev, e: ClientEvent): void {
    switch (e.kind) {
      case 'loggedIn':
        d.ready = true;
        break;
      case 'applied':
        this.ledger.applied(d, e.msg);
        break;
      case 'sendAcked':
        this.ledger.answered(d, e.localId, e.msgId);
        break;
      case 'sendFailed':
        this.ledger.answered(d, e.localId, undefined);
        break;
      case 'groupCreated':
        this.#groupWaiters.get(d.idx)?.(e);
        break;
      case 'sessionLost':
        this.log(`  device ${d.idx} (${d.transport}) lost its session: Ret ${e.ret}`);
        break;
      default:
        break;
    }
  }

  clientStats(): ClientStats {
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
    const s0 = this.clientStats();
    const samples = sampler(this.target, performance.now(), sampleEveryMs);
    await new Promise((r) => setTimeout(r, ms));
    const memory = await samples.stop();
    const s1 = this.clientStats();
    return { memory, linkDrops: s1.linkDrops - s0.linkDrops + (s1.linkConnects - s0.linkConnects), ready: this.devs.filter((d) => d.client.core.state === 'ready').length };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const d of this.devs) d.client.close();
  }
}
