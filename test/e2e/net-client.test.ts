// The reference client on real sockets: ClientCore driven by NetClient over
// loopback against the real server. Two accounts, a device of each on every
// transport, talk; then the server is stopped and restarted on the same
// database in the middle of a stream of sends, and nothing is lost or doubled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientEvent, ClientTransport } from '../../client/core/client-core.ts';
import type { MessageItem } from '../../client/core/client-state.ts';
import { NetClient } from '../../client/net/net-client.ts';
import { registerAccount } from '../../client/net/register-account.ts';
import { startTestServer, tempDb, type TestServer } from './fixture.ts';

const PASSWORD = 'pw-net-client';
const TRANSPORTS: ClientTransport[] = ['tcp', 'ws', 'http'];
const FAST = {
  httpTimeoutMs: 5_000,
  replyTimeoutMs: 3_000,
  retryBaseMs: 50,
  retryMaxMs: 400,
  reconnectBaseMs: 50,
  reconnectMaxMs: 400,
  maxSendAttempts: 100,
};

interface Device {
  name: string;
  user: string;
  client: NetClient;
  events: ClientEvent[];
  /** Highest value seen per SyncKey key: it must never go back. */
  maxKey: Map<number, number>;
  keyWentBack: string[];
}

function until(f: () => boolean, ms: number, what: () => string): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (f()) return resolve();
      if (Date.now() - t0 > ms) return reject(new Error(`timed out after ${ms} ms waiting for ${what()}`));
      setTimeout(poll, 10);
    };
    poll();
  });
}

