// `npm run bench:server`: durable messages per second through the real
// server over loopback, side by side with bare Node servers driven by the same
// closed-loop driver (N clients, one request in flight each), so the table
// shows what the protocol, the store and group commit cost.
//
//   TCP long link  N senders send (op 4 → op 5); N recipients sync on every
//                  notify (op 122 → op 10 → op 11), presenting the new key
//                  (the acknowledgement). Counted when every answered message
//                  has reached its recipient and been acknowledged.
//   HTTP           the same through webwxsendmsg; recipients long-poll
//                  synccheck and call webwxsync.
//   bare TCP echo  a net server echoing each packet; the client waits for it.
//   bare HTTP      an http server answering every POST with a small JSON.
//
// Bounded: --messages per client and --seconds per scenario; loopback only.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Op } from '../wire/packet.ts';
import { QUOTAS_LIFTED } from '../core/config.ts';
import { startServer, type RunningServer } from '../transport/server-app.ts';
import { CONNECTION_LIMITS_LIFTED } from '../transport/transport-limits.ts';
import { ADMISSION_LIFTED } from '../node/node-config.ts';
import { RawTcpLink, post as postTo, request as requestTo, startBareHttp, startBareTcpEcho } from './baselines.ts';

const HOST = '127.0.0.1';
const PASSWORD = 'bench-password';

interface Options {
  clients: number;
  messages: number;
  seconds: number;
  contentBytes: number;
}

interface Result {
  name: string;
  clients: number;
  ops: number;
  ms: number;
  commits?: number;
}

// ---- the driver: N clients, one request in flight each, bounded in count and time ----

async function closedLoop(clients: number, perClient: number, seconds: number, op: (client: number, i: number) => Promise<void>): Promise<{ done: number; ms: number }> {
  const deadline = Date.now() + seconds * 1000;
  let done = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; i < perClient && Date.now() < deadline; i++) {
        await op(c, i);
        done++;
      }
    }),
  );
  return { done, ms: performance.now() - t0 };
}

/** A recipient that syncs whenever told, one sync in flight, presenting its last key each time. */
class Syncer {
  received = 0;
  key: unknown;
  running = false;
  private again = false;

  constructor(
    key: unknown,
    private readonly syncOnce: (key: unknown) => Promise<{ SyncKey: unknown; AddMsgCount: number; ContinueFlag: number }>,
  ) {
    this.key = key;
  }

  poke(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const r = await this.syncOnce(this.key);
      this.key = r.SyncKey;
      this.received += r.AddMsgCount;
      if (r.ContinueFlag) this.again = true;
    } while (this.again);
    this.running = false;
  }

  /** Present the last key once more: everything received is acknowledged. */
  async ack(): Promise<void> {
    while (this.running) await new Promise((r) => setTimeout(r, 1));
    await this.syncOnce(this.key);
  }
}

async function until(f: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > ms) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

// ---- the shared raw clients and bare servers (baselines.ts), bound to loopback ----

const Link = { connect: (port: number): Promise<RawTcpLink> => RawTcpLink.connect(port, HOST) };
type Link = RawTcpLink;

function post(agent: http.Agent, port: number, p: string, body: unknown): Promise<any> {
  return postTo(agent, HOST, port, p, body);
}

function request(agent: http.Agent, port: number, method: string, p: string, body?: string): Promise<any> {
  return requestTo(agent, HOST, port, method, p, body);
}

// ---- scenarios ----

async function withServer<T>(f: (srv: RunningServer) => Promise<T>, storageThread = false): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synckey-bench-'));
  // A bench is a few accounts from one address doing many users' traffic: the
  // anti-abuse quotas (registrations, sends, connections per address) are lifted.
  const srv = await startServer({
    host: HOST,
    httpPort: 0,
    tcpPort: 0,
    db: path.join(dir, 'bench.db'),
    scryptN: 2,
    core: QUOTAS_LIFTED,
    node: { ...ADMISSION_LIFTED, holdMs: 25_000 },
    limits: CONNECTION_LIMITS_LIFTED,
    storageThread,
  });
  try {
    return await f(srv);
  } finally {
    await srv.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function registerPairs(srv: RunningServer, agent: http.Agent, n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    for (const who of ['s', 'r']) {
      const r = await post(agent, srv.httpPort, '/cgi-bin/micromsg-bin/register', { UserName: `${tag}${who}${i}`, Password: PASSWORD });
      if (r.BaseResponse.Ret !== 0) throw new Error(`register: ${JSON.stringify(r)}`);
    }
  }
}

