// Two accounts, each with a web (HTTP), a TCP and a WebSocket device, talking
// through the real server over loopback: login, sends over every transport,
// notifications, synccheck, multi-device echo, retries, a group with
// concurrent senders, and a restart on the same database mid-conversation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDb, type TestServer } from './fixture.ts';
import { manualAuth, register } from './raw-client/http.ts';
import { HttpDevice } from './raw-client/http-device.ts';
import type { LinkClient } from './raw-client/link-client.ts';
import { OP, frameJson } from './raw-client/packets.ts';
import { keyVal } from './raw-client/sync-key.ts';
import { TcpLink } from './raw-client/tcp-link.ts';
import { until } from './raw-client/wait.ts';
import { WsLink } from './raw-client/ws-link.ts';

const HOLD_MS = 800;
const PASSWORD = 'correct horse';

interface Msg {
  MsgId: number;
  NewMsgId: number;
  FromUserName: string;
  ToUserName: string;
  MsgType: number;
  Content: string;
  CreateTime: number;
  ClientMsgId: string;
  Status: number;
}

/** One device of the test, whatever its transport: it sends, syncs and checks what it was sent. */
class Dev {
  http?: HttpDevice;
  link?: LinkClient;
  /** Messages applied, deduplicated by MsgId, in arrival order. */
  readonly msgs: Msg[] = [];
  private readonly seen = new Set<number>();
  /** How often each ClientMsgId arrived in an AddMsgList, duplicates included. */
  readonly rawByClientId = new Map<string, number>();
  readonly contacts: Array<{ UserName: string; MemberList: string[] }> = [];
  /** The highest Val this device was ever sent, per key: it must never go back. */
  readonly maxVal = new Map<number, number>();
  private sendCount = 0;

  constructor(
    readonly name: string,
    readonly kind: 'http' | 'tcp' | 'ws',
    readonly userName: string,
    readonly deviceId: string,
  ) {}

  async connect(t: TestServer): Promise<void> {
    if (this.kind === 'http') {
      if (!this.http) {
        this.http = new HttpDevice(t.base, this.userName, PASSWORD, this.deviceId);
        await this.http.login();
        const init = await this.http.init();
        expect(init.BaseResponse.Ret).toBe(0);
        expect(init.User.UserName).toBe(this.userName);
        this.checkKey(init.SyncKey);
      } else this.http.base = t.base;
      return;
    }
    const old = this.link;
    const link = this.kind === 'tcp' ? await TcpLink.connect(t.tcpPort) : await WsLink.connect(t.wsUrl);
    let r;
    if (!old) {
      // The TCP device logs in with its password on the link; the WS device with a Sid from manualauth.
      if (this.kind === 'tcp') {
        r = await link.auth({ UserName: this.userName, Password: PASSWORD, DeviceID: this.deviceId });
      } else {
        const l = await manualAuth(t.base, this.userName, PASSWORD, this.deviceId);
        r = await link.auth({ Uin: l.Uin, Sid: l.Sid, DeviceID: this.deviceId });
      }
    } else {
      r = await link.auth({ Uin: old.uin, Sid: old.sid, DeviceID: this.deviceId });
      link.key = old.key;
    }
    expect(r.BaseResponse.Ret, JSON.stringify(r)).toBe(0);
    expect(r.HeartbeatSec).toBe(240);
    expect(typeof r.Sid).toBe('string');
    expect(Buffer.from(r.Sid, 'base64url').length * 8).toBeGreaterThanOrEqual(96);
    if (!old) this.checkKey(r.SyncKey);
    this.link = link;
    await link.heartbeat();
  }

  nextClientMsgId(): string {
    return `${this.name}-${++this.sendCount}`;
  }

  async send(to: string, content: string, clientMsgId: string): Promise<{ MsgID: number; LocalID: string; BaseResponse: { Ret: number } }> {
    if (this.http) return this.http.send(to, content, clientMsgId);
    return this.link!.send(to, content, clientMsgId, this.userName);
  }

  /** Sync until ContinueFlag is 0, applying what arrives. */
  async sync(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const r = this.http ? await this.http.syncOnce() : await this.link!.syncOnce();
      expect(r.BaseResponse.Ret, `${this.name}: ${JSON.stringify(r.BaseResponse)}`).toBe(0);
      expect(r.AddMsgCount).toBe(r.AddMsgList.length);
      this.checkKey(r.SyncKey);
      for (const m of r.AddMsgList as Msg[]) {
        this.rawByClientId.set(`${m.FromUserName}/${m.ClientMsgId}`, (this.rawByClientId.get(`${m.FromUserName}/${m.ClientMsgId}`) ?? 0) + 1);
        if (this.seen.has(m.MsgId)) continue;
        this.seen.add(m.MsgId);
        this.msgs.push(m);
      }
      this.contacts.push(...r.ModContactList);
      if (r.ContinueFlag === 0) return;
    }
    throw new Error(`${this.name}: ContinueFlag never cleared`);
  }

  private checkKey(key: { Count: number; List: Array<{ Key: number; Val: number }> }): void {
    expect(key.Count).toBe(key.List.length);
    for (const { Key, Val } of key.List) {
      const before = this.maxVal.get(Key) ?? 0;
      expect(Val, `${this.name}: SyncKey ${Key} went back from ${before} to ${Val}`).toBeGreaterThanOrEqual(before);
      this.maxVal.set(Key, Val);
    }
  }

  close(): void {
    this.link?.destroy();
  }
}

