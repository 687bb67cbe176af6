// The QR web login over real sockets: a browser (fetch and a cookie jar)
// asks for a uuid and its QR code, a phone logged in by manualauth (or over
// its TCP long link) scans and confirms, the login poll hears 201 then 200,
// the redirect answers 301 with the session in XML and cookies, and the web
// session then works by its cookies alone until its logout, which ends its
// waiting synccheck at once. Then the refusals: a ticket used twice, a uuid
// past its time, a poll with nothing to tell (408), and --public-url.
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDb, type TestServer } from '../fixture.ts';
import { httpCall, register, parseSyncCheck } from '../raw-client/http.ts';
import { HttpDevice } from '../raw-client/http-device.ts';
import { keyQuery } from '../raw-client/sync-key.ts';
import { TcpLink } from '../raw-client/tcp-link.ts';
import { until } from '../raw-client/wait.ts';
import { PNG_SIGNATURE, decodePng, sampleModules } from './png.ts';
import { CookieJar, MICRO, PHONE_OP, WEB, jslogin, loginPoll, web, xmlField, type WebResult } from './web-client.ts';

const PASSWORD = 'correct horse';
const HOLD_MS = 800;
const OK = { Ret: 0, ErrMsg: '' };

async function phoneCall(t: TestServer, phone: HttpDevice, what: 'confirmget' | 'confirmok', loginUrl: string): Promise<{ Ret: number; ErrMsg: string }> {
  const r = await httpCall(t.base, 'POST', `${MICRO}extdevicelogin${what}`, { BaseRequest: phone.baseRequest, LoginUrl: loginUrl });
  return r.json.BaseResponse;
}

/** A uuid scanned and confirmed by `phone`: the redirect URI its login poll hears. */
async function confirmedRedirect(t: TestServer, phone: HttpDevice, publicUrl = t.base): Promise<string> {
  const uuid = await jslogin(t.base);
  expect(await phoneCall(t, phone, 'confirmget', `${publicUrl}/l/${uuid}`)).toEqual(OK);
  expect(await phoneCall(t, phone, 'confirmok', `${publicUrl}/l/${uuid}`)).toEqual(OK);
  const done = await loginPoll(t.base, uuid, 0);
  expect(done.code).toBe(200);
  return done.redirectUri!;
}

