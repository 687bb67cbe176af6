// @ts-check
// k6: web (HTTP) clients of the SyncKey server.
//
//   receivers  one VU per account, a web device: manualauth, webwxinit, then
//              synccheck long polls and webwxsync when the selector says so;
//              every message is judged by ledger.js. A session the server
//              ends (1100, 1101) logs in again: counted in session_relogins.
//   senders    an open model: the constant-arrival-rate executor starts
//              VUS × SEND_RATE sends a second whatever the answers. Each
//              sending VU is one stream over one cohort (the members send in
//              turn, each to the others in turn), through one sending session
//              per account that setup() logged in; a send is retried with the
//              same ClientMsgId until answered or the drain deadline. After
//              DURATION the executor runs on for DRAIN + FIN_WINDOW with
//              nothing to send: the first iteration each sending VU gets then
//              sends its stream's ONE fin to its cohort's room.
// An iteration the executor could not start (no free VU) allocates no message
// number, so it is never expected: k6 counts it in dropped_iterations.
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e VUS=50 -e DURATION=60s -e SEND_RATE=2 loadtest/k6/web.js
import { check, sleep } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import {
  COHORT,
  CONTENT_BYTES,
  DRAIN_S,
  DURATION_S,
  JSON_HEADERS,
  LATE_S,
  SEND_RATE,
  THRESHOLDS,
  VUS,
  WEB,
  ZERO_KEY,
  createRooms,
  finsSent,
  login,
  postJson,
  recordObservation,
  recordSettled,
  registerAccounts,
  sendAckLatency,
  sendFailed,
  sentOk,
  summaryFiles,
  touchCounters,
} from './lib.js';
import { Ledger, endOfRun, messageContent } from './ledger.js';
import { FINAL_RETS, retryAfterMs } from './outbox.js';
import { arrivalRateOption, makePlan, parseStream, route, vuStream } from './traffic-plan.js';

const PLAN = makePlan(VUS, COHORT);
const TOTAL_RATE = VUS * SEND_RATE;
/** Senders start this long after the receivers, which log in first. */
const SENDER_DELAY_S = 2;
/** Sending VUs made ready at the start: a whole number per cohort, about one per 5 sends a second. */
const SENDER_VUS = Number(__ENV.SENDER_VUS) || PLAN.cohorts * Math.ceil(Math.ceil(TOTAL_RATE / 5) / PLAN.cohorts);
const MAX_SENDER_VUS = Math.max(SENDER_VUS, Number(__ENV.MAX_SENDER_VUS) || 4 * SENDER_VUS);
/** Long enough for the executor's iterations to come round every sending VU (it hands them to idle VUs in turn). */
const FIN_WINDOW_S = Number(__ENV.FIN_WINDOW) || Math.max(5, Math.ceil((3 * MAX_SENDER_VUS) / TOTAL_RATE));

const relogins = new Counter('session_relogins');

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    receivers: {
      executor: 'per-vu-iterations',
      exec: 'receiver',
      vus: VUS,
      iterations: 1,
      maxDuration: `${Math.ceil(SENDER_DELAY_S + DURATION_S + DRAIN_S + FIN_WINDOW_S + LATE_S + 60)}s`,
    },
    senders: Object.assign(
      {
        executor: /** @type {'constant-arrival-rate'} */ ('constant-arrival-rate'),
        exec: 'sender',
        duration: `${Math.ceil(DURATION_S + DRAIN_S + FIN_WINDOW_S)}s`,
        preAllocatedVUs: SENDER_VUS,
        maxVUs: MAX_SENDER_VUS,
        startTime: `${SENDER_DELAY_S}s`,
      },
      arrivalRateOption(TOTAL_RATE),
    ),
  },
  // Object.assign, not object spread: k6 v0.47's Babel pass rejects `...` in object literals.
  thresholds: Object.assign({}, THRESHOLDS, {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{name:webwxsendmsg}': ['p(95)<500', 'p(99)<1000'],
    'http_req_duration{name:webwxsync}': ['p(95)<500', 'p(99)<1000'],
  }),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
  setupTimeout: '300s',
};

/**
 * `e` + 15 digits, as the web client does; unique per account and role.
 * @param {number} i
 * @param {number} role 1 receiving, 2 sending
 */
function webDeviceId(i, role) {
  return `e${String(role * 100000000 + i).padStart(15, '0')}`;
}

/** @typedef {{ accounts: string[], sessions: import('./lib.js').BaseRequest[], rooms: string[] }} Data */

/** @returns {Data} */
export function setup() {
  const accounts = registerAccounts(VUS);
  // One sending device per account, shared by every sending VU (a device per VU and account would pass the device limit).
  const sessions = accounts.map((user, i) => {
    const s = login(user, webDeviceId(i, 2), 'k6s0');
    if (!s.base) throw new Error(`manualauth ${user}: Ret ${s.ret}`);
    return s.base;
  });
  return { accounts, sessions, rooms: createRooms(PLAN, accounts, (i) => /** @type {import('./lib.js').BaseRequest} */ (sessions[i])) };
}

