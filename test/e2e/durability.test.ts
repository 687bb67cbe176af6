// Durability under SIGKILL: the real server (`server/main.ts` in a process of
// its own, SQLite with synchronous FULL on a file in a temp dir) is killed
// with SIGKILL three times while reference clients (ClientCore on NetClient,
// over TCP, WebSocket and HTTP) keep sending, and restarted on the same file
// each time. The clients reach it through a forwarder on fixed ports, so a
// restart on new ephemeral ports looks like a network outage to them; they
// retry what was not answered with the same ClientMsgId. At the end every
// acknowledged message is on every device meant for it exactly once, byte
// for byte with the MsgID its sender was answered, and in the store exactly
// once (a fresh device of each account reads the whole log). The outcome is
// asserted, never a timing: when the kills land is up to the machine.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClientEvent, ClientTransport } from '../../client/core/client-core.ts';
import type { MessageItem } from '../../client/core/client-state.ts';
import { NetClient } from '../../client/net/net-client.ts';
import { tempDb } from './fixture.ts';
import { register } from './raw-client/http.ts';
import { HttpDevice } from './raw-client/http-device.ts';
import { sleep, until } from './raw-client/wait.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'server/main.ts');
const PASSWORD = 'pw-durability';
const KILLS = 3;
/** How long the server runs under load before each kill. */
const RUN_BEFORE_KILL_MS = 1200;
/** Ticks of the sending loop, every SEND_EVERY_MS: about six seconds of load across the kills. */
const SEND_TICKS = 40;
const SEND_EVERY_MS = 150;
/** Each tick a device sends to both other accounts. */
const SENDS_PER_TICK = 2;
const READY_TIMEOUT_MS = 15_000;
const CONVERGE_TIMEOUT_MS = 25_000;
/** Retries that outlast every outage of the test: a send must never give up. */
const CLIENT_CONFIG = {
  httpTimeoutMs: 5_000,
  replyTimeoutMs: 2_000,
  retryBaseMs: 50,
  retryMaxMs: 400,
  reconnectBaseMs: 50,
  reconnectMaxMs: 400,
  maxSendAttempts: 10_000,
};
/** Three accounts, two devices each, every transport twice. */
const DEVICES: Array<[account: number, transport: ClientTransport]> = [
  [0, 'tcp'],
  [0, 'http'],
  [1, 'ws'],
  [1, 'tcp'],
  [2, 'http'],
  [2, 'ws'],
];

/** The server under test: `npm start` as a child process, on ephemeral ports. */
class ServerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly httpPort: number,
    readonly tcpPort: number,
    private readonly exited: Promise<void>,
  ) {}

  /** `thread`: commit on the storage thread (--storage-thread on) or on the event loop. */
  static async start(db: string, thread: 'on' | 'off'): Promise<ServerProcess> {
    const args = ['--http-port', '0', '--tcp-port', '0', '--db', db, '--scrypt-n', '2', '--hold-ms', '1000', '--heartbeat-sec', '30', '--storage-thread', thread];
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (c) => (out += c));
    child.stderr!.on('data', (c) => (err += c));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await until(() => /^ready /m.test(out) || child.exitCode !== null, READY_TIMEOUT_MS, 'the server to print its ready line');
    const m = /^ready http=http:\/\/127\.0\.0\.1:(\d+) \S+ tcp=127\.0\.0\.1:(\d+) /m.exec(out);
    if (!m) throw new Error(`the server did not start: ${out} ${err}`);
    return new ServerProcess(child, Number(m[1]), Number(m[2]), exited);
  }

  async kill(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }
}

/** A TCP forwarder on a fixed port to wherever the server listens now; with no server, connections are dropped at once. */
class Forwarder {
  target: number | undefined;
  private readonly open = new Set<net.Socket>();

  private constructor(
    readonly server: net.Server,
    readonly port: number,
  ) {}

