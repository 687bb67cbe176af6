// @ts-check
// k6: the web login and media flow, as a browser and a phone go through it.
//
// Each iteration is one user's visit: a phone logs in by password (manualauth);
// the browser asks for a uuid (jslogin) and its QR code (a PNG); the phone
// scans and confirms it (extdeviceloginconfirmget, ...ok); the browser's login
// poll hears 200 with the redirect, which answers 301 with the session in XML
// and cookies; from then on the browser names its session by the cookies
// alone: webwxinit, an image upload (multipart, the fields first and the file
// part last, as the web client's FormData sends them), webwxsendmsgimg to the
// account's own phone, the image fetched back byte for byte
// (webwxgetmsgimg), and the logout. Every step is a check; a step that fails
// ends the iteration (counted in web_login_failed).
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e VUS=20 -e DURATION=60s loadtest/k6/web-login.js
import { check } from 'k6';
import crypto from 'k6/crypto';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter, Trend } from 'k6/metrics';
import { BASE_URL, DURATION_S, JSON_HEADERS, MICRO, VUS, WEB, login, postJson, registerAccounts, summaryFiles } from './lib.js';
import { multipart, uploadFields, xmlField } from './web-forms.js';

const IMAGE_BYTES = Math.max(16, Number(__ENV.IMAGE_BYTES || 4096));

const loginsDone = new Counter('web_logins');
const loginsFailed = new Counter('web_login_failed');
const qrToSession = new Trend('web_login_qr_to_session', true);
const imagesRoundTripped = new Counter('web_images_round_tripped');

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    visits: { executor: 'constant-vus', vus: VUS, duration: `${Math.ceil(DURATION_S)}s` },
  },
  thresholds: {
    web_login_failed: ['count==0'],
    checks: ['rate==1'],
    'http_req_duration{name:webwxuploadmedia}': ['p(99)<1000'],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
  setupTimeout: '300s',
};

/** @returns {{ accounts: string[] }} */
export function setup() {
  return { accounts: registerAccounts(VUS) };
}

/**
 * One step: its check, and on failure the iteration ends.
 * @param {boolean} ok
 * @param {string} what
 */
function must(ok, what) {
  if (!check(null, { [what]: () => ok })) {
    loginsFailed.add(1);
    throw new Error(`web login: ${what} failed`);
  }
}

