// The k6 web-login script's requests (loadtest/k6/web-login.js) without k6:
// the same sequence, with the very bodies its k6-free helpers build
// (loadtest/k6/web-forms.js), against the real server. What k6 itself adds
// (its cookie jar, its checks) is not here; the formats are.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multipart, uploadFields, xmlField } from '../../loadtest/k6/web-forms.js';
import { startTestServer, tempDb, type TestServer } from '../e2e/fixture.ts';
import { MICRO, WEB, manualAuth, register } from '../e2e/raw-client/http.ts';

const PASSWORD = 'pw-k6-web';

// The answers' JSON, read loosely: the expectations check its shape.
const json = async (r: Response): Promise<any> => r.json();

describe('the k6 web-login flow, its bodies posted by Node', () => {
  const tmp = tempDb('k6-web-forms');
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer(tmp.db, { node: { loginHoldMs: 1_000 } });
    await register(t.base, 'kate', PASSWORD);
  });
  afterAll(async () => {
    await t.srv.close();
    tmp.cleanup();
  });

  it('QR login confirmed by the phone, then by cookies alone: webwxinit, the multipart upload, webwxsendmsgimg, the image back byte for byte', async () => {
    const phone = await manualAuth(t.base, 'kate', PASSWORD, 'k6-phone-1');
    const phoneBase = { Uin: phone.Uin, Sid: phone.Sid, Skey: phone.Skey, DeviceID: 'k6-phone-1' };
    const js = await (await fetch(`${t.base}/jslogin?appid=wx782c26e4c19acffb&fun=new&lang=en_US&_=1`)).text();
    const uuid = /window\.QRLogin\.uuid = "([^"]+)"/.exec(js)![1]!;
    for (const step of ['get', 'ok']) {
      const r = await fetch(`${t.base}${MICRO}extdeviceloginconfirm${step}`, { method: 'POST', body: JSON.stringify({ BaseRequest: phoneBase, LoginUrl: `${t.base}/l/${uuid}` }) });
      expect((await json(r)).BaseResponse.Ret).toBe(0);
    }
    const poll = await (await fetch(`${t.base}${WEB}login?loginicon=true&uuid=${uuid}&tip=0&r=1&_=0`)).text();
    const redirect = /window\.redirect_uri="([^"]+)"/.exec(poll)![1]!;
    const page = await fetch(`${redirect.replace(/^https?:\/\/[^/]+/, t.base)}&fun=new&version=v2`, { redirect: 'manual' });
    expect(page.status).toBe(301);
    const xml = await page.text();
    const cookie = page.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const uin = Number(xmlField(xml, 'wxuin'));
    const skey = xmlField(xml, 'skey')!;
    expect(xmlField(xml, 'ret')).toBe('0');

    const init = await fetch(`${t.base}${WEB}webwxinit?r=1`, { method: 'POST', body: '{}', headers: { cookie } });
    expect((await json(init)).BaseResponse.Ret).toBe(0);

    const bytes = new Uint8Array(4096).map((_, i) => (i * 31 + 1) & 0xff);
    const md5 = crypto.createHash('md5').update(bytes).digest('hex');
    const base = { Uin: uin, Sid: xmlField(xml, 'wxsid')!, Skey: skey, DeviceID: 'e000000000000001' };
    const boundary = '----k6test';
    const body = multipart(boundary, uploadFields({ base, user: 'kate', to: 'kate', clientMediaId: 'k6-1-0', name: 'k6.png', md5, bytes: bytes.length, at: 0 }), 'k6.png', bytes);
    const up = await fetch(`${t.base}${WEB}webwxuploadmedia?f=json`, { method: 'POST', body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, cookie } });
    const upJson = await json(up);
    expect(upJson.BaseResponse.Ret).toBe(0);
    expect(upJson.MediaId).toMatch(/^@media_/);

    const msg = { Type: 3, MediaId: upJson.MediaId, Content: '', ClientMsgId: 'k6-1-0', LocalID: 'k6-1-0', FromUserName: 'kate', ToUserName: 'kate' };
    const sent = await fetch(`${t.base}${WEB}webwxsendmsgimg?fun=async&f=json`, { method: 'POST', body: JSON.stringify({ Msg: msg, Scene: 0 }), headers: { cookie } });
    const sentJson = await json(sent);
    expect(sentJson.BaseResponse.Ret).toBe(0);
    const got = await fetch(`${t.base}${WEB}webwxgetmsgimg?MsgID=${sentJson.MsgID}&skey=${encodeURIComponent(skey)}&type=big`, { headers: { cookie } });
    expect(got.status).toBe(200);
    expect(crypto.createHash('md5').update(new Uint8Array(await got.arrayBuffer())).digest('hex')).toBe(md5);

    const out = await fetch(`${t.base}${WEB}webwxlogout?redirect=1&type=0&skey=${encodeURIComponent(skey)}`, { method: 'POST', headers: { cookie }, redirect: 'manual' });
    expect(out.status).toBeLessThan(500);
    const after = await fetch(`${t.base}${WEB}webwxinit?r=2`, { method: 'POST', body: '{}', headers: { cookie } });
    expect((await json(after)).BaseResponse.Ret).not.toBe(0);
  });
});
