// The honest users present through an attack: a small population of TCP,
// WebSocket and HTTP devices (the reference client) sending at a steady rate
// (open model, so a stalled server shows as latency, not as fewer sends),
// and probes that time round trips: a heartbeat (op 2 → op 3) on a TCP and a
// WebSocket link every few tens of ms, and a webwxsync over HTTP in a loop.
// A probe answer that never comes counts with the time it waited.
import http from 'node:http';
import * as hdr from 'hdr-histogram-js';
import { Op, encodePacket } from '../../../server/wire/packet.ts';
import type { LatencySummary, PhaseResult } from '../../phase.ts';
import { runPhase } from '../../phase-runner.ts';
import { Population, type PopulationInfo } from '../../population.ts';
import { summarize } from '../../recorder.ts';
import type { Target } from '../../target.ts';
import { AttackEnv, httpCall, login, registerAll, type Session } from './attack-kit.ts';
import { AttackLink, type LinkTransport } from './attack-link.ts';

/** The longest a histogram tracks, µs: a minute (a probe never waits longer than the attack). */
const MAX_TRACKABLE_US = 60_000_000;
const HONEST_CONTENT_BYTES: [number, number] = [40, 200];
const HONEST_GROUP_SHARE = 0.2;
/** Honest sends allowed per phase: twice the rate over the duration (a bound, not a target). */
const SEND_BOUND_FACTOR = 2;
const SAMPLE_EVERY_MS = 250;

export interface HonestSpec {
  tcp: number;
  ws: number;
  http: number;
  devicesPerAccount: number;
  rate: number;
  probeEveryMs: number;
  quiesceTimeoutMs: number;
}

export interface HonestResult {
  phase: PhaseResult;
  heartbeatMs: { tcp: LatencySummary; ws: LatencySummary };
  httpMs: LatencySummary;
  /** Probe requests never answered (counted in the latencies with the time they waited). */
  probeTimeouts: number;
  /** Probe links that closed under them. */
  probeDrops: number;
}

function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: MAX_TRACKABLE_US, numberOfSignificantValueDigits: 3 });
}

const record = (h: hdr.Histogram, ms: number): void => h.recordValue(Math.min(MAX_TRACKABLE_US, Math.max(1, Math.round(ms * 1000))));

/** Heartbeats on one link, every `everyMs`, whether or not the last was answered. */
class HeartbeatProbe {
  readonly h = histogram();
  timeouts = 0;
  drops = 0;
  #link: AttackLink | undefined;
  readonly #out = new Map<number, number>();
  #timer: NodeJS.Timeout | undefined;
  #connecting = false;

  constructor(
    private readonly env: AttackEnv,
    private readonly transport: LinkTransport,
    private readonly user: string,
    private readonly deviceId: string,
  ) {}