const ALICE = 'alice';
const BOB = 'bob';

describe('the real server end to end', () => {
  const tmp = tempDb('e2e-conv');
  let t: TestServer;
  const devs: Dev[] = [
    new Dev('alice-web', 'http', ALICE, 'e123456789012345'),
    new Dev('alice-tcp', 'tcp', ALICE, 'alice-phone'),
    new Dev('alice-ws', 'ws', ALICE, 'alice-pad'),
    new Dev('bob-web', 'http', BOB, 'e543210987654321'),
    new Dev('bob-tcp', 'tcp', BOB, 'bob-phone'),
    new Dev('bob-ws', 'ws', BOB, 'bob-pad'),
  ];
  const [aliceWeb, aliceTcp, aliceWs, bobWeb, bobTcp, bobWs] = devs as [Dev, Dev, Dev, Dev, Dev, Dev];
  const alice = [aliceWeb, aliceTcp, aliceWs];
  /** Every send answered with a MsgID: sender/ClientMsgId -> MsgID. */
  const answered = new Map<string, number>();
  let room = '';

  const syncAll = (): Promise<void[]> => Promise.all(devs.map((d) => d.sync()));

  const sendOk = async (d: Dev, to: string, content: string, clientMsgId = d.nextClientMsgId()): Promise<number> => {
    const r = await d.send(to, content, clientMsgId);
    expect(r.BaseResponse.Ret, `${d.name} send: ${JSON.stringify(r)}`).toBe(0);
    expect(r.MsgID).toBeGreaterThan(0);
    expect(r.LocalID).toBe(clientMsgId);
    const k = `${d.userName}/${clientMsgId}`;
    if (answered.has(k)) expect(r.MsgID).toBe(answered.get(k));
    answered.set(k, r.MsgID);
    return r.MsgID;
  };

  /** Every device holds the same messages in the same order, and each answered send exactly once. */
  const expectConverged = (): void => {
    const ref = aliceWeb.msgs.map((m) => m.MsgId);
    for (const d of devs) {
      expect(d.msgs.map((m) => m.MsgId), d.name).toEqual(ref);
      for (const [k, msgId] of answered) {
        expect(d.rawByClientId.get(k), `${d.name} holds ${k} once`).toBe(1);
        expect(d.msgs.find((m) => `${m.FromUserName}/${m.ClientMsgId}` === k)?.MsgId).toBe(msgId);
      }
    }
    expect(ref.length).toBe(answered.size);
  };

  beforeAll(async () => {
    t = await startTestServer(tmp.db, { node: { holdMs: HOLD_MS } });
  });

  afterAll(async () => {
    for (const d of devs) d.close();
    await t?.srv.close();
    tmp.cleanup();
  });

  it('registers two accounts and logs in three devices each, one per transport', async () => {
    const a = await register(t.base, ALICE, PASSWORD);
    const b = await register(t.base, BOB, PASSWORD);
    expect(b).toBeGreaterThan(a);
    for (const d of devs) await d.connect(t);
    expect(t.srv.stats().node.openLinks).toBe(4);
  });

  it('completes a waiting synccheck early and notifies the long links (op 122) on a new item', async () => {
    const poll = bobWeb.http!.synccheck();
    await until(() => t.srv.stats().node.polls === 1, 2000, 'the synccheck to wait');
    await sendOk(aliceTcp, BOB, 'hello bob, from a phone');
    const sc = await poll;
    expect(sc).toMatchObject({ retcode: '0', selector: '2' });
    expect(sc.ms).toBeLessThan(HOLD_MS / 2);
    for (const d of [bobTcp, bobWs, aliceWs]) {
      const n = await d.link!.waitOp(OP.Notify);
      expect(n.seq).toBe(0);
      expect(frameJson(n).Selector & 2).toBe(2);
    }
    // The sender's other web device hears of its own message too (the multi-device echo).
    expect(await aliceWeb.http!.synccheck()).toMatchObject({ retcode: '0', selector: '2' });
  });

  it('carries sends in both directions over every transport, in one order on all six devices', async () => {
    for (const d of devs) await sendOk(d, d.userName === ALICE ? BOB : ALICE, `from ${d.name}: ünïcødé ✓ "quotes" \\ </script>`);
    await syncAll();
    expectConverged();
    const ids = aliceWeb.msgs.map((m) => m.MsgId);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    // Integrity: what arrives is byte for byte what was sent, under the same MsgId on the sender's devices.
    const fromWs = bobTcp.msgs.find((m) => m.ClientMsgId === 'alice-ws-1')!;
    expect(fromWs.Content).toBe('from alice-ws: ünïcødé ✓ "quotes" \\ </script>');
    expect(fromWs).toMatchObject({ FromUserName: ALICE, ToUserName: BOB, MsgType: 1, MsgId: fromWs.NewMsgId });
    for (const d of alice) expect(d.msgs.find((m) => m.ClientMsgId === 'alice-ws-1')?.MsgId).toBe(fromWs.MsgId);
    for (const d of devs) d.link?.discard(OP.Notify);
  });

  it('holds a synccheck with an up-to-date key, then answers "nothing new"', async () => {
    const sc = await bobWeb.http!.synccheck();
    expect(sc).toMatchObject({ retcode: '0', selector: '0' });
    expect(sc.ms).toBeGreaterThanOrEqual(HOLD_MS - 100);
  });

  it('stores a retried send once, with the same MsgID on every transport', async () => {
    const cmid = 'alice-retry-1';
    const first = await sendOk(aliceWeb, BOB, 'sent four times', cmid);
    expect(await sendOk(aliceWeb, BOB, 'sent four times', cmid)).toBe(first);
    expect(await sendOk(aliceTcp, BOB, 'sent four times', cmid)).toBe(first);
    expect(await sendOk(aliceWs, BOB, 'sent four times', cmid)).toBe(first);
    await syncAll();
    expectConverged();
  });

  it('orders a group with concurrent senders the same way on all six devices', async () => {
    const r = await aliceWeb.http!.post('webwxcreatechatroom', { MemberCount: 1, MemberList: [{ UserName: BOB }], Topic: 'both of us' });
    expect(r.json.BaseResponse.Ret).toBe(0);
    room = r.json.ChatRoomName;
    expect(room).toMatch(/^@@/);
    await syncAll();
    // Members come as names on the long link and as objects over HTTP (docs/protocol.md 4.2).
    const names = (list: unknown[] | undefined): string[] => (list ?? []).map((m) => (typeof m === 'string' ? m : (m as { UserName: string }).UserName)).sort();
    for (const d of devs) expect(names(d.contacts.find((c) => c.UserName === room)?.MemberList)).toEqual([ALICE, BOB]);

    const perDevice = 6;
    await Promise.all(
      devs.map(async (d) => {
        for (let i = 0; i < perDevice; i++) await sendOk(d, room, `${d.name} #${i}`);
      }),
    );
    await syncAll();
    expectConverged();
    const inRoom = (d: Dev): Msg[] => d.msgs.filter((m) => m.ToUserName === room);
    const order = inRoom(aliceWeb).map((m) => m.MsgId);
    expect(order.length).toBe(devs.length * perDevice);
    for (const d of devs) {
      expect(inRoom(d).map((m) => m.MsgId)).toEqual(order);
      // Each sender's messages keep the order in which they were sent.
      const mine = inRoom(d).filter((m) => m.ClientMsgId.startsWith(`${d.name}-`));
      expect(mine.map((m) => m.Content)).toEqual(Array.from({ length: perDevice }, (_, i) => `${d.name} #${i}`));
    }
    for (const d of devs) d.link?.discard(OP.Notify);
  });

  it('loses nothing acknowledged and never moves a SyncKey back across a restart mid-conversation', async () => {
    const before = answered.size;
    const lastVal = devs.map((d) => d.maxVal.get(1) ?? 0);
    // Every device keeps sending (one unanswered send at a time) while the server is closed under it.
    const pending = new Map<Dev, { to: string; content: string; clientMsgId: string }>();
    let stop = false;
    const loops = devs.map(async (d, i) => {
      for (let n = 0; n < 40 && !stop; n++) {
        const to = n % 2 === 0 ? room : i < 3 ? BOB : ALICE;
        const m = { to, content: `${d.name} in flight ${n}`, clientMsgId: d.nextClientMsgId() };
        pending.set(d, m);
        let r;
        try {
          r = await d.send(m.to, m.content, m.clientMsgId);
        } catch {
          return; // the connection went away: retry after the restart
        }
        if (r?.BaseResponse?.Ret !== 0) return; // 503 while shutting down: retry too
        pending.delete(d);
        answered.set(`${d.userName}/${m.clientMsgId}`, r.MsgID);
      }
    });
    await until(() => answered.size >= before + 12, 5000, 'sends before the restart');
    await t.srv.close();
    stop = true;
    await Promise.all(loops);
    for (const d of devs) d.close();

    t = await startTestServer(tmp.db, { node: { holdMs: HOLD_MS } });
    for (const d of devs) await d.connect(t);
    // The unanswered sends are retried with the same ClientMsgId: stored once whether or not they made it.
    for (const [d, m] of pending) await sendOk(d, m.to, m.content, m.clientMsgId);
    for (const d of devs) await sendOk(d, room, `${d.name} after the restart`);
    await syncAll();
    expectConverged();
    devs.forEach((d, i) => expect(d.maxVal.get(1)!).toBeGreaterThan(lastVal[i]!));
    for (const d of devs) {
      const key = d.http ? d.http.key : d.link!.key;
      expect(keyVal(key, 1)).toBe(d.maxVal.get(1));
    }
  });
});
