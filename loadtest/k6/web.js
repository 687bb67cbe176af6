// @ts-check
// k6: web (HTTP) clients of the SyncKey server.
//
// Each of VUS accounts has two web devices, so that every message also
// reaches the sender's other device (the multi-device echo):
//   receivers  manualauth, webwxinit, then synccheck long polls and webwxsync
//              when the selector says so; every message is audited (delivered,
//              duplicated, missing) and its send-to-delivery time recorded
//   senders    manualauth, then webwxsendmsg to the other accounts in turn at
//              SEND_RATE per second (Poisson), each retried with the same
//              ClientMsgId until answered; at the end a "fin" message tells
//              every peer how many messages the sender sent
// Both scenarios are per-vu-iterations with one long iteration, so VU n of a
// scenario is account n (exec.scenario.iterationInTest).
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e VUS=20 -e DURATION=30s -e SEND_RATE=2 loadtest/k6/web.js
import { check, sleep } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import {
  Audit,
  DRAIN_S,
  DURATION_S,
  JSON_HEADERS,
  MICRO,
  PASSWORD,
  SEND_RATE,
  THRESHOLDS,
  VUS,
  WEB,
  content,
  duplicated,
  finContent,
  missing,
  poissonDelay,
  registerAccounts,
  sendAckLatency,
  sendFailed,
  sentOk,
  summaryFiles,
  targetOf,
} from './lib.js';

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    receivers: {
      executor: 'per-vu-iterations',
      exec: 'receiver',
      vus: VUS,
      iterations: 1,
      maxDuration: `${Math.ceil(DURATION_S + DRAIN_S + 60)}s`,
    },
    senders: {
      executor: 'per-vu-iterations',
      exec: 'sender',
      vus: VUS,
      iterations: 1,
      startTime: '2s',
      maxDuration: `${Math.ceil(DURATION_S + 60)}s`,
    },
  },
  // Object.assign, not object spread: k6 v0.47's Babel pass rejects `...` in object literals.
  thresholds: Object.assign({}, THRESHOLDS, {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{name:webwxsendmsg}': ['p(95)<500', 'p(99)<1000'],
    'http_req_duration{name:webwxsync}': ['p(95)<500', 'p(99)<1000'],
  }),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
  setupTimeout: '120s',
};

/** @returns {{ accounts: string[] }} */
export function setup() {
  return registerAccounts(VUS);
}

/**
 * A web login of one device.
 * @param {string} user
 * @param {string} deviceId
 */
function login(user, deviceId) {
  const res = http.post(`${MICRO}manualauth`, JSON.stringify({ UserName: user, Password: PASSWORD, DeviceID: deviceId }), {
    headers: JSON_HEADERS,
    tags: { name: 'manualauth' },
  });
  const body = res.status === 200 ? /** @type {any} */ (res.json()) : undefined;
  check(res, { 'manualauth Ret 0': () => body !== undefined && body.BaseResponse.Ret === 0 });
  if (!body || body.BaseResponse.Ret !== 0) throw new Error(`manualauth ${user}: HTTP ${res.status} ${res.body}`);
  return {
    BaseRequest: { Uin: /** @type {number} */ (body.Uin), Sid: /** @type {string} */ (body.Sid), Skey: /** @type {string} */ (body.Skey), DeviceID: deviceId },
    SyncKey: body.SyncKey,
  };
}

/**
 * `e` + 15 digits, as the web client does; unique per account and role.
 * @param {number} i
 * @param {number} role
 */
function webDeviceId(i, role) {
  return `e${String(role * 100000000 + i).padStart(15, '0')}`;
}

/** @param {{ List: Array<{ Key: number, Val: number }> }} k */
function keyQuery(k) {
  return k.List.map((p) => `${p.Key}_${p.Val}`).join('|');
}

