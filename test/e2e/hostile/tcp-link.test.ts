// Hostile input against the real server over loopback. Each case gets the
// answer PROTOCOL.md documents (an op-6 disconnect with its Ret and ErrMsg,
// an HTTP status with its Ret, a synccheck retcode), and after each one a
// normal client still works.
import net from 'node:net';
import http from 'node:http';
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDb, type TestServer } from './fixture.ts';
import {
  EMPTY_KEY,
  HttpDevice,
  MICRO,
  OP,
  TcpLink,
  WEB,
  WsLink,
  frameJson,
  httpCall,
  manualAuth,
  packet,
  rawHeader,
  register,
  sleep,
  until,
  type LinkClient,
} from './raw-client.ts';

const AUTH_TIMEOUT_MS = 400;
const MAX_HTTP_BODY = 64 * 1024;
const MAX_PACKET_BODY = 64 * 1024;
const WRITE_LIMIT = 256 * 1024;
const PASSWORD = 'pw';

/** The last frame is an op-6 disconnect with this Ret and an ErrMsg starting so; then the link closes. */
async function expectDisconnect(l: LinkClient, ret: number, errMsgPrefix: string): Promise<void> {
  const f = await l.waitOp(OP.Disconnect, 3000);
  expect(f.seq).toBe(0);
  const body = frameJson<{ Ret: number; ErrMsg: string }>(f);
  expect(body.Ret, body.ErrMsg).toBe(ret);
  expect(body.ErrMsg.startsWith(errMsgPrefix), `ErrMsg '${body.ErrMsg}' should start with '${errMsgPrefix}'`).toBe(true);
  await l.waitClosed(3000);
  expect(l.frames[l.frames.length - 1]).toBe(f);
}

