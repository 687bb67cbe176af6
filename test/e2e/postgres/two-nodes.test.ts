// Two real server processes on one PostgreSQL database (issue 14, items 3
// and 4), started as `npm start -- --store URL` and as `DATABASE_URL=URL npm
// start` run them: a device on
// node A, devices of the same account and of another on node B. A send on A
// reaches B's long link and B's held synccheck before the poll's hold ends
// (only A's notice can wake it there); a send retried on B with the same
// ClientMsgId gets A's first answer; a room's messages, sent through both
// nodes at once, come in one order to every member.
//
// The schema is a fresh one (test/store/pg-test-db.ts); without PostgreSQL
// the file fails with one line that says how to start it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPg, urlWithSchema } from '../../store/pg-test-db.ts';
import { register } from '../raw-client/http.ts';
import { HttpDevice } from '../raw-client/http-device.ts';
import { OP, frameJson } from '../raw-client/packets.ts';
import { TcpLink } from '../raw-client/tcp-link.ts';
import { sleep, until } from '../raw-client/wait.ts';
import { startNodeProcess, type NodeProcess } from './node-process.ts';

const PASSWORD = 'pw-two-nodes';
/** Long enough that a poll answered with news was woken, not expired. */
const HOLD_MS = 8000;
const ROUNDS = 4;

const db = await testPg();
const schema = await db.newSchema();
const url = urlWithSchema(db.url, schema);

interface Msg {
  MsgId: number;
  FromUserName: string;
  ToUserName: string;
  Content: string;
}