  static async listen(): Promise<Forwarder> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const f = new Forwarder(server, (server.address() as net.AddressInfo).port);
    server.on('connection', (c) => f.forward(c));
    return f;
  }

  private forward(c: net.Socket): void {
    c.on('error', () => {});
    if (this.target === undefined) return void c.destroy();
    const b = net.connect(this.target, '127.0.0.1');
    b.on('error', () => {});
    for (const s of [c, b]) {
      this.open.add(s);
      s.on('close', () => {
        this.open.delete(s);
        c.destroy();
        b.destroy();
      });
    }
    c.pipe(b);
    b.pipe(c);
  }

  close(): Promise<void> {
    for (const s of this.open) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

interface Device {
  name: string;
  account: number;
  client: NetClient;
  /** `sender/ClientMsgId` → the messages applied under it (more than one is a duplicate). */
  applied: Map<string, MessageItem[]>;
}

interface Sent {
  device: Device;
  to: number;
  content: string;
  clientMsgId?: string;
  msgId?: number;
}

const accountName = (i: number): string => `durable${i}`;
const keyOf = (from: string, clientMsgId: string): string => `${from}/${clientMsgId}`;

// Both ways the server can commit: on its event loop, and on the storage thread.
describe.each(['off', 'on'] as const)('durability under SIGKILL (storage thread %s)', (thread) => {
  const tmp = tempDb(`e2e-durability-${thread}`);
  const servers: ServerProcess[] = [];
  const forwarders: Forwarder[] = [];
  const devices: Device[] = [];

  afterAll(async () => {
    for (const d of devices) d.client.close();
    await Promise.all(servers.map((s) => s.kill()));
    await Promise.all(forwarders.map((f) => f.close()));
    tmp.cleanup();
  });

  it('keeps every acknowledged message, once, byte for byte, across three kills', async () => {
    const httpFwd = await Forwarder.listen();
    const tcpFwd = await Forwarder.listen();
    forwarders.push(httpFwd, tcpFwd);
    const point = (s: ServerProcess | undefined): void => {
      httpFwd.target = s?.httpPort;
      tcpFwd.target = s?.tcpPort;
    };
    const base = `http://127.0.0.1:${httpFwd.port}`;
    let srv = await ServerProcess.start(tmp.db, thread);
    servers.push(srv);
    point(srv);
    for (let a = 0; a < 3; a++) await register(base, accountName(a), PASSWORD);

    const sent = new Map<string, Sent>(); // localId@device → what was sent
    const failed: string[] = [];
    for (const [account, transport] of DEVICES) {
      const d: Device = { name: `${accountName(account)}-${transport}`, account, client: undefined as unknown as NetClient, applied: new Map() };
      d.client = new NetClient({
        userName: accountName(account),
        password: PASSWORD,
        deviceId: d.name,
        transport,
        server: base,
        tcp: `127.0.0.1:${tcpFwd.port}`,
        config: CLIENT_CONFIG,
        onEvent: (e: ClientEvent) => {
          if (e.kind === 'applied') {
            const k = keyOf(e.msg.FromUserName, e.msg.ClientMsgId);
            d.applied.set(k, [...(d.applied.get(k) ?? []), e.msg]);
          } else if (e.kind === 'sendAcked') {
            const s = sent.get(`${e.localId}@${d.name}`)!;
            s.clientMsgId = e.clientMsgId;
            s.msgId = e.msgId;
          } else if (e.kind === 'sendFailed') failed.push(`${d.name} ${e.localId}: Ret ${e.ret} ${e.errMsg}`);
        },
      });
      devices.push(d);
      d.client.start();
    }
    await until(() => devices.every((d) => d.client.core.state === 'ready'), 10_000, 'every device to log in');

    // The load: every device sends to both other accounts, with content that has to survive byte for byte.
    let ticks = 0;
    const sender = setInterval(() => {
      for (const d of devices) {
        for (let j = 0; j < SENDS_PER_TICK; j++) {
          const to = (d.account + 1 + j) % 3;
          const content = `${d.name} #${ticks}.${j} → ${accountName(to)}: ünïcødé ✓ "quoted" \\ </script> ${'·'.repeat(ticks % 7)}`;
          const localId = d.client.send(accountName(to), content);
          sent.set(`${localId}@${d.name}`, { device: d, to, content });
        }
      }
      if (++ticks === SEND_TICKS) clearInterval(sender);
    }, SEND_EVERY_MS);

    for (let k = 0; k < KILLS; k++) {
      await sleep(RUN_BEFORE_KILL_MS);
      point(undefined);
      await srv.kill('SIGKILL');
      srv = await ServerProcess.start(tmp.db, thread);
      servers.push(srv);
      point(srv);
    }

    const acked = (): Sent[] => [...sent.values()].filter((s) => s.msgId !== undefined);
    const meant = (d: Device, s: Sent): boolean => d.account === s.to || (d.account === s.device.account && d !== s.device);
    const delivered = (): boolean =>
      acked().every((s) => devices.every((d) => !meant(d, s) || d.applied.has(keyOf(accountName(s.device.account), s.clientMsgId!))));
    const progress = (): string =>
      `${ticks} of ${SEND_TICKS} ticks, ${acked().length} of ${sent.size} acked; outboxes ${devices.map((d) => d.client.core.outbox().length).join(',')}; failed: ${failed.join('; ')}`;
    // Bounded: if it never converges, the checks below say which message is missing where.
    await until(() => ticks === SEND_TICKS && failed.length === 0 && acked().length === sent.size && delivered(), CONVERGE_TIMEOUT_MS, 'convergence').catch(() => {});
    expect(ticks, progress()).toBe(SEND_TICKS);

    expect(failed).toEqual([]);
    expect(sent.size).toBe(DEVICES.length * SEND_TICKS * SENDS_PER_TICK);
    const all = acked();
    expect(all).toHaveLength(sent.size);
    // One MsgID per send.
    expect(new Set(all.map((s) => s.msgId)).size).toBe(all.length);
    for (const d of devices) {
      for (const s of all) {
        const got = d.applied.get(keyOf(accountName(s.device.account), s.clientMsgId!)) ?? [];
        if (d === s.device) {
          expect(got.length, `${d.name} echo of its own ${s.clientMsgId}`).toBeLessThanOrEqual(1);
          continue;
        }
        if (!meant(d, s)) {
          expect(got, `${d.name} got a message not meant for it`).toEqual([]);
          continue;
        }
        expect(got.length, `${d.name}: ${s.content}`).toBe(1);
        expect(got[0]).toMatchObject({ MsgId: s.msgId, Content: s.content, FromUserName: accountName(s.device.account), ToUserName: accountName(s.to) });
      }
      // Nothing arrived that was not sent, and nothing twice.
      const ours = new Set(all.map((s) => keyOf(accountName(s.device.account), s.clientMsgId!)));
      for (const [k, list] of d.applied) {
        expect(ours.has(k), `${d.name} applied ${k}, which no one was answered for`).toBe(true);
        expect(list.length, `${d.name} applied ${k} ${list.length} times`).toBe(1);
      }
    }

    // The store: a fresh device of each account reads the whole log; every message of the account is there once, intact.
    for (let a = 0; a < 3; a++) {
      const fresh = new HttpDevice(base, accountName(a), PASSWORD, `e90000000000000${a}`);
      await fresh.login();
      const log: MessageItem[] = [];
      for (let page = 0; ; page++) {
        const r = await fresh.syncOnce();
        expect(r.BaseResponse.Ret).toBe(0);
        log.push(...(r.AddMsgList as MessageItem[]));
        if (r.ContinueFlag === 0) break;
        expect(page).toBeLessThan(100);
      }
      const mine = all.filter((s) => s.to === a || s.device.account === a);
      expect(log).toHaveLength(mine.length);
      const byKey = new Map(log.map((m) => [keyOf(m.FromUserName, m.ClientMsgId), m]));
      for (const s of mine) expect(byKey.get(keyOf(accountName(s.device.account), s.clientMsgId!))).toMatchObject({ MsgId: s.msgId, Content: s.content });
    }
    expect(servers).toHaveLength(KILLS + 1);
    await srv.kill('SIGTERM');
  });
});