/** `storageThread` true: the same server committing on its storage thread, to show what the thread buys. */
async function tcpScenario(o: Options, storageThread: boolean): Promise<Result> {
  return withServer(async (srv) => {
    const agent = new http.Agent({ keepAlive: true });
    await registerPairs(srv, agent, o.clients, 't');
    const senders: Link[] = [];
    const syncers: Syncer[] = [];
    for (let i = 0; i < o.clients; i++) {
      const s = await Link.connect(srv.tcpPort);
      const a = await s.call(Op.Auth, { UserName: `ts${i}`, Password: PASSWORD, DeviceID: 'bench' });
      if (a.BaseResponse.Ret !== 0) throw new Error(JSON.stringify(a));
      senders.push(s);
      const r = await Link.connect(srv.tcpPort);
      const b = await r.call(Op.Auth, { UserName: `tr${i}`, Password: PASSWORD, DeviceID: 'bench' });
      const syncer = new Syncer(b.SyncKey, (key) => r.call(Op.Sync, { SyncKey: key }));
      r.onNotify = () => syncer.poke();
      syncers.push(syncer);
    }
    const commits0 = srv.stats().node.commits;
    const content = 'm'.repeat(o.contentBytes);
    const t0 = performance.now();
    const { done } = await closedLoop(o.clients, o.messages, o.seconds, async (c, i) => {
      const r = await senders[c]!.call(Op.Send, { ClientMsgId: `${c}-${i}`, ToUserName: `tr${c}`, Type: 1, Content: content });
      if (r.BaseResponse.Ret !== 0) throw new Error(JSON.stringify(r));
    });
    await until(() => syncers.reduce((n, s) => n + s.received, 0) >= done, 30_000, 'TCP delivery');
    await Promise.all(syncers.map((s) => s.ack()));
    const ms = performance.now() - t0;
    const commits = srv.stats().node.commits - commits0;
    for (const l of senders) l.destroy();
    agent.destroy();
    return { name: `TCP long link (SQLite FULL, ${storageThread ? 'storage thread' : 'commits on the event loop'})`, clients: o.clients, ops: done, ms, commits };
  }, storageThread);
}

async function httpScenario(o: Options): Promise<Result> {
  return withServer(async (srv) => {
    const port = srv.httpPort;
    const agent = new http.Agent({ keepAlive: true, maxSockets: o.clients * 2 + 4 });
    await registerPairs(srv, agent, o.clients, 'h');
    const base: Array<{ BaseRequest: object }> = [];
    const syncers: Syncer[] = [];
    let stop = false;
    const polls: Array<Promise<void>> = [];
    for (let i = 0; i < o.clients; i++) {
      const s = await post(agent, port, '/cgi-bin/micromsg-bin/manualauth', { UserName: `hs${i}`, Password: PASSWORD, DeviceID: 'bench' });
      base.push({ BaseRequest: { Uin: s.Uin, Sid: s.Sid, Skey: s.Skey, DeviceID: 'bench' } });
      const r = await post(agent, port, '/cgi-bin/micromsg-bin/manualauth', { UserName: `hr${i}`, Password: PASSWORD, DeviceID: 'bench' });
      const rb = { Uin: r.Uin, Sid: r.Sid, Skey: r.Skey, DeviceID: 'bench' };
      const syncer = new Syncer(r.SyncKey, (key) => post(agent, port, `/cgi-bin/mmwebwx-bin/webwxsync?sid=${encodeURIComponent(r.Sid)}`, { BaseRequest: rb, SyncKey: key }));
      syncers.push(syncer);
      // The web recipient's loop: synccheck with its key; on news, sync.
      polls.push(
        (async () => {
          while (!stop) {
            const k = syncer.key as { List: Array<{ Key: number; Val: number }> };
            const q = new URLSearchParams({ sid: r.Sid, uin: String(r.Uin), skey: r.Skey, deviceid: 'bench', synckey: k.List.map((p) => `${p.Key}_${p.Val}`).join('|') });
            const text: string = await request(agent, port, 'GET', `/cgi-bin/mmwebwx-bin/synccheck?${q}`);
            if (stop) return;
            if (!text.includes('selector:"0"')) {
              syncer.poke();
              while (syncer.running) await new Promise((res) => setTimeout(res, 1));
            }
          }
        })().catch(() => {}),
      );
    }
    const commits0 = srv.stats().node.commits;
    const content = 'm'.repeat(o.contentBytes);
    const t0 = performance.now();
    const { done } = await closedLoop(o.clients, o.messages, o.seconds, async (c, i) => {
      const r = await post(agent, port, '/cgi-bin/mmwebwx-bin/webwxsendmsg', { ...base[c], Msg: { ClientMsgId: `${c}-${i}`, ToUserName: `hr${c}`, Type: 1, Content: content }, Scene: 0 });
      if (r.BaseResponse.Ret !== 0) throw new Error(JSON.stringify(r));
    });
    await until(() => syncers.reduce((n, s) => n + s.received, 0) >= done, 30_000, 'HTTP delivery');
    await Promise.all(syncers.map((s) => s.ack()));
    const ms = performance.now() - t0;
    const commits = srv.stats().node.commits - commits0;
    stop = true;
    agent.destroy();
    await Promise.all(polls);
    return { name: 'HTTP webwxsendmsg (SQLite FULL)', clients: o.clients, ops: done, ms, commits };
  });
}