/** @param {{ accounts: string[] }} data */
export default function visit(data) {
  const vu = exec.vu.idInTest;
  const user = /** @type {string} */ (data.accounts[(vu - 1) % data.accounts.length]);
  const phone = login(user, `k6-phone-${vu}`, `k6p-${vu}-${exec.vu.iterationInScenario}`);
  must(phone.base !== undefined, 'the phone logs in');
  const t0 = Date.now();

  const js = http.get(`${BASE_URL}/jslogin?appid=wx782c26e4c19acffb&fun=new&lang=en_US&_=${t0}`, { tags: { name: 'jslogin' } });
  const uuid = /window\.QRLogin\.uuid = "([^"]+)"/.exec(String(js.body))?.[1];
  must(js.status === 200 && uuid !== undefined, 'jslogin gives a uuid');
  const png = http.get(`${BASE_URL}/qrcode/${uuid}`, { tags: { name: 'qrcode' }, responseType: 'binary' });
  must(png.status === 200 && String(png.headers['Content-Type']).startsWith('image/png'), 'the QR code is a PNG');

  const loginUrl = `${BASE_URL}/l/${uuid}`;
  for (const step of ['get', 'ok']) {
    const r = postJson(`${MICRO}extdeviceloginconfirm${step}`, { BaseRequest: phone.base, LoginUrl: loginUrl }, `extdeviceloginconfirm${step}`);
    must(r.body !== undefined && r.body.BaseResponse.Ret === 0, `the phone's confirm${step}`);
  }
  /** @type {string | undefined} */
  let redirect;
  for (let i = 0; i < 3 && redirect === undefined; i++) {
    const poll = http.get(`${WEB}login?loginicon=true&uuid=${uuid}&tip=0&r=${Date.now()}&_=${i}`, { tags: { name: 'login' } });
    redirect = /window\.redirect_uri="([^"]+)"/.exec(String(poll.body))?.[1];
  }
  must(redirect !== undefined, 'the login poll hears 200 with the redirect');
  const page = http.get(`${String(redirect).replace(/^https?:\/\/[^/]+/, BASE_URL)}&fun=new&version=v2`, { redirects: 0, tags: { name: 'webwxnewloginpage' } });
  const xml = String(page.body);
  const uin = Number(xmlField(xml, 'wxuin'));
  const skey = xmlField(xml, 'skey');
  must(page.status === 301 && xmlField(xml, 'ret') === '0' && uin > 0 && skey !== undefined, 'the ticket gives a session (301)');
  qrToSession.add(Date.now() - t0);
  loginsDone.add(1);

  // Cookies alone from here on: the jar holds wxuin and wxsid.
  const init = http.post(`${WEB}webwxinit?r=${Date.now()}`, '{}', { headers: JSON_HEADERS, tags: { name: 'webwxinit' } });
  must(init.status === 200 && init.json('BaseResponse.Ret') === 0, 'webwxinit by cookies');

  const bytes = new Uint8Array(IMAGE_BYTES);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + vu) & 0xff;
  const md5 = crypto.md5(bytes.buffer, 'hex');
  const clientMediaId = `k6-${vu}-${exec.vu.iterationInScenario}`;
  const sid = String(xmlField(xml, 'wxsid'));
  const base = { Uin: uin, Sid: sid, Skey: String(skey), DeviceID: `e${String(vu).padStart(15, '0')}` };
  const boundary = `----k6${clientMediaId}`;
  const body = multipart(boundary, uploadFields({ base, user, to: user, clientMediaId, name: 'k6.png', md5, bytes: bytes.length, at: t0 }), 'k6.png', bytes);
  const up = http.post(`${WEB}webwxuploadmedia?f=json`, body, {
    headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
    tags: { name: 'webwxuploadmedia' },
  });
  const mediaId = up.status === 200 ? up.json('MediaId') : undefined;
  must(typeof mediaId === 'string' && mediaId !== '', 'the upload answers a MediaId');

  const msg = { Type: 3, MediaId: mediaId, Content: '', ClientMsgId: clientMediaId, LocalID: clientMediaId, FromUserName: user, ToUserName: user };
  const sent = http.post(`${WEB}webwxsendmsgimg?fun=async&f=json`, JSON.stringify({ Msg: msg, Scene: 0 }), { headers: JSON_HEADERS, tags: { name: 'webwxsendmsgimg' } });
  const msgId = sent.status === 200 ? sent.json('MsgID') : undefined;
  must(typeof msgId === 'number', 'webwxsendmsgimg answers a MsgID');

  const got = http.get(`${WEB}webwxgetmsgimg?MsgID=${msgId}&skey=${encodeURIComponent(String(skey))}&type=big`, { responseType: 'binary', tags: { name: 'webwxgetmsgimg' } });
  const back = got.status === 200 && got.body instanceof ArrayBuffer ? crypto.md5(got.body, 'hex') : '';
  must(back === md5, 'the image comes back byte for byte');
  imagesRoundTripped.add(1);

  const out = http.post(`${WEB}webwxlogout?redirect=1&type=0&skey=${encodeURIComponent(String(skey))}`, null, { redirects: 0, tags: { name: 'webwxlogout' } });
  must(out.status < 500, 'webwxlogout');
  http.cookieJar().clear(BASE_URL);
}

/** @param {any} data */
export function handleSummary(data) {
  return summaryFiles('web-login', data, ['web_logins', 'web_login_failed', 'web_images_round_tripped']);
}