// ------------------------------------------------------------ receivers

/** @param {Data} data */
export function receiver(data) {
  const me = exec.scenario.iterationInTest;
  const user = /** @type {string} */ (data.accounts[me]);
  const sendEnd = exec.scenario.startTime + (SENDER_DELAY_S + DURATION_S) * 1000;
  const drainEnd = sendEnd + DRAIN_S * 1000;
  const finsDue = sendEnd + FIN_WINDOW_S * 1000;
  const lateEnd = drainEnd + (FIN_WINDOW_S + LATE_S) * 1000;
  const ledger = new Ledger({ me, plan: PLAN, drainDeadline: drainEnd });
  touchCounters();

  /** The key the last login handed out: the acknowledged position, the fallback after a second 1200. */
  let loginKey = /** @type {any} */ (ZERO_KEY);
  /** @returns {import('./lib.js').BaseRequest} */
  const logIn = () => {
    for (;;) {
      const s = login(user, webDeviceId(me, 1));
      if (s.base) {
        const init = postJson(`${WEB}webwxinit?r=${Date.now()}`, { BaseRequest: s.base }, 'webwxinit');
        const ok = init.body !== undefined && init.body.BaseResponse.Ret === 0;
        check(init, { 'webwxinit Ret 0': () => ok });
        if (ok && init.body.SKey) s.base.Skey = init.body.SKey;
        if (ok) loginKey = init.body.SyncKey;
        if (ok) return s.base;
      } else if (s.ret === 1103) throw new Error(`manualauth ${user}: wrong password`);
      if (Date.now() >= lateEnd) throw new Error(`manualauth ${user}: no session before the end (Ret ${s.ret})`);
      sleep(1);
    }
  };
  let base = logIn();
  // The device keeps its own key across logins (the login's key is only the acknowledged one).
  let key = /** @type {{ List: Array<{ Key: number, Val: number }> }} */ (ZERO_KEY);
  let sync = true; // at once: anything already retained
  // synccheck holds a poll for the server's hold time: wait well past the longest quiet answer seen.
  let pollTimeoutS = 60;
  let longestQuietMs = 0;
  while (Date.now() < lateEnd && !(Date.now() >= finsDue && ledger.complete())) {
    if (!sync) {
      const q =
        `sid=${encodeURIComponent(base.Sid)}&uin=${base.Uin}&skey=${encodeURIComponent(base.Skey)}&deviceid=${base.DeviceID}` +
        `&synckey=${encodeURIComponent(key.List.map((p) => `${p.Key}_${p.Val}`).join('|'))}&r=${Date.now()}`;
      const t = Date.now();
      const res = http.get(`${WEB}synccheck?${q}`, { timeout: `${pollTimeoutS}s`, tags: { name: 'synccheck' } });
      if (res.status === 0 && Date.now() - t >= pollTimeoutS * 1000 - 100) {
        pollTimeoutS = Math.min(300, pollTimeoutS * 2); // the server holds longer than we waited
        continue;
      }
      const m = /retcode:"(\d+)",selector:"(\d+)"/.exec(String(res.body));
      const retcode = m ? m[1] : undefined;
      check(res, { 'synccheck answered': () => retcode === '0' || retcode === '1100' || retcode === '1101' || retcode === '2' });
      if (retcode === '1100' || retcode === '1101') {
        relogins.add(1);
        base = logIn();
        continue;
      }
      if (!m || retcode !== '0') {
        sleep(1);
        continue;
      }
      sync = m[2] !== '0';
      if (!sync) {
        longestQuietMs = Math.max(longestQuietMs, Date.now() - t);
        pollTimeoutS = Math.min(300, Math.max(30, Math.ceil((2 * longestQuietMs) / 1000)));
      }
    }
    if (sync) {
      const r = postJson(`${WEB}webwxsync?sid=${encodeURIComponent(base.Sid)}&skey=${encodeURIComponent(base.Skey)}`, { BaseRequest: base, SyncKey: key, rr: Math.floor(Date.now() / 1000) }, 'webwxsync');
      const ret = r.body ? r.body.BaseResponse.Ret : -1;
      check(r, { 'webwxsync Ret 0': () => ret === 0 || ret === 1100 || ret === 1101 || ret === 1200 });
      if (ret === 1100 || ret === 1101) {
        relogins.add(1);
        base = logIn();
      } else if (ret === 1200) {
        // Pruned past this device: everything still kept (repeats drop by MsgId); if even that is refused, the server's key.
        key = key === ZERO_KEY ? loginKey : ZERO_KEY;
      }
      else if (ret !== 0) sleep(1);
      else {
        const now = Date.now();
        for (const msg of r.body.AddMsgList) recordObservation(ledger.observe(msg.MsgId, String(msg.Content), now));
        key = r.body.SyncKey;
        if (r.body.SKey) base.Skey = r.body.SKey;
        sync = r.body.ContinueFlag === 1;
      }
    }
  }
  // Present the final key once more: everything received is acknowledged.
  http.post(`${WEB}webwxsync?sid=${encodeURIComponent(base.Sid)}&skey=${encodeURIComponent(base.Skey)}`, JSON.stringify({ BaseRequest: base, SyncKey: key, rr: 0 }), {
    headers: JSON_HEADERS,
    tags: { name: 'webwxsync' },
  });
  recordSettled(ledger.settle());
}