/** @param {{ accounts: string[] }} data */
export function receiver(data) {
  const me = exec.scenario.iterationInTest;
  const user = /** @type {string} */ (data.accounts[me]);
  const session = login(user, webDeviceId(me, 1));
  const base = session.BaseRequest;
  const init = http.post(`${WEB}webwxinit?r=${Date.now()}`, JSON.stringify({ BaseRequest: base }), { headers: JSON_HEADERS, tags: { name: 'webwxinit' } });
  const initBody = init.status === 200 ? /** @type {any} */ (init.json()) : undefined;
  check(init, { 'webwxinit Ret 0': () => initBody !== undefined && initBody.BaseResponse.Ret === 0 });
  // A new device asks for everything retained: the key of every data category at 0.
  let key = { Count: 2, List: [{ Key: 1, Val: 0 }, { Key: 2, Val: 0 }] };
  const audit = new Audit(me, data.accounts.length);
  duplicated.add(0);
  const deadline = Date.now() + (DURATION_S + DRAIN_S + 10) * 1000;
  let sync = true; // sync once at once: anything already retained
  while (Date.now() < deadline && !audit.complete()) {
    if (!sync) {
      const q = `sid=${encodeURIComponent(base.Sid)}&uin=${base.Uin}&skey=${encodeURIComponent(base.Skey)}&deviceid=${base.DeviceID}&synckey=${encodeURIComponent(keyQuery(key))}&r=${Date.now()}`;
      const res = http.get(`${WEB}synccheck?${q}`, { timeout: '40s', tags: { name: 'synccheck' } });
      const m = /retcode:"(\d+)",selector:"(\d+)"/.exec(String(res.body));
      check(res, { 'synccheck retcode 0': () => m !== null && m[1] === '0' });
      if (!m || m[1] !== '0') {
        sleep(1);
        continue;
      }
      sync = m[2] !== '0';
    }
    if (sync) {
      const res = http.post(`${WEB}webwxsync?sid=${encodeURIComponent(base.Sid)}&skey=${encodeURIComponent(base.Skey)}`, JSON.stringify({ BaseRequest: base, SyncKey: key, rr: Math.floor(Date.now() / 1000) }), {
        headers: JSON_HEADERS,
        tags: { name: 'webwxsync' },
      });
      const body = res.status === 200 ? /** @type {any} */ (res.json()) : undefined;
      check(res, { 'webwxsync Ret 0': () => body !== undefined && body.BaseResponse.Ret === 0 });
      if (!body || body.BaseResponse.Ret !== 0) {
        sleep(1);
        continue;
      }
      for (const msg of body.AddMsgList) audit.apply(msg);
      key = body.SyncKey;
      if (body.SKey) base.Skey = body.SKey;
      sync = body.ContinueFlag === 1;
    }
  }
  // Present the final key once more: everything received is acknowledged.
  http.post(`${WEB}webwxsync?sid=${encodeURIComponent(base.Sid)}&skey=${encodeURIComponent(base.Skey)}`, JSON.stringify({ BaseRequest: base, SyncKey: key, rr: 0 }), {
    headers: JSON_HEADERS,
    tags: { name: 'webwxsync' },
  });
  audit.settle();
}

/**
 * One message, retried with the same ClientMsgId until the server answers it (at most 10 tries).
 * @param {any} base
 * @param {string} from
 * @param {string} to
 * @param {string} clientMsgId
 * @param {string} text
 * @param {boolean} counted a message of the test (not a fin)
 * @returns {boolean}
 */
function sendOne(base, from, to, clientMsgId, text, counted) {
  const t0 = Date.now();
  for (let attempt = 1; attempt <= 10; attempt++) {
    const res = http.post(
      `${WEB}webwxsendmsg`,
      JSON.stringify({ BaseRequest: base, Msg: { ClientMsgId: clientMsgId, LocalID: clientMsgId, FromUserName: from, ToUserName: to, Type: 1, Content: text }, Scene: 0 }),
      { headers: JSON_HEADERS, tags: { name: 'webwxsendmsg' } },
    );
    const body = res.status === 200 ? /** @type {any} */ (res.json()) : undefined;
    const ok = body !== undefined && body.BaseResponse.Ret === 0 && typeof body.MsgID === 'number';
    check(res, { 'webwxsendmsg answered with a MsgID': () => ok });
    if (ok) {
      sendAckLatency.add(Date.now() - t0);
      if (counted) sentOk.add(1);
      return true;
    }
    sleep(Math.min(5, 0.2 * 2 ** attempt));
  }
  sendFailed.add(1);
  return false;
}

/** @param {{ accounts: string[] }} data */
export function sender(data) {
  const me = exec.scenario.iterationInTest;
  const n = data.accounts.length;
  const user = /** @type {string} */ (data.accounts[me]);
  const base = login(user, webDeviceId(me, 2)).BaseRequest;
  sendFailed.add(0);
  missing.add(0);
  const end = Date.now() + DURATION_S * 1000;
  let count = 0;
  while (Date.now() < end) {
    sleep(Math.min(poissonDelay(SEND_RATE), Math.max(0, (end - Date.now()) / 1000)));
    if (Date.now() >= end) break;
    // Names from setup(): RUN_TAG's default is drawn in every VU's init context, so only setup's list is shared.
    const to = /** @type {string} */ (data.accounts[targetOf(me, count, n)]);
    // Only an answered message counts; an unanswered one keeps its number (and ClientMsgId) for the next try.
    if (sendOne(base, user, to, `k6w${me}-${count}`, content(me, count, Date.now()), true)) count++;
  }
  for (let j = 0; j < n; j++) {
    if (j !== me) sendOne(base, user, /** @type {string} */ (data.accounts[j]), `k6w${me}-fin${j}`, finContent(me, count), false);
  }
}

/** @param {any} data */
export function handleSummary(data) {
  return summaryFiles('web', data);
}