async function bareTcp(o: Options): Promise<Result> {
  const server = await startBareTcpEcho(HOST);
  const links = await Promise.all(Array.from({ length: o.clients }, () => Link.connect(server.port)));
  const content = 'm'.repeat(o.contentBytes);
  const { done, ms } = await closedLoop(o.clients, o.messages, o.seconds, async (c, i) => {
    await links[c]!.call(Op.Send, { ClientMsgId: `${c}-${i}`, ToUserName: `tr${c}`, Type: 1, Content: content });
  });
  for (const l of links) l.destroy();
  await server.close();
  return { name: 'bare Node TCP echo', clients: o.clients, ops: done, ms };
}

async function bareHttp(o: Options): Promise<Result> {
  const server = await startBareHttp(HOST);
  const port = server.port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.clients + 4 });
  const content = 'm'.repeat(o.contentBytes);
  const { done, ms } = await closedLoop(o.clients, o.messages, o.seconds, async (c, i) => {
    await post(agent, port, '/cgi-bin/mmwebwx-bin/webwxsendmsg', { BaseRequest: {}, Msg: { ClientMsgId: `${c}-${i}`, ToUserName: `hr${c}`, Type: 1, Content: content }, Scene: 0 });
  });
  agent.destroy();
  await server.close();
  return { name: 'bare Node HTTP', clients: o.clients, ops: done, ms };
}

// ---- main ----

function rate(r: Result): number {
  return (r.ops / r.ms) * 1000;
}

function table(rows: Array<{ r: Result; vs?: Result }>): string {
  const head = ['scenario', 'clients', 'messages', 'seconds', 'msg/s', 'msgs/commit', 'vs bare'];
  const body = rows.map(({ r, vs }) => [
    r.name,
    String(r.clients),
    String(r.ops),
    (r.ms / 1000).toFixed(2),
    rate(r).toFixed(0),
    r.commits ? (r.ops / r.commits).toFixed(1) : '-',
    vs ? `${((rate(r) / rate(vs)) * 100).toFixed(1)}% (1/${(rate(vs) / rate(r)).toFixed(1)})` : '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function options(): Options {
  const { values } = parseArgs({
    strict: true,
    options: {
      clients: { type: 'string', default: '32' },
      messages: { type: 'string', default: '300' },
      seconds: { type: 'string', default: '10' },
      'content-bytes': { type: 'string', default: '64' },
    },
  });
  const n = (name: string, v: string, max: number): number => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < 1 || x > max) throw new Error(`--${name} must be an integer 1..${max}, got '${v}'`);
    return x;
  };
  return {
    clients: n('clients', values.clients, 1000),
    messages: n('messages', values.messages, 1_000_000),
    seconds: n('seconds', values.seconds, 600),
    contentBytes: n('content-bytes', values['content-bytes'], 32 * 1024),
  };
}

async function main(): Promise<void> {
  const o = options();
  console.log(
    `server bench: ${o.clients} clients x up to ${o.messages} messages (${o.contentBytes}-byte content), at most ${o.seconds} s per scenario, loopback, Node ${process.version}`,
  );
  const tcp = await tcpScenario(o, true);
  const tcpLoop = await tcpScenario(o, false);
  const tcpBare = await bareTcp(o);
  const web = await httpScenario(o);
  const webBare = await bareHttp(o);
  console.log(table([{ r: tcp, vs: tcpBare }, { r: tcpLoop, vs: tcpBare }, { r: tcpBare }, { r: web, vs: webBare }, { r: webBare }]));
  console.log(`storage thread ÷ commits on the event loop (TCP, same run): ${(rate(tcp) / rate(tcpLoop)).toFixed(2)}×`);
  console.log('A durable message: answered only after its SQLite commit (synchronous=FULL), delivered to and acknowledged by its recipient.');
}

main().catch((e: unknown) => {
  console.error(`bench failed: ${(e as Error).message}`);
  process.exit(1);
});