describe('QR web login over real sockets', () => {
  const dir = tempDb('web-login');
  let t: TestServer;
  let phone: HttpDevice;

  beforeAll(async () => {
    t = await startTestServer(dir.db, { node: { loginHoldMs: HOLD_MS } });
    await register(t.base, 'alice', PASSWORD);
    await register(t.base, 'bob', PASSWORD);
    phone = new HttpDevice(t.base, 'alice', PASSWORD, 'alice-phone');
    await phone.login();
  });
  afterAll(async () => {
    await t.srv.close();
    dir.cleanup();
  });

  it('the whole flow: jslogin, a QR PNG of <public-url>/l/UUID, 201, 200, 301 with cookies; cookies alone then; logout ends the synccheck with 1101', async () => {
    const uuid = await jslogin(t.base);
    expect(uuid).toMatch(/^[A-Za-z0-9_-]{22}$/);

    const qr = await web(`${t.base}/qrcode/${uuid}`);
    expect(qr.status).toBe(200);
    expect(qr.headers.get('content-type')).toBe('image/png');
    expect(qr.bytes.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    const expected = QRCode.create(`${t.base}/l/${uuid}`, { errorCorrectionLevel: 'M' }).modules;
    expect(sampleModules(decodePng(qr.bytes), expected.size)).toEqual(Uint8Array.from(expected.data));

    const first = loginPoll(t.base, uuid, 1);
    await until(() => t.srv.node.stats().loginPolls === 1, 5000, 'the login poll held');
    expect(await phoneCall(t, phone, 'confirmget', `${t.base}/l/${uuid}`)).toEqual(OK);
    expect(await first).toEqual({ code: 201, avatar: 'data:img/jpg;base64,' });
    const second = loginPoll(t.base, uuid, 0);
    await until(() => t.srv.node.stats().loginPolls === 1, 5000, 'the second login poll held');
    expect(await phoneCall(t, phone, 'confirmok', `${t.base}/l/${uuid}`)).toEqual(OK);
    const done = await second;
    expect(done.code).toBe(200);
    expect(done.redirectUri).toMatch(new RegExp(`^${t.base}${WEB}webwxnewloginpage\\?ticket=[A-Za-z0-9_-]+&uuid=${uuid}&lang=zh_CN&scan=\\d+$`));

    const jar = new CookieJar();
    const page = await web(`${done.redirectUri}&fun=new&version=v2`, { jar });
    expect(page.status).toBe(301);
    const lines = page.text.split('\n');
    expect(lines[0]).toBe('<error>');
    expect(lines.slice(1, 3)).toEqual(['<ret>0</ret>', '<message></message>']);
    expect(lines[3]).toMatch(/^<skey>@crypt_[0-9a-f]+_[0-9a-f]+<\/skey>$/);
    expect(lines[4]).toMatch(/^<wxsid>[A-Za-z0-9_-]+<\/wxsid>$/);
    expect(lines[5]).toBe(`<wxuin>${phone.uin}</wxuin>`);
    expect(lines[6]).toMatch(/^<pass_ticket>[A-Za-z0-9_-]+<\/pass_ticket>$/);
    expect(lines.slice(7)).toEqual(['<isgrayscale>1</isgrayscale>', '</error>']);
    const setCookies = page.headers.getSetCookie();
    expect(setCookies.map((c) => c.split('=')[0])).toEqual(['wxuin', 'wxsid', 'webwx_data_ticket', 'pass_ticket']);
    for (const c of setCookies) expect(c.endsWith('; Path=/'), c).toBe(true);
    const sid = xmlField(page.text, 'wxsid')!;
    const skey = encodeURIComponent(xmlField(page.text, 'skey')!);
    const passTicket = xmlField(page.text, 'pass_ticket')!;
    expect(jar.values.get('wxuin')).toBe(String(phone.uin));
    expect(jar.values.get('wxsid')).toBe(sid);
    expect(jar.values.get('pass_ticket')).toBe(passTicket);

    // Cookies only: no BaseRequest, no DeviceID (webwxsync adds its skey parameter, as the web client does).
    const post = (path: string, body: unknown): Promise<WebResult> => web(`${t.base}${WEB}${path}`, { method: 'POST', body: JSON.stringify(body), jar });
    const init = await post(`webwxinit?r=${~Date.now()}&pass_ticket=${passTicket}`, {});
    expect(init.json.BaseResponse).toEqual(OK);
    expect(init.json.User).toMatchObject({ Uin: phone.uin, UserName: 'alice' });
    const msg = { ClientMsgId: 'web-1', LocalID: 'web-1', FromUserName: 'alice', ToUserName: 'bob', Type: 1, Content: 'from the browser' };
    const sent = await post(`webwxsendmsg?pass_ticket=${passTicket}`, { Msg: msg, Scene: 0 });
    expect(sent.json.BaseResponse).toEqual(OK);
    expect(sent.json.MsgID).toBeGreaterThan(0);
    const sync = await post(`webwxsync?sid=${sid}&skey=${skey}&pass_ticket=${passTicket}`, { SyncKey: init.json.SyncKey, rr: ~Date.now() });
    expect(sync.json.BaseResponse).toEqual(OK);
    expect(sync.json.AddMsgList.map((m: { Content: string }) => m.Content)).toContain('from the browser');
    const bob = new HttpDevice(t.base, 'bob', PASSWORD, 'bob-web');
    await bob.login();
    const got = await bob.syncOnce();
    expect(got.AddMsgList.map((m: { FromUserName: string; Content: string }) => `${m.FromUserName}:${m.Content}`)).toContain('alice:from the browser');

    // A synccheck by cookie waits (its deviceid is the web client's own guess, and does not matter)...
    const q = `r=${Date.now()}&skey=${skey}&sid=${sid}&uin=${phone.uin}&deviceid=e123456789012345&synckey=${encodeURIComponent(keyQuery(sync.json.SyncKey))}&_=${Date.now()}`;
    const check = web(`${t.base}${WEB}synccheck?${q}`, { jar });
    await until(() => t.srv.node.stats().polls === 1, 5000, 'the synccheck held');
    // ...until the logout by cookie (no body) ends the session: it answers 1101 at once.
    const out = await web(`${t.base}${WEB}webwxlogout?redirect=1&type=0&skey=${skey}`, { method: 'POST', jar });
    expect(out.json.BaseResponse).toEqual(OK);
    expect(parseSyncCheck((await check).text)).toEqual({ retcode: '1101', selector: '0' });
    expect((await post('webwxinit', {})).json.BaseResponse.Ret).toBe(1101);
    // The phone's own session goes on.
    expect((await phone.syncOnce()).BaseResponse).toEqual(OK);
  });

  it('the phone scans and confirms over its TCP long link (ops 30 and 32)', async () => {
    const link = await TcpLink.connect(t.tcpPort);
    try {
      expect((await link.auth({ UserName: 'alice', Password: PASSWORD, DeviceID: 'alice-tcp' })).BaseResponse).toEqual(OK);
      const uuid = await jslogin(t.base);
      const first = loginPoll(t.base, uuid, 1);
      await until(() => t.srv.node.stats().loginPolls === 1, 5000, 'the login poll held');
      expect(await link.call(PHONE_OP.ConfirmGet, PHONE_OP.ConfirmGetReply, { LoginUrl: `${t.base}/l/${uuid}` })).toEqual({ BaseResponse: OK });
      expect((await first).code).toBe(201);
      expect(await link.call(PHONE_OP.ConfirmOk, PHONE_OP.ConfirmOkReply, { LoginUrl: `${t.base}/l/${uuid}` })).toEqual({ BaseResponse: OK });
      const done = await loginPoll(t.base, uuid, 0);
      expect(done.code).toBe(200);
      const page = await web(done.redirectUri!);
      expect(page.status).toBe(301);
      expect(xmlField(page.text, 'wxuin')).toBe(String(link.uin));
      // A second confirm of the same uuid is refused, and the link carries on.
      expect((await link.call(PHONE_OP.ConfirmOk, PHONE_OP.ConfirmOkReply, { LoginUrl: `${t.base}/l/${uuid}` })).BaseResponse.Ret).toBe(1204);
      await link.heartbeat();
    } finally {
      link.destroy();
    }
  });

  it('a ticket works once: the second use answers <ret>1203</ret> without cookies', async () => {
    const uri = await confirmedRedirect(t, phone);
    const jar = new CookieJar();
    const once = await web(uri, { jar });
    expect(once.status).toBe(301);
    const twice = await web(uri);
    expect(twice.status).toBe(200);
    expect(xmlField(twice.text, 'ret')).toBe('1203');
    expect(twice.headers.getSetCookie()).toEqual([]);
    // The first use's session is the one that works.
    const init = await web(`${t.base}${WEB}webwxinit`, { method: 'POST', body: '{}', jar });
    expect(init.json.BaseResponse).toEqual(OK);
    expect((await loginPoll(t.base, new URL(uri).searchParams.get('uuid')!, 0)).code).toBe(400);
  });

  it('a login poll with nothing to tell answers window.code=408 after its hold', async () => {
    const uuid = await jslogin(t.base);
    expect(await loginPoll(t.base, uuid, 1)).toEqual({ code: 408 });
  });

  it('an unknown uuid: the poll answers 400, the QR code 404, the phone Ret 1204', async () => {
    const uuid = 'AAAAAAAAAAAAAAAAAAAAAA';
    expect(await loginPoll(t.base, uuid, 1)).toEqual({ code: 400 });
    expect((await web(`${t.base}/qrcode/${uuid}`)).status).toBe(404);
    expect((await phoneCall(t, phone, 'confirmget', `${t.base}/l/${uuid}`)).Ret).toBe(1204);
  });
});

describe('QR web login: a uuid past its time', () => {
  const dir = tempDb('web-login-expiry');
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer(dir.db, { node: { qrLoginTtlMs: 500, loginHoldMs: 30_000 } });
    await register(t.base, 'carol', PASSWORD);
  });
  afterAll(async () => {
    await t.srv.close();
    dir.cleanup();
  });

  it('its held poll answers 400 when it expires; then the phone is refused and the QR code is gone', async () => {
    const phone = new HttpDevice(t.base, 'carol', PASSWORD, 'carol-phone');
    await phone.login();
    const uuid = await jslogin(t.base);
    expect(await loginPoll(t.base, uuid, 1)).toEqual({ code: 400 });
    expect((await phoneCall(t, phone, 'confirmget', `${t.base}/l/${uuid}`)).Ret).toBe(1204);
    expect((await web(`${t.base}/qrcode/${uuid}`)).status).toBe(404);
  });
});

