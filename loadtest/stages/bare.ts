// Bare Node baselines: a TCP echo server, a WebSocket echo server and an HTTP
// server answering a small JSON (server/bench/baselines.ts, shared with
// `npm run bench:server`), each in a child process of its own, driven by raw
// clients with the same number of connections, the same window and the same
// rate as the SyncKey server's phases, so that results read as ratios.
import http from 'node:http';
import seedrandom from 'seedrandom';
import { RawTcpLink, RawWsLink, post, startBareHttp, startBareTcpEcho, startBareWsEcho, type BareServer, type RawLink } from '../../server/bench/baselines.ts';
import { Op } from '../../server/wire/packet.ts';
import { openArrivals } from '../arrivals.ts';
import { encodeContent } from '../content-codec.ts';
import { assertLoopback } from '../loopback.ts';
import { selfSample } from '../memory.ts';
import { DEFAULT_CONTENT_BYTES, DEFAULT_QUIESCE_TIMEOUT_MS, DEFAULT_SAMPLE_EVERY_MS, DEFAULT_WINDOW, type PhaseResult, type PhaseSpec } from '../phase.ts';
import { Recorder, round1, summarize } from '../recorder.ts';
import type { Transport } from '../report.ts';
import { HOST, type RunContext } from '../run-context.ts';
import { sampler } from '../sampler.ts';
import { ServerChild } from '../server-process.ts';
import type { ServerSample } from '../target.ts';
import { until } from '../wait-until.ts';