  async connect(): Promise<void> {
    const l = await AttackLink.connect(this.env, this.transport);
    const ret = await l.auth(this.user, this.env.password, this.deviceId);
    if (ret !== 0) throw new Error(`honest ${this.transport} probe: auth Ret ${ret}`);
    l.onPacket = (p) => {
      if (p.op !== Op.HeartbeatReply) return;
      const at = this.#out.get(p.seq);
      if (at === undefined) return;
      this.#out.delete(p.seq);
      record(this.h, performance.now() - at);
    };
    void l.closed.then(() => {
      if (this.#link === l && this.#timer) this.drops++;
    });
    this.#link = l;
  }

  start(everyMs: number): void {
    this.#timer = setInterval(() => {
      const l = this.#link;
      if (!l || l.isClosed) {
        // Reconnect; what was in flight stays unanswered and counts with the time it waited.
        if (this.#connecting) return;
        this.#link = undefined;
        this.#connecting = true;
        this.connect()
          .catch(() => {})
          .finally(() => (this.#connecting = false));
        return;
      }
      const seq = l.nextSeq();
      this.#out.set(seq, performance.now());
      l.write(encodePacket(Op.Heartbeat, seq));
    }, everyMs);
  }

  /** Stops probing; a heartbeat still out gets up to `graceMs` to come back before it counts as unanswered. */
  async stop(graceMs = 0): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    const until = performance.now() + graceMs;
    while (this.#out.size > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
    const now = performance.now();
    for (const at of this.#out.values()) {
      this.timeouts++;
      record(this.h, now - at);
    }
    this.#out.clear();
  }

  close(): void {
    void this.stop();
    this.#link?.destroy();
    this.h.destroy();
  }
}

/** webwxsync of one web device in a loop, at most one every `everyMs`. */
/** How long a heartbeat out when the phase ends may still take before it counts as unanswered. */
const PROBE_GRACE_MS = 1_000;

class HttpProbe {
  readonly h = histogram();
  timeouts = 0;
  #running = false;
  #loop: Promise<void> = Promise.resolve();
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  #session!: Session;
  #key: unknown = { Count: 0, List: [] };

  constructor(
    private readonly env: AttackEnv,
    private readonly user: string,
  ) {}

  async connect(): Promise<void> {
    const s = await login(this.env, this.#agent, this.user, 'honest-http-probe');
    if (!s) throw new Error('honest HTTP probe: login refused');
    this.#session = s;
  }

  start(everyMs: number): void {
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        const t0 = performance.now();
        const a = await httpCall(this.env, this.#agent, 'POST', '/cgi-bin/mmwebwx-bin/webwxsync', JSON.stringify({ BaseRequest: this.#session, SyncKey: this.#key, rr: 1 }));
        record(this.h, performance.now() - t0);
        if (a.status === 0) this.timeouts++;
        else if (a.json?.BaseResponse?.Ret === 0) this.#key = a.json['SyncKey'];
        await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (performance.now() - t0))));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  close(): void {
    this.#running = false;
    this.#agent.destroy();
    this.h.destroy();
  }
}

export class HonestLoad {
  private constructor(
    readonly pop: Population,
    private readonly tcp: HeartbeatProbe,
    private readonly ws: HeartbeatProbe,
    private readonly web: HttpProbe,
    private readonly spec: HonestSpec,
  ) {}

  get info(): PopulationInfo {
    return this.pop.info;
  }

  /** Registers and logs in the population, and the probes (on an account of their own). */
  static async start(target: Target, prefix: string, spec: HonestSpec, log: (line: string) => void): Promise<HonestLoad> {
    const env = new AttackEnv(target, `${prefix}p`, 'honest-probe-password', log);
    const probeUser = `${prefix}probe`;
    await registerAll(env, [probeUser], 1);
    const pop = await Population.create(target, { prefix, tcp: spec.tcp, ws: spec.ws, http: spec.http, devicesPerAccount: spec.devicesPerAccount, groups: 1, groupSize: 3, loginTimeoutMs: 60_000 }, log);
    const tcp = new HeartbeatProbe(env, 'tcp', probeUser, 'probe-tcp');
    const ws = new HeartbeatProbe(env, 'ws', probeUser, 'probe-ws');
    const web = new HttpProbe(env, probeUser);
    try {
      await Promise.all([tcp.connect(), ws.connect(), web.connect()]);
    } catch (e) {
      pop.close();
      tcp.close();
      ws.close();
      web.close();
      throw e;
    }
    return new HonestLoad(pop, tcp, ws, web, spec);
  }

  /** The honest load for `durationMs` (sends, then quiescence), probes running throughout. */
  async during(name: string, durationMs: number): Promise<HonestResult> {
    const s = this.spec;
    for (const p of [this.tcp, this.ws]) p.start(s.probeEveryMs);
    this.web.start(s.probeEveryMs);
    let phase: PhaseResult;
    try {
      phase = await runPhase(this.pop, {
        name,
        mode: 'open',
        rate: s.rate,
        durationMs,
        maxMessages: Math.ceil((s.rate * durationMs * SEND_BOUND_FACTOR) / 1000),
        groupSendFraction: HONEST_GROUP_SHARE,
        contentBytes: HONEST_CONTENT_BYTES,
        quiesceTimeoutMs: s.quiesceTimeoutMs,
        sampleEveryMs: SAMPLE_EVERY_MS,
      });
    } finally {
      // A heartbeat sent just before the end is not a lost one: it gets a second to come back.
      await Promise.all([this.tcp.stop(PROBE_GRACE_MS), this.ws.stop(PROBE_GRACE_MS), this.web.stop()]);
    }
    return {
      phase,
      heartbeatMs: { tcp: summarize(this.tcp.h), ws: summarize(this.ws.h) },
      httpMs: summarize(this.web.h),
      probeTimeouts: this.tcp.timeouts + this.ws.timeouts + this.web.timeouts,
      probeDrops: this.tcp.drops + this.ws.drops,
    };
  }

  close(): void {
    this.pop.close();
    this.tcp.close();
    this.ws.close();
    this.web.close();
  }
}