describe('two server nodes on one PostgreSQL database', () => {
  const media = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-two-nodes-'));
  let a: NodeProcess;
  let b: NodeProcess;
  const links: TcpLink[] = [];
  const args = (name: string): string[] => [
    '--http-port', '0',
    '--tcp-port', '0',
    '--scrypt-n', '2',
    '--hold-ms', String(HOLD_MS),
    '--media-dir', path.join(media, name),
    '--log-level', 'warn',
  ];

  beforeAll(async () => {
    // Both at once on a fresh schema: one creates its tables while the other
    // waits. A is told by --store, B by DATABASE_URL (as a platform sets it).
    [a, b] = await Promise.all([startNodeProcess(['--store', url, ...args('a')]), startNodeProcess(args('b'), { DATABASE_URL: url })]);
    for (const n of [a, b]) {
      expect(n.db).toMatch(/^postgres(ql)?:\/\//);
      expect(n.db, 'the ready line shows no password').not.toContain(':synckey@');
    }
  });

  afterAll(async () => {
    for (const l of links) l.destroy();
    const codes = await Promise.all([a?.stop(), b?.stop()]);
    await db.end();
    fs.rmSync(media, { recursive: true, force: true });
    expect(codes).toEqual([0, 0]);
  });

  let aliceA: HttpDevice;
  let bobLink: TcpLink;
  let bobWeb: HttpDevice;
  let carolB: HttpDevice;

  it('carries a send on node A to the long link and the held synccheck node B holds', async () => {
    for (const u of ['alice', 'bob', 'carol']) await register(a.http, u, PASSWORD);
    aliceA = new HttpDevice(a.http, 'alice', PASSWORD, 'e100000000000001');
    await aliceA.login();
    bobWeb = new HttpDevice(b.http, 'bob', PASSWORD, 'e200000000000001');
    await bobWeb.login();
    await bobWeb.syncOnce();
    carolB = new HttpDevice(b.http, 'carol', PASSWORD, 'e300000000000001');
    await carolB.login();
    await carolB.syncOnce();
    bobLink = await TcpLink.connect(b.tcpPort);
    links.push(bobLink);
    expect((await bobLink.auth({ UserName: 'bob', Password: PASSWORD, DeviceID: 'e200000000000002' })).BaseResponse.Ret).toBe(0);
    await bobLink.syncOnce();

    let bobPolled: { selector: string; ms: number } | undefined;
    let carolPolled: { selector: string } | undefined;
    const carolAbort = new AbortController();
    void bobWeb.synccheck().then((r) => (bobPolled = r));
    void carolB.synccheck(carolAbort.signal).then((r) => (carolPolled = r), () => undefined);
    // Both polls are held on B: nothing new for either.
    await sleep(300);
    expect([bobPolled, carolPolled]).toEqual([undefined, undefined]);

    const t0 = performance.now();
    const sent = await aliceA.send('bob', 'from node A', 'two-nodes-1');
    expect(sent.BaseResponse.Ret).toBe(0);
    const acked = performance.now();
    const notify = await bobLink.waitOp(OP.Notify, HOLD_MS / 2);
    const notifiedAt = performance.now();
    expect(frameJson(notify)).toEqual({ Selector: 2 });
    await until(() => bobPolled !== undefined, HOLD_MS / 2, "bob's poll on node B");
    // News, not the hold's end: A's notice woke it.
    expect(bobPolled!.selector).toBe('2');
    expect(carolPolled).toBeUndefined();
    carolAbort.abort();
    // The wake carried nothing: both of bob's devices read the message from the database.
    const viaLink = await bobLink.syncOnce();
    const viaWeb = await bobWeb.syncOnce();
    for (const r of [viaLink, viaWeb]) expect(r.AddMsgList.map((m: Msg) => [m.MsgId, m.Content])).toEqual([[sent.MsgID, 'from node A']]);
    console.log(
      `two nodes on PostgreSQL: send answered on A in ${(acked - t0).toFixed(1)} ms; ` +
        `B's long link notified ${(notifiedAt - acked).toFixed(1)} ms after the answer, ${(notifiedAt - t0).toFixed(1)} ms after the send`,
    );
  });

  it("answers a send retried on node B with the same ClientMsgId with A's first answer", async () => {
    const first = await aliceA.send('bob', 'retried', 'two-nodes-retry');
    expect(first.BaseResponse.Ret).toBe(0);
    // The same device's retry, landing on the other node (as behind a load balancer).
    const onB = new HttpDevice(b.http, 'alice', PASSWORD, aliceA.deviceId);
    Object.assign(onB, { uin: aliceA.uin, sid: aliceA.sid, skey: aliceA.skey, key: aliceA.key });
    const retry = await onB.send('bob', 'retried', 'two-nodes-retry');
    expect(retry.BaseResponse.Ret).toBe(0);
    expect(retry.MsgID).toBe(first.MsgID);
    const got = await bobWeb.syncOnce();
    expect(got.AddMsgList.filter((m: Msg) => m.Content === 'retried').map((m: Msg) => m.MsgId)).toEqual([first.MsgID]);
  });

  it("orders a room's messages the same for every member, whichever node each was sent through", async () => {
    const made = await aliceA.post('webwxcreatechatroom', { MemberCount: 2, MemberList: [{ UserName: 'bob' }, { UserName: 'carol' }], Topic: 'two nodes' });
    expect(made.json.BaseResponse.Ret).toBe(0);
    const room: string = made.json.ChatRoomName;
    // Every member sends at once, round after round: alice through A, bob's link and carol through B.
    const written: Array<[string, string]> = [];
    for (let i = 0; i < ROUNDS; i++) {
      const sends = await Promise.all([
        aliceA.send(room, `alice ${i}`, `room-a-${i}`),
        bobLink.send(room, `bob ${i}`, `room-b-${i}`, 'bob'),
        carolB.send(room, `carol ${i}`, `room-c-${i}`),
      ]);
      for (const s of sends) expect(s.BaseResponse.Ret).toBe(0);
      written.push(['alice', `alice ${i}`], ['bob', `bob ${i}`], ['carol', `carol ${i}`]);
    }
    const inRoom = async (sync: () => Promise<any>): Promise<Msg[]> => {
      const got: Msg[] = [];
      await until(
        async () => {
          const r = await sync();
          got.push(...(r.AddMsgList as Msg[]).filter((m) => m.ToUserName === room));
          return got.length >= 3 * ROUNDS && r.ContinueFlag === 0;
        },
        10_000,
        'the room messages',
      );
      return got;
    };
    const views = [await inRoom(() => aliceA.syncOnce()), await inRoom(() => bobLink.syncOnce()), await inRoom(() => bobWeb.syncOnce()), await inRoom(() => carolB.syncOnce())];
    const order = views[0]!.map((m) => m.MsgId);
    expect(order).toHaveLength(3 * ROUNDS);
    expect([...order].sort((x, y) => x - y)).toEqual(order);
    for (const v of views) expect(v.map((m) => m.MsgId)).toEqual(order);
    // Each sender's messages in the order it wrote them.
    for (const who of ['alice', 'bob', 'carol']) {
      const mine = views[0]!.filter((m) => m.FromUserName === who).map((m) => m.Content);
      expect(mine).toEqual(written.filter(([w]) => w === who).map(([, c]) => c));
    }
  });
});