/** Keep-alive sockets of each raw HTTP client. */
const HTTP_SOCKETS_PER_CLIENT = 4;
/** The bare servers answer far faster than the SyncKey server: their phases may send this many times the profile's bound. */
const BARE_MAX_MESSAGES_FACTOR = 10;
const BARE_QUIESCE_TIMEOUT_MS = 10_000;
/** How often a bare phase checks that every answer came back. */
const QUIESCE_POLL_MS = 10;

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
      for (let i = 0; i < clients; i++) agents.push(new http.Agent({ keepAlive: true, maxSockets: HTTP_SOCKETS_PER_CLIENT }));
    }
    for (const l of links) l.onBroken = () => {};
    const rec = new Recorder();
    const cpu0 = process.cpuUsage();
    const samples = sampler(target, rec.t0, spec.sampleEveryMs ?? DEFAULT_SAMPLE_EVERY_MS);
    const endAt = rec.t0 + spec.durationMs;
    let sent = 0;
    let answered = 0;
    let failed = 0;
    const open = (): boolean => performance.now() < endAt && sent < spec.maxMessages;
    const [lo, hi] = spec.contentBytes ?? DEFAULT_CONTENT_BYTES;
    const one = (c: number): Promise<void> => {
      const id = ++sent;
      const at = performance.now();
      rec.offered(at);
      const msg = { ClientMsgId: `b${id}`, ToUserName: `peer${c}`, Type: 1, Content: encodeContent(id, at, lo + Math.floor(rand() * (hi - lo + 1))) };
      const p: Promise<unknown> =
        target.kind === 'http'
          ? post(agents[c]!, target.host, target.port, '/cgi-bin/mmwebwx-bin/webwxsendmsg', { BaseRequest: {}, Msg: msg, Scene: 0 })
          : links[c]!.call(Op.Send, msg);
      return p.then(
        () => {
          const t = performance.now();
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
      const window = spec.window ?? DEFAULT_WINDOW;
      await Promise.all(
        Array.from({ length: clients * window }, async (_, k) => {
          const c = k % clients;
          while (open()) await one(c);
        }),
      );
    } else {
      await openArrivals({ phase: spec.name, rate: spec.rate, from: rec.t0, rand, open, fire: () => track(one(Math.floor(rand() * clients))) });
    }
    const sendWindowMs = performance.now() - rec.t0;
    let quiesced = true;
    try {
      await until(() => inflight.size === 0, spec.quiesceTimeoutMs ?? DEFAULT_QUIESCE_TIMEOUT_MS, () => `${inflight.size} answers`, QUIESCE_POLL_MS);
    } catch {
      quiesced = false;
    }
    const elapsedMs = performance.now() - rec.t0;
    const memory = await samples.stop();
    const cpu = process.cpuUsage(cpu0);
    const durableMs = rec.lastDurableAt > 0 ? rec.lastDurableAt - rec.t0 : 0;
    const serverCpuPct = samples.cpu();
    const result: PhaseResult = {
      name: spec.name,
      kind: `bare-${target.kind}`,
      mode: spec.mode,
      ...(spec.mode === 'open' ? { offeredRate: spec.rate! } : { window: spec.window ?? DEFAULT_WINDOW }),
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
      ...(serverCpuPct !== undefined ? { serverCpuPct } : {}),
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

interface BareServers {
  ports: { tcp: number; ws: number; http: number };
  sample: (kind: Transport, gc?: boolean) => Promise<ServerSample | undefined>;
  close: () => Promise<void>;
  kill: () => void;
}

async function startBare(run: RunContext): Promise<BareServers> {
  if (run.o.inProcess) {
    const s: BareServer[] = [await startBareTcpEcho(HOST), await startBareWsEcho(HOST), await startBareHttp(HOST)];
    return {
      ports: { tcp: s[0]!.port, ws: s[1]!.port, http: s[2]!.port },
      sample: async () => selfSample(),
      close: async () => {
        await Promise.all(s.map((x) => x.close()));
      },
      kill: () => {},
    };
  }
  const start = async (mode: string): Promise<ServerChild> => {
    const c = await ServerChild.start(['--mode', mode, '--host', HOST]);
    run.children.add(c);
    return c;
  };
  // One process per bare server keeps each one's memory its own (the capacity baseline reads bare-tcp's).
  const [tcp, ws, http] = await Promise.all([start('bare-tcp'), start('bare-ws'), start('bare-http')]);
  const all = [tcp, ws, http];
  return {
    ports: { tcp: tcp.ready.port, ws: ws.ready.port, http: http.ready.port },
    sample: (kind, gc = false) => ({ tcp, ws, http })[kind].sample(gc),
    close: async () => {
      await Promise.all(all.map((c) => c.close()));
      for (const c of all) run.children.delete(c);
    },
    kill: () => all.forEach((c) => c.kill()),
  };
}

/** Per bare server, a peak phase and a phase at the SyncKey server's half-peak rate on the same transport. */
export async function bareStages(run: RunContext): Promise<void> {
  const s = run.o.profile.transports!;
  run.log('bare Node baselines: TCP echo, WebSocket echo, HTTP');
  const bare = await startBare(run);
  try {
    for (const t of ['tcp', 'ws', 'http'] as const) {
      const target: BareTarget = { kind: t, host: HOST, port: bare.ports[t], sample: () => bare.sample(t) };
      const base: Omit<PhaseSpec, 'name' | 'mode' | 'durationMs'> = {
        contentBytes: s.contentBytes,
        maxMessages: s.maxMessages * BARE_MAX_MESSAGES_FACTOR,
        quiesceTimeoutMs: BARE_QUIESCE_TIMEOUT_MS,
      };
      let at = run.sec();
      const peak = await runBarePhase(target, s.clients, { ...base, name: `bare ${t} peak`, mode: 'saturate', window: s.window, durationMs: s.saturateMs });
      run.record(peak, t, 'peak', at);
      at = run.sec();
      const rate = run.halfRates.get(t) ?? Math.max(1, Math.round(peak.durablePerSec / 2));
      const half = await runBarePhase(target, s.clients, { ...base, name: `bare ${t} at the server's half-peak rate`, mode: 'open', rate, durationMs: s.halfRateMs });
      run.record(half, t, 'half-peak', at);
    }
  } finally {
    await bare.close();
  }
}