describe('QR web login behind --public-url', () => {
  const dir = tempDb('web-login-public');
  const publicUrl = 'https://wx.example.test/sync';
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer(dir.db, { publicUrl });
    await register(t.base, 'dave', PASSWORD);
  });
  afterAll(async () => {
    await t.srv.close();
    dir.cleanup();
  });

  it('the QR code and the redirect carry the public URL, whatever host the request used', async () => {
    const phone = new HttpDevice(t.base, 'dave', PASSWORD, 'dave-phone');
    await phone.login();
    const uuid = await jslogin(t.base);
    const qr = await web(`${t.base}/qrcode/${uuid}`);
    const expected = QRCode.create(`${publicUrl}/l/${uuid}`, { errorCorrectionLevel: 'M' }).modules;
    expect(sampleModules(decodePng(qr.bytes), expected.size)).toEqual(Uint8Array.from(expected.data));
    expect(await phoneCall(t, phone, 'confirmget', `${publicUrl}/l/${uuid}`)).toEqual(OK);
    expect(await phoneCall(t, phone, 'confirmok', `${publicUrl}/l/${uuid}`)).toEqual(OK);
    const done = await loginPoll(t.base, uuid, 0);
    expect(done.redirectUri!.startsWith(`${publicUrl}${WEB}webwxnewloginpage?ticket=`)).toBe(true);
    // The same path on the one port: the redirect's path and query work here too.
    const u = new URL(done.redirectUri!);
    expect((await web(`${t.base}${WEB}webwxnewloginpage${u.search}`)).status).toBe(301);
  });
});