describe('hostile input', () => {
  const tmp = tempDb('e2e-hostile');
  let t: TestServer;
  let web: HttpDevice;
  const opened: LinkClient[] = [];

  const tcp = async (): Promise<TcpLink> => {
    const l = await TcpLink.connect(t.tcpPort);
    opened.push(l);
    return l;
  };
  const ws = async (): Promise<WsLink> => {
    const l = await WsLink.connect(t.wsUrl);
    opened.push(l);
    return l;
  };
  const authed = async (userName: string, deviceId: string): Promise<TcpLink> => {
    const l = await tcp();
    const r = await l.auth({ UserName: userName, Password: PASSWORD, DeviceID: deviceId });
    expect(r.BaseResponse.Ret).toBe(0);
    return l;
  };

  beforeAll(async () => {
    t = await startTestServer(tmp.db, {
      node: { holdMs: 600, authTimeoutMs: AUTH_TIMEOUT_MS, maxHttpBody: MAX_HTTP_BODY, maxPacketBody: MAX_PACKET_BODY },
      linkWriteLimit: WRITE_LIMIT,
    });
    for (const u of ['alice', 'bob', 'carol', 'flood']) await register(t.base, u, PASSWORD);
    web = new HttpDevice(t.base, 'alice', PASSWORD, 'e100000000000001');
    await web.login();
    expect((await web.init()).BaseResponse.Ret).toBe(0);
  });

  // After every case: a normal web device and a normal TCP device still work.
  afterEach(async () => {
    for (const l of opened.splice(0)) l.destroy();
    const r = await web.syncOnce();
    expect(r.BaseResponse.Ret).toBe(0);
    const l = await TcpLink.connect(t.tcpPort);
    try {
      expect((await l.auth({ Uin: web.uin, Sid: web.sid, DeviceID: web.deviceId })).BaseResponse.Ret).toBe(0);
      await l.heartbeat();
      expect((await l.syncOnce()).BaseResponse.Ret).toBe(0);
    } finally {
      l.destroy();
    }
  });

  afterAll(async () => {
    await t?.srv.close();
    tmp.cleanup();
  });

  describe('the TCP long link', () => {
    it('answers random bytes with a disconnect and a close (fast-check)', async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ minLength: 16, maxLength: 400 }), fc.boolean(), async (bytes, afterHeartbeat) => {
          const l = await TcpLink.connect(t.tcpPort);
          try {
            if (afterHeartbeat) l.writeRaw(packet(OP.Heartbeat, 7));
            l.writeRaw(Buffer.from(bytes));
            await l.waitClosed(AUTH_TIMEOUT_MS + 2000);
            const last = l.frames[l.frames.length - 1];
            expect(last?.op).toBe(OP.Disconnect);
            expect([1100, 1102]).toContain(frameJson(last!).Ret);
            for (const f of l.frames.slice(0, -1)) expect(f.op).toBe(OP.HeartbeatReply);
          } finally {
            l.destroy();
          }
        }),
        { numRuns: 40 },
      );
      await until(() => t.srv.stats().node.links === 0, 3000, 'every fuzzed link to be gone');
    });

    it('reads packets split at every byte, and many packets in one write', async () => {
      const l = await tcp();
      const auth = packet(OP.Auth, 1, { UserName: 'bob', Password: PASSWORD, DeviceID: 'bob-split' });
      const stream = Buffer.concat([auth, packet(OP.Heartbeat, 2), packet(OP.Sync, 3, { SyncKey: EMPTY_KEY })]);
      for (let i = 0; i < stream.length; i++) {
        l.writeRaw(stream.subarray(i, i + 1));
        await sleep(0);
      }
      expect(frameJson((await l.waitFor((f) => f.seq === 1 && f.op === OP.AuthReply)))!.BaseResponse.Ret).toBe(0);
      await l.waitFor((f) => f.seq === 2 && f.op === OP.HeartbeatReply);
      expect(frameJson((await l.waitFor((f) => f.seq === 3 && f.op === OP.SyncReply)))!.BaseResponse.Ret).toBe(0);

      const many: Buffer[] = [];
      for (let s = 100; s < 300; s++) many.push(packet(OP.Heartbeat, s));
      many.push(packet(OP.Send, 300, { ClientMsgId: 'split-1', ToUserName: 'alice', Type: 1, Content: 'batched' }));
      many.push(packet(OP.Sync, 301, { SyncKey: EMPTY_KEY }));
      l.writeRaw(Buffer.concat(many));
      const send = frameJson(await l.waitFor((f) => f.op === OP.SendReply && f.seq === 300));
      expect(send.BaseResponse.Ret).toBe(0);
      const sync = frameJson(await l.waitFor((f) => f.op === OP.SyncReply && f.seq === 301));
      expect(sync.AddMsgList.map((m: { Content: string }) => m.Content)).toContain('batched');
      const beats = l.frames.filter((f) => f.op === OP.HeartbeatReply && f.seq >= 100).map((f) => f.seq);
      expect(beats).toEqual(Array.from({ length: 200 }, (_, i) => 100 + i));
    });

    it.each([
      ['packLen over the limit', rawHeader(16 + MAX_PACKET_BODY + 1, 16, 1, OP.Heartbeat, 1), 'WIRE_PACKLEN_TOO_LARGE'],
      ['packLen 0xffffffff', rawHeader(0xffffffff, 16, 1, OP.Auth, 1), 'WIRE_PACKLEN_TOO_LARGE'],
      ['packLen under 16', rawHeader(15, 16, 1, OP.Heartbeat, 1), 'WIRE_PACKLEN_TOO_SMALL'],
      ['headerLen not 16', rawHeader(16, 20, 1, OP.Heartbeat, 1), 'WIRE_BAD_HEADER_LEN'],
      ['a wrong version', rawHeader(16, 16, 2, OP.Heartbeat, 1), 'WIRE_BAD_VERSION'],
      ['an unknown op', packet(99, 1), 'unknown operation 99'],
      ['a server-only op', packet(OP.Notify, 1), 'unknown operation 122'],
    ])('disconnects on %s with Ret 1102', async (_name, bytes, prefix) => {
      const l = await tcp();
      l.writeRaw(bytes);
      await expectDisconnect(l, 1102, prefix);
    });

    it('disconnects an authenticated link on an unknown op too, and leaves the others alone', async () => {
      const other = await authed('bob', 'bob-other');
      const l = await authed('bob', 'bob-unknown-op');
      l.writeRaw(packet(1234, 5));
      await expectDisconnect(l, 1102, 'unknown operation 1234');
      await other.heartbeat();
    });

    it('closes a connection that does not authenticate in time', async () => {
      const idle = await tcp();
      const partial = await tcp();
      partial.writeRaw(rawHeader(40, 16, 1, OP.Auth, 1).subarray(0, 10));
      const t0 = Date.now();
      await expectDisconnect(idle, 1100, 'auth timeout');
      await expectDisconnect(partial, 1100, 'auth timeout');
      expect(Date.now() - t0).toBeLessThan(AUTH_TIMEOUT_MS + 1000);
    });

    it.each([
      ['sync', OP.Sync, { SyncKey: EMPTY_KEY }],
      ['send', OP.Send, { ClientMsgId: 'x', ToUserName: 'bob', Content: 'x' }],
    ])('refuses %s before auth with Ret 1100', async (_n, op, body) => {
      const l = await tcp();
      l.writeRaw(packet(op, 1, body));
      await expectDisconnect(l, 1100, 'authenticate first (op 7)');
    });

    it.each([
      ['not JSON', '{"UserName": '],
      ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
    ])('disconnects on an auth body that is %s', async (_n, body) => {
      const l = await tcp();
      l.writeRaw(packet(OP.Auth, 1, body));
      await expectDisconnect(l, 1102, 'operation 7: ');
    });

    it('disconnects on bad JSON after auth', async () => {
      const l = await authed('bob', 'bob-badjson');
      l.writeRaw(packet(OP.Sync, 2, '{SyncKey'));
      await expectDisconnect(l, 1102, 'operation 10: body is not valid JSON');
    });

    it('fails a wrong password on the link with op 8 Ret 1103, then disconnects', async () => {
      const l = await tcp();
      const r = await l.auth({ UserName: 'bob', Password: 'wrong', DeviceID: 'bob-x' });
      expect(r.BaseResponse.Ret).toBe(1103);
      await expectDisconnect(l, 1103, 'wrong user name or password');
    });

    it('answers a malformed SyncKey on the link with Ret 1102 and keeps the link', async () => {
      const l = await authed('bob', 'bob-badkey');
      for (const key of ['1_5', { Count: 2, List: [{ Key: 1, Val: 0 }] }, { Count: 1, List: [{ Key: 1, Val: -1 }] }]) {
        const r = await l.call(OP.Sync, OP.SyncReply, { SyncKey: key });
        expect(r.BaseResponse.Ret).toBe(1102);
        expect(r.BaseResponse.ErrMsg).toMatch(/^SyncKey: /);
      }
      const ahead = await l.call(OP.Sync, OP.SyncReply, { SyncKey: { Count: 1, List: [{ Key: 1, Val: 99_999_999 }] } });
      expect(ahead.BaseResponse).toEqual({ Ret: 1102, ErrMsg: 'SyncKey 1_99999999 is ahead of the server' });
      await l.heartbeat();
    });

    it('drops a reader that never reads once its queue passes the write limit', async () => {
      const filler = new HttpDevice(t.base, 'flood', PASSWORD, 'flood-web');
      await filler.login();
      const content = 'x'.repeat(30_000);
      for (let i = 0; i < 10; i++) expect((await filler.send('flood', content, `f${i}`)).BaseResponse.Ret).toBe(0);
      const l = await authed('flood', 'flood-phone');
      const overflowBefore = t.srv.stats().tcp.overflowClosed;
      l.socket.pause();
      // Each reply is about 300 KB; 80 of them are far more than the socket buffers and the limit.
      const syncs: Buffer[] = [];
      for (let s = 10; s < 90; s++) syncs.push(packet(OP.Sync, s, { SyncKey: EMPTY_KEY }));
      l.writeRaw(Buffer.concat(syncs));
      await until(() => t.srv.stats().tcp.overflowClosed > overflowBefore, 10_000, 'the slow reader to be dropped');
      l.socket.resume();
      await l.waitClosed(5000);
      expect(l.frames.filter((f) => f.op === OP.SyncReply).length).toBeLessThan(80);
    });

    it('serves 200 connections at once (150 TCP, 50 WebSocket)', async () => {
      const links = await Promise.all([
        ...Array.from({ length: 150 }, () => tcp()),
        ...Array.from({ length: 50 }, () => ws()),
      ]);
      await until(() => t.srv.stats().node.links >= 200, 5000, '200 links');
      await Promise.all(links.map((l) => l.heartbeat()));
      for (const l of links) l.destroy();
      await until(() => t.srv.stats().node.links === 0, 5000, 'the links to close');
    });
  });

  describe('the WebSocket long link', () => {
    it('closes on a text message with 1003 and feeds the node nothing', async () => {
      const l = await ws();
      const before = t.srv.stats().node.commands;
      l.ws.send(JSON.stringify({ UserName: 'bob', Password: PASSWORD, DeviceID: 'bob-text' }));
      await l.waitClosed();
      expect(l.closeCode).toBe(1003);
      expect(l.closeReason).toMatch(/binary/);
      expect(t.srv.stats().node.commands).toBe(before);
    });

    it('closes a message over 16 + maxPacketBody with 1009', async () => {
      const l = await ws();
      l.writeRaw(Buffer.alloc(16 + MAX_PACKET_BODY + 1));
      await l.waitClosed();
      expect(l.closeCode).toBe(1009);
    });

    it('disconnects on a bad header in a binary message, like TCP', async () => {
      const l = await ws();
      l.writeRaw(rawHeader(16, 16, 9, OP.Heartbeat, 1));
      await expectDisconnect(l, 1102, 'WIRE_BAD_VERSION');
    });

    it('reads packets split across messages and several in one message', async () => {
      const l = await ws();
      const p = Buffer.concat([packet(OP.Heartbeat, 1), packet(OP.Auth, 2, { UserName: 'carol', Password: PASSWORD, DeviceID: 'carol-ws' })]);
      l.writeRaw(p.subarray(0, 7));
      l.writeRaw(p.subarray(7, 30));
      l.writeRaw(p.subarray(30));
      await l.waitFor((f) => f.op === OP.HeartbeatReply && f.seq === 1);
      expect(frameJson(await l.waitFor((f) => f.op === OP.AuthReply && f.seq === 2)).BaseResponse.Ret).toBe(0);
    });

    it('refuses an upgrade on another path with 404', async () => {
      const err = await new Promise<Error>((resolve) => {
        const w = new WebSocket(`ws://127.0.0.1:${t.srv.httpPort}/elsewhere`);
        w.on('error', resolve);
      });
      expect(err.message).toMatch(/404/);
    });
  });

  describe('HTTP', () => {
    it.each([
      ['not JSON', '{"BaseRequest":', 'request body is not valid JSON'],
      ['an array', '[1,2,3]', 'request body must be a JSON object'],
      ['empty', '', 'request body must be a JSON object'],
    ])('answers a body that is %s with 400 and Ret 1102', async (_n, body, errMsg) => {
      const r = await httpCall(t.base, 'POST', `${WEB}webwxsync`, body);
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(r.json).toEqual({ BaseResponse: { Ret: 1102, ErrMsg: errMsg } });
    });

    it('answers 404 for an unknown path and 405 for a wrong method, with Ret 1102', async () => {
      const nf = await httpCall(t.base, 'GET', '/cgi-bin/mmwebwx-bin/nothing?x=1');
      expect(nf.status).toBe(404);
      expect(nf.json.BaseResponse).toEqual({ Ret: 1102, ErrMsg: 'no endpoint at /cgi-bin/mmwebwx-bin/nothing' });
      const get = await httpCall(t.base, 'GET', `${WEB}webwxsync`);
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
      expect(get.json.BaseResponse.Ret).toBe(1102);
      const post = await httpCall(t.base, 'POST', `${WEB}synccheck`, {});
      expect(post.status).toBe(405);
      expect(post.headers.get('allow')).toBe('GET');
    });

    it('answers a body over maxHttpBody with 413 and Ret 1102, declared or chunked', async () => {
      const big = JSON.stringify({ BaseRequest: web.baseRequest, Msg: { ClientMsgId: 'big', ToUserName: 'bob', Content: 'y'.repeat(MAX_HTTP_BODY) } });
      const r = await httpCall(t.base, 'POST', `${WEB}webwxsendmsg`, big);
      expect(r.status).toBe(413);
      expect(r.json).toEqual({ BaseResponse: { Ret: 1102, ErrMsg: `request body is larger than ${MAX_HTTP_BODY} bytes` } });
      const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port: t.srv.httpPort, method: 'POST', path: `${WEB}webwxsendmsg`, headers: { 'transfer-encoding': 'chunked' } },
          (res) => {
            let body = '';
            res.on('data', (c) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        for (let i = 0; i < 8; i++) req.write(Buffer.alloc(16 * 1024, 0x20));
        req.end();
      });
      expect(chunked.status).toBe(413);
      expect(JSON.parse(chunked.body).BaseResponse.Ret).toBe(1102);
    });

    it('forgets a waiting synccheck whose client went away', async () => {
      const aborted = t.srv.stats().http.aborted;
      const ac = new AbortController();
      const poll = web.synccheck(ac.signal).catch((e: Error) => e);
      await until(() => t.srv.stats().node.polls === 1, 2000, 'the poll');
      ac.abort();
      expect(await poll).toBeInstanceOf(Error);
      await until(() => t.srv.stats().node.polls === 0, 2000, 'the poll to be dropped');
      expect(t.srv.stats().http.aborted).toBe(aborted + 1);
    });

    it('answers unparseable HTTP with 400 and no stack trace', async () => {
      const text = await new Promise<string>((resolve) => {
        const s = net.connect(t.srv.httpPort, '127.0.0.1');
        let got = '';
        s.on('data', (c) => (got += c));
        s.on('close', () => resolve(got));
        s.on('error', () => {});
        s.write('THIS IS NOT HTTP\r\n\r\n');
      });
      expect(text).toMatch(/^HTTP\/1\.1 400 /);
      expect(text).not.toMatch(/\n\s+at /);
    });

    it("treats another account's Sid as an unknown session (1100) everywhere", async () => {
      const bob = await manualAuth(t.base, 'bob', PASSWORD, 'bob-web');
      const stolen = { Uin: bob.Uin, Sid: web.sid, Skey: web.skey, DeviceID: web.deviceId };
      const sync = await httpCall(t.base, 'POST', `${WEB}webwxsync`, { BaseRequest: stolen, SyncKey: EMPTY_KEY });
      expect(sync.json).toEqual({ BaseResponse: { Ret: 1100, ErrMsg: 'unknown or expired session' } });
      const mixed = { Uin: web.uin, Sid: bob.Sid, Skey: bob.Skey, DeviceID: 'bob-web' };
      const send = await httpCall(t.base, 'POST', `${WEB}webwxsendmsg`, { BaseRequest: mixed, Msg: { ClientMsgId: 'steal', ToUserName: 'bob', Content: 'x' } });
      expect(send.json.BaseResponse.Ret).toBe(1100);
      const sc = new HttpDevice(t.base, 'bob', '', web.deviceId);
      Object.assign(sc, { uin: bob.Uin, sid: web.sid, skey: web.skey });
      expect(await sc.synccheck()).toMatchObject({ retcode: '1100', selector: '0' });
      const l = await tcp();
      const r = await l.auth({ Uin: bob.Uin, Sid: web.sid, DeviceID: web.deviceId });
      expect(r.BaseResponse.Ret).toBe(1100);
      await expectDisconnect(l, 1100, 'unknown or expired session');
    });

    it('answers a malformed synckey in synccheck with retcode 1102, and in webwxsync with Ret 1102', async () => {
      for (const synckey of ['abc', '1_5|1_6', '1_-3', '01_5']) {
        const q = new URLSearchParams({ sid: web.sid, uin: String(web.uin), skey: web.skey, deviceid: web.deviceId, synckey });
        const r = await httpCall(t.base, 'GET', `${WEB}synccheck?${q}`);
        expect(r.text, synckey).toBe('window.synccheck={retcode:"1102",selector:"0"}');
        expect(r.headers.get('content-type')).toMatch(/^text\/javascript/);
      }
      const bad = await web.post('webwxsync', { SyncKey: { Count: 3, List: [] } });
      expect(bad.json.BaseResponse.Ret).toBe(1102);
      expect(bad.json.BaseResponse.ErrMsg).toMatch(/^SyncKey: /);
      const missing = await httpCall(t.base, 'GET', `${WEB}synccheck?sid=${web.sid}`);
      expect(missing.text).toBe('window.synccheck={retcode:"1102",selector:"0"}');
    });
  });

  describe('sessions', () => {
    it('closes the older long link of a device that opens a newer one (1109), keeping the session', async () => {
      const dev = new HttpDevice(t.base, 'carol', PASSWORD, 'carol-tablet');
      await dev.login();
      const older = await tcp();
      expect((await older.auth({ Uin: dev.uin, Sid: dev.sid, DeviceID: dev.deviceId })).BaseResponse.Ret).toBe(0);
      const newer = await ws();
      expect((await newer.auth({ Uin: dev.uin, Sid: dev.sid, DeviceID: dev.deviceId })).BaseResponse.Ret).toBe(0);
      await expectDisconnect(older, 1109, '');
      await newer.heartbeat();
      expect((await dev.syncOnce()).BaseResponse.Ret).toBe(0);
    });

    it('answers 1101 on synccheck and disconnects the old long link when a device logs in again', async () => {
      const first = new HttpDevice(t.base, 'carol', PASSWORD, 'carol-phone');
      await first.login();
      const link = await tcp();
      expect((await link.auth({ Uin: first.uin, Sid: first.sid, DeviceID: first.deviceId })).BaseResponse.Ret).toBe(0);
      const waiting = first.synccheck();
      await until(() => t.srv.stats().node.polls >= 1, 2000, 'the synccheck to wait');

      const second = new HttpDevice(t.base, 'carol', PASSWORD, 'carol-phone');
      await second.login();
      expect(second.sid).not.toBe(first.sid);
      expect(await waiting).toMatchObject({ retcode: '1101', selector: '0' });
      await expectDisconnect(link, 1101, 'session replaced');
      expect(await first.synccheck()).toMatchObject({ retcode: '1101' });
      expect((await first.syncOnce()).BaseResponse.Ret).toBe(1101);
      const again = await tcp();
      expect((await again.auth({ Uin: first.uin, Sid: first.sid, DeviceID: first.deviceId })).BaseResponse.Ret).toBe(1101);
      await expectDisconnect(again, 1101, '');
      // The new session works; logging it out ends it the same way.
      expect((await second.syncOnce()).BaseResponse.Ret).toBe(0);
      expect((await second.post('webwxlogout', {})).json.BaseResponse.Ret).toBe(0);
      expect(await second.synccheck()).toMatchObject({ retcode: '1101' });
    });
  });
});