describe('NetClient: ClientCore on real sockets', () => {
  const tmp = tempDb('e2e-netclient');
  let t: TestServer;
  let server = '';
  let tcp = '';
  const devices: Device[] = [];
  /** localId@device → MsgID of every acknowledged send. */
  const acked = new Map<string, number>();
  const failed: string[] = [];

  const open = (user: string, transport: ClientTransport): Device => {
    const d: Device = { name: `${user}-${transport}`, user, client: undefined as unknown as NetClient, events: [], maxKey: new Map(), keyWentBack: [] };
    d.client = new NetClient({
      userName: user,
      password: PASSWORD,
      deviceId: `${user}-${transport}`,
      transport,
      server,
      tcp,
      config: FAST,
      onEvent: (e) => {
        d.events.push(e);
        if (e.kind === 'sendAcked') acked.set(`${e.localId}@${d.name}`, e.msgId);
        if (e.kind === 'sendFailed') failed.push(`${d.name}: ${e.localId} Ret ${e.ret} ${e.errMsg}`);
        if (e.kind === 'syncKey') {
          for (const [k, v] of e.key) {
            if (v < (d.maxKey.get(k) ?? 0)) d.keyWentBack.push(`${d.name} key ${k}: ${d.maxKey.get(k)} → ${v}`);
            d.maxKey.set(k, Math.max(v, d.maxKey.get(k) ?? 0));
          }
        }
      },
    });
    d.client.start();
    return d;
  };

  const inbox = (d: Device): readonly MessageItem[] => d.client.core.inbox();

  /** Every device holds every acknowledged message once, all in the same (server) order. */
  const expectConverged = (): void => {
    expect(failed).toEqual([]);
    const ids = new Set(acked.values());
    expect(ids.size).toBe(acked.size); // one MsgID per send
    const ref = inbox(devices[0]!).map((m) => m.MsgId);
    expect(new Set(ref)).toEqual(ids);
    expect([...ref].sort((a, b) => a - b)).toEqual(ref);
    for (const d of devices) {
      expect(inbox(d).map((m) => m.MsgId), d.name).toEqual(ref);
      expect(d.keyWentBack).toEqual([]);
    }
  };

  const allDelivered = (): boolean => {
    const ids = new Set(acked.values());
    return devices.every((d) => inbox(d).filter((m) => ids.has(m.MsgId)).length === ids.size);
  };

  const outboxesEmpty = (): boolean => devices.every((d) => d.client.core.outbox().length === 0);

  const progress = (): string =>
    `acked ${acked.size}; inboxes ${devices.map((d) => `${d.name}=${inbox(d).length}`).join(' ')}; outboxes ${devices
      .map((d) => d.client.core.outbox().length)
      .join(',')}; failed ${failed.join('; ')}`;

  beforeAll(async () => {
    t = await startTestServer(tmp.db, { node: { holdMs: 800 } });
    server = t.base;
    tcp = `127.0.0.1:${t.tcpPort}`;
    expect((await registerAccount(server, 'alice', PASSWORD)).ret).toBe(0);
    expect((await registerAccount(server, 'bob', PASSWORD)).ret).toBe(0);
    expect((await registerAccount(server, 'bob', PASSWORD)).ret).toBe(1104);
  });

  afterAll(async () => {
    for (const d of devices) d.client.close();
    await t?.srv.close();
    tmp.cleanup();
  });

  it('logs in a device of each account on every transport', async () => {
    for (const tr of TRANSPORTS) devices.push(open('alice', tr), open('bob', tr));
    await until(() => devices.every((d) => d.client.core.state === 'ready'), 10_000, progress);
    for (const d of devices) expect(d.events.filter((e) => e.kind === 'loggedIn')).toHaveLength(1);
    await until(() => t.srv.stats().node.openLinks === 4, 5_000, () => `4 open links, got ${t.srv.stats().node.openLinks}`);
  });

  it('exchanges messages both ways over every transport, exactly once and in one order on all six devices', async () => {
    for (let i = 0; i < 5; i++) {
      for (const d of devices) d.client.send(d.user === 'alice' ? 'bob' : 'alice', `${d.name} #${i} ✓ "ünïcødé" \\ </script>`);
    }
    await until(() => acked.size === 30 && allDelivered(), 15_000, progress);
    expectConverged();
    // Integrity: byte for byte, with the sender and recipient the server recorded.
    const m = inbox(devices[1]!).find((x) => x.Content === 'alice-ws #3 ✓ "ünïcødé" \\ </script>');
    expect(m).toMatchObject({ FromUserName: 'alice', ToUserName: 'bob', MsgType: 1 });
    // The user's order within a conversation is kept: a device's own five messages arrive in send order.
    for (const d of devices) {
      const own = inbox(devices[0]!).filter((x) => x.Content.startsWith(`${d.name} #`)).map((x) => x.Content.split(' ')[1]);
      expect(own).toEqual(['#0', '#1', '#2', '#3', '#4']);
    }
  });

  it('loses nothing when the server restarts in the middle of the conversation', async () => {
    const before = acked.size;
    const { httpPort, tcpPort } = t.srv;
    let sent = 0;
    const stream = setInterval(() => {
      for (const d of devices) d.client.send(d.user === 'alice' ? 'bob' : 'alice', `${d.name} stream ${sent}`);
      sent++;
      if (sent === 20) clearInterval(stream);
    }, 25);
    await until(() => acked.size >= before + 30, 10_000, progress);
    // Stop mid-stream: answered sends are durable; the rest waits in the outboxes and is retried.
    await t.srv.close();
    await new Promise((r) => setTimeout(r, 300));
    t = await startTestServer(tmp.db, { httpPort, tcpPort, node: { holdMs: 800 } });
    await until(() => sent === 20 && outboxesEmpty() && allDelivered(), 30_000, progress);
    expect(acked.size).toBe(before + 6 * 20);
    expectConverged();
    // The restart was felt: every long link was dropped and reconnected.
    for (const d of devices) if (d.client.transport !== 'http') expect(d.client.stats.linkDrops, d.name).toBeGreaterThanOrEqual(1);
    expect(devices.some((d) => d.client.stats.httpFailures > 0 || d.client.stats.linkConnects > 1)).toBe(true);
    // Sessions were kept: every device carried on without a new password login.
    for (const d of devices) expect(d.events.filter((e) => e.kind === 'loggedIn'), d.name).toHaveLength(1);
    // The links came back.
    await until(() => t.srv.stats().node.openLinks === 4, 5_000, () => `4 open links, got ${t.srv.stats().node.openLinks}`);
  });

  it('close() stops a client: its link goes and nothing more arrives', async () => {
    const d = devices.pop()!; // bob-http
    const l = devices.find((x) => x.name === 'bob-tcp')!;
    devices.splice(devices.indexOf(l), 1);
    d.client.close();
    l.client.close();
    expect(d.client.closed).toBe(true);
    await until(() => t.srv.stats().node.openLinks === 3, 5_000, () => `3 open links, got ${t.srv.stats().node.openLinks}`);
    const n = inbox(d).length;
    devices[0]!.client.send('bob', 'after close');
    await until(() => allDelivered() && outboxesEmpty(), 5_000, progress);
    expect(inbox(d).length).toBe(n);
    expect(() => d.client.send('alice', 'x')).toThrow(/closed/);
  });
});