// ------------------------------------------------------------ senders

/**
 * This VU's stream, from its first sending iteration on (module state lives as long as the VU).
 * @type {{ stream: string, parsed: import('./traffic-plan.js').Stream, n: number, unacked: number[], finDone: boolean, sessions: import('./lib.js').BaseRequest[], generation: number[] } | undefined}
 */
let mine;

/**
 * Sends one message as account `from`, retried with the same ClientMsgId until
 * answered or `deadline`. A session the server ended logs in again with the
 * next ClientLoginId, so that every VU sharing it lands on the same new session.
 * @param {Data} data
 * @param {NonNullable<typeof mine>} st
 * @param {number} from
 * @param {object} msg
 * @param {number} deadline
 * @returns {number | undefined} ms from the first try to the answer, or undefined: never answered
 */
function sendAs(data, st, from, msg, deadline) {
  const t0 = Date.now();
  for (let attempt = 1; ; attempt++) {
    const res = http.post(`${WEB}webwxsendmsg`, JSON.stringify({ BaseRequest: st.sessions[from], Msg: msg, Scene: 0 }), {
      headers: JSON_HEADERS,
      tags: { name: 'webwxsendmsg' },
    });
    const body = res.status === 200 ? /** @type {any} */ (res.json()) : undefined;
    const ret = body ? body.BaseResponse.Ret : -1;
    if (ret === 0 && typeof body.MsgID === 'number') return Date.now() - t0;
    if (FINAL_RETS.has(ret)) return undefined;
    if (ret === 1100 || ret === 1101) {
      for (let k = 0; k < 5; k++) {
        st.generation[from] = /** @type {number} */ (st.generation[from]) + 1;
        const s = login(/** @type {string} */ (data.accounts[from]), webDeviceId(from, 2), `k6s${st.generation[from]}`);
        if (s.base) {
          st.sessions[from] = s.base;
          relogins.add(1);
          break;
        }
      }
    }
    const hint = body ? retryAfterMs(body.BaseResponse.ErrMsg) : undefined;
    const wait = hint !== undefined ? hint / 1000 : Math.min(5, 0.1 * 2 ** attempt);
    if (Date.now() + wait * 1000 > deadline) return undefined;
    sleep(wait);
  }
}

/** @param {Data} data */
export function sender(data) {
  const sendEnd = exec.scenario.startTime + DURATION_S * 1000;
  const drainEnd = sendEnd + DRAIN_S * 1000;
  const now = Date.now();
  if (now < sendEnd) {
    if (!mine) {
      const stream = vuStream(exec.vu.idInTest % PLAN.cohorts, exec.vu.idInTest);
      touchCounters();
      mine = {
        stream,
        parsed: /** @type {import('./traffic-plan.js').Stream} */ (parseStream(PLAN, stream)),
        n: 0,
        unacked: [],
        finDone: false,
        sessions: data.sessions.slice(),
        generation: data.sessions.map(() => 0),
      };
    }
    const n = mine.n++;
    const r = route(PLAN, mine.parsed, n);
    const cmid = `k6w${exec.vu.idInTest}-${n}`;
    const msg = {
      ClientMsgId: cmid,
      LocalID: cmid,
      FromUserName: data.accounts[r.from],
      ToUserName: data.accounts[r.to],
      Type: 1,
      Content: messageContent(mine.stream, n, now, CONTENT_BYTES),
    };
    const ms = sendAs(data, mine, r.from, msg, drainEnd);
    check(null, { 'webwxsendmsg answered with a MsgID': () => ms !== undefined });
    if (ms !== undefined) {
      sentOk.add(1);
      sendAckLatency.add(ms);
    } else {
      mine.unacked.push(n);
      sendFailed.add(1);
    }
    return;
  }
  // The stream is over (this VU's one send at a time is answered or given up): its fin, once.
  if (!mine || mine.finDone) return;
  mine.finDone = true;
  const [f] = endOfRun(PLAN, mine.stream, mine.n, mine.unacked, data.rooms);
  const from = route(PLAN, mine.parsed, 0).from;
  const cmid = `k6w${exec.vu.idInTest}-fin`;
  const msg = { ClientMsgId: cmid, LocalID: cmid, FromUserName: data.accounts[from], ToUserName: f.to, Type: 1, Content: f.content };
  if (sendAs(data, mine, from, msg, drainEnd + FIN_WINDOW_S * 1000) !== undefined) finsSent.add(1);
}

/** @param {any} data */
export function handleSummary(data) {
  return summaryFiles('web', data, ['session_relogins', 'dropped_iterations']);
}