// Registration and login through the micromsg endpoints reject bad input with their documented Ret.
describe('account endpoints under bad input', () => {
  const tmp = tempDb('e2e-accounts');
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(tmp.db);
  });
  afterAll(async () => {
    await t?.srv.close();
    tmp.cleanup();
  });

  it('answers a taken name 1104, a bad name 1102 and a wrong password 1103', async () => {
    await register(t.base, 'dave', PASSWORD);
    const taken = await httpCall(t.base, 'POST', `${MICRO}register`, { UserName: 'dave', Password: 'x' });
    expect(taken.json.BaseResponse.Ret).toBe(1104);
    const bad = await httpCall(t.base, 'POST', `${MICRO}register`, { UserName: 'no spaces allowed', Password: 'x' });
    expect(bad.json.BaseResponse.Ret).toBe(1102);
    const wrong = await httpCall(t.base, 'POST', `${MICRO}manualauth`, { UserName: 'dave', Password: 'nope', DeviceID: 'd1' });
    expect(wrong.json.BaseResponse).toEqual({ Ret: 1103, ErrMsg: 'wrong user name or password' });
    const nobody = await httpCall(t.base, 'POST', `${MICRO}manualauth`, { UserName: 'nobody', Password: 'nope', DeviceID: 'd1' });
    expect(nobody.json.BaseResponse).toEqual(wrong.json.BaseResponse);
  });
});
