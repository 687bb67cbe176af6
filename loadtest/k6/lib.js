// @ts-check
// Shared by web.js and longlink.js: configuration from __ENV, the metrics and
// thresholds, what setup() does over HTTP (accounts, logins, one chat room per
// cohort), and the summary. The accounting itself is ledger.js, the traffic
// traffic-plan.js, the long link's packets packets.js: none of them imports k6.
import { sleep } from 'k6';
import http from 'k6/http';
import { Counter, Trend } from 'k6/metrics';
import { retryAfterMs } from './outbox.js';
import { cohortMembers } from './traffic-plan.js';

/** Where the server is: an http:// base URL; the WebSocket long link is at /longlink on it. */
export const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
/** Accounts (and long links; web.js runs a receiving VU per account and a pool of sending VUs). */
export const VUS = Math.max(2, Number(__ENV.VUS || 10));
/** How long messages arrive, in seconds (k6 duration strings like 30s or 2m also work). */
export const DURATION_S = parseDuration(__ENV.DURATION || '30s');
/** Messages per second per account, at a constant rate whatever the answers (open model). */
export const SEND_RATE = Math.max(0.01, Number(__ENV.SEND_RATE || 1));
/** After the arrivals stop, messages due this long (s) arrive in time; later ones are late. */
export const DRAIN_S = parseDuration(__ENV.DRAIN || '15s');
/** After the drain, receivers listen this long (s) more to tell late from missing. */
export const LATE_S = parseDuration(__ENV.LATE || '10s');
/** Accounts per cohort: messages stay in a cohort, whose chat room carries its senders' fins. */
export const COHORT = Math.max(3, Number(__ENV.COHORT || 50));
export const PASSWORD = __ENV.PASSWORD || 'k6-load-password';
/**
 * Prefix of account names, so that reruns against one server use fresh accounts.
 * The default is drawn in each init context (setup's and every VU's differ), so
 * VUs take account names from setup()'s data, never from accountName().
 */
export const RUN_TAG = (__ENV.RUN_TAG || String(Date.now() % 1e8)).replace(/[^A-Za-z0-9]/g, '').slice(0, 10);
export const CONTENT_BYTES = Math.max(48, Number(__ENV.CONTENT_BYTES || 100));

export const WEB = `${BASE_URL}/cgi-bin/mmwebwx-bin/`;
export const MICRO = `${BASE_URL}/cgi-bin/micromsg-bin/`;
export const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8' };
/** A new device's key: every data category from 0 (everything retained). */
export const ZERO_KEY = { Count: 2, List: [{ Key: 1, Val: 0 }, { Key: 2, Val: 0 }] };

/** Arrival (the time the message was due) to delivery, measured by the receiving device. */
export const deliveryLatency = new Trend('delivery_latency', true);
/** First write of a send to the server's answer (MsgID). */
export const sendAckLatency = new Trend('send_ack_latency', true);
// Message figures: first copies (late ones included), and what went wrong.
export const delivered = new Counter('messages_delivered');
export const late = new Counter('messages_late');
export const duplicated = new Counter('messages_duplicated');
export const missing = new Counter('messages_missing');
export const unexpected = new Counter('messages_unexpected');
export const sentOk = new Counter('messages_acked');
export const sendFailed = new Counter('messages_send_failed');
// Accounting figures, apart from the messages: one fin per stream.
export const finsSent = new Counter('ledger_fins_sent');
export const finsReceived = new Counter('ledger_fins_received');
export const finsMissing = new Counter('ledger_fins_missing');
export const finsDuplicated = new Counter('ledger_fins_duplicated');
export const unverified = new Counter('ledger_unverified');

/** The thresholds both scripts share: nothing missing, doubled or misrouted, the accounting whole, bounded latency. */
export const THRESHOLDS = {
  checks: ['rate>0.99'],
  messages_missing: ['count==0'],
  messages_duplicated: ['count==0'],
  messages_unexpected: ['count==0'],
  messages_send_failed: ['count==0'],
  ledger_fins_missing: ['count==0'],
  ledger_fins_duplicated: ['count==0'],
  ledger_unverified: ['count==0'],
  delivery_latency: ['p(95)<1000', 'p(99)<2000'],
  send_ack_latency: ['p(95)<500', 'p(99)<1000'],
};

/** Every thresholded counter gets a sample, so that a threshold is judged even when nothing went wrong. */
export function touchCounters() {
  for (const c of [duplicated, missing, unexpected, sendFailed, finsMissing, finsDuplicated, unverified]) c.add(0);
}

/**
 * @param {import('./ledger.js').ObserveResult} r
 */
export function recordObservation(r) {
  if (r.kind === 'delivered' || r.kind === 'late') {
    delivered.add(1);
    if (r.kind === 'late') late.add(1);
    if (r.latencyMs !== undefined) deliveryLatency.add(r.latencyMs);
  } else if (r.kind === 'duplicate') duplicated.add(1);
  else if (r.kind === 'misrouted') unexpected.add(1);
  else if (r.kind === 'fin') finsReceived.add(1);
  else if (r.kind === 'fin-duplicate') finsDuplicated.add(1);
}

/**
 * What only the end can tell (settle() counts once, so this adds once).
 * @param {import('./ledger.js').Tally} t
 */
export function recordSettled(t) {
  if (t.missing) missing.add(t.missing);
  if (t.unverified) unverified.add(t.unverified);
  if (t.finsMissing) finsMissing.add(t.finsMissing);
  if (t.beyondTotal) unexpected.add(t.beyondTotal);
}

/**
 * @param {string} s
 * @returns {number} seconds
 */
export function parseDuration(s) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(s).trim());
  if (!m) throw new Error(`bad duration '${s}': use 30s, 2m, 1h`);
  const n = Number(m[1]);
  const unit = m[2] || 's';
  return unit === 'ms' ? n / 1000 : unit === 'm' ? n * 60 : unit === 'h' ? n * 3600 : n;
}

/**
 * @param {number} i account index
 * @returns {string}
 */
export function accountName(i) {
  return `k6${RUN_TAG}a${i}`;
}

/**
 * POSTs JSON and retries what the server asks to retry later (Ret 2, 1111,
 * 1112, with their `retry after` hint), a bounded number of times.
 * @param {string} url
 * @param {object} body
 * @param {string} name request tag
 * @returns {{ status: number, body: any }}
 */
export function postJson(url, body, name) {
  for (let attempt = 1; ; attempt++) {
    const res = http.post(url, JSON.stringify(body), { headers: JSON_HEADERS, tags: { name } });
    const json = res.status === 200 ? /** @type {any} */ (res.json()) : undefined;
    const ret = json && json.BaseResponse ? json.BaseResponse.Ret : undefined;
    const later = ret === 2 || ret === 1111 || ret === 1112;
    if (!later || attempt >= 20) return { status: res.status, body: json };
    const hint = retryAfterMs(json.BaseResponse.ErrMsg);
    sleep(Math.min(30, (hint !== undefined ? hint : 1000) / 1000));
  }
}

/**
 * Registers `n` accounts (a taken name is fine: the password decides at login).
 * @param {number} n
 * @returns {string[]}
 */
export function registerAccounts(n) {
  /** @type {string[]} */
  const accounts = [];
  for (let i = 0; i < n; i++) {
    const name = accountName(i);
    const r = postJson(`${MICRO}register`, { UserName: name, Password: PASSWORD }, 'register');
    const ret = r.body ? r.body.BaseResponse.Ret : -1;
    if (ret !== 0 && ret !== 1104) throw new Error(`register ${name}: HTTP ${r.status} Ret ${ret}`);
    accounts.push(name);
  }
  return accounts;
}

/**
 * @typedef {{ Uin: number, Sid: string, Skey: string, DeviceID: string }} BaseRequest
 */

/**
 * A login by password (manualauth). With a ClientLoginId, a repeat of the same
 * login gets the same session back while it is the device's live one.
 * @param {string} user
 * @param {string} deviceId
 * @param {string} [clientLoginId]
 * @returns {{ ret: number, base: BaseRequest | undefined, syncKey: any }}
 */
export function login(user, deviceId, clientLoginId) {
  /** @type {Record<string, unknown>} */
  const req = { UserName: user, Password: PASSWORD, DeviceID: deviceId };
  if (clientLoginId !== undefined) req.ClientLoginId = clientLoginId;
  const r = postJson(`${MICRO}manualauth`, req, 'manualauth');
  const ret = r.body ? r.body.BaseResponse.Ret : -1;
  if (ret !== 0) return { ret, base: undefined, syncKey: undefined };
  return { ret, base: { Uin: r.body.Uin, Sid: r.body.Sid, Skey: r.body.Skey, DeviceID: deviceId }, syncKey: r.body.SyncKey };
}

/**
 * One chat room per cohort, created by its first member, holding every member:
 * where each stream's fin goes.
 * @param {import('./traffic-plan.js').Plan} plan
 * @param {string[]} accounts
 * @param {(i: number) => BaseRequest} sessionOf a session of account i
 * @returns {string[]} the rooms' user names, by cohort
 */
export function createRooms(plan, accounts, sessionOf) {
  /** @type {string[]} */
  const rooms = [];
  for (let c = 0; c < plan.cohorts; c++) {
    const members = cohortMembers(plan, c);
    const others = members.slice(1).map((i) => ({ UserName: accounts[i] }));
    const r = postJson(
      `${WEB}webwxcreatechatroom`,
      { BaseRequest: sessionOf(/** @type {number} */ (members[0])), MemberCount: others.length, MemberList: others, Topic: `k6 cohort ${c}` },
      'webwxcreatechatroom',
    );
    if (!r.body || r.body.BaseResponse.Ret !== 0) throw new Error(`webwxcreatechatroom cohort ${c}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    rooms.push(String(r.body.ChatRoomName));
  }
  return rooms;
}

/** @param {BaseRequest} base */
export function logout(base) {
  http.post(`${WEB}webwxlogout`, JSON.stringify({ BaseRequest: base }), { headers: JSON_HEADERS, tags: { name: 'webwxlogout' } });
}

/**
 * handleSummary's output: the whole summary as JSON at SUMMARY_OUT (default
 * k6-<script>-summary.json), and a few lines on stdout.
 * @param {string} script
 * @param {any} data
 * @param {string[]} [extra] more figures for the stdout lines: metric names whose count to show
 * @returns {Record<string, string>}
 */
export function summaryFiles(script, data, extra) {
  const file = __ENV.SUMMARY_OUT || `k6-${script}-summary.json`;
  /** @param {string} name @param {string} field */
  const metric = (name, field) => {
    const m = data.metrics[name];
    return m && m.values && m.values[field] !== undefined ? m.values[field] : 0;
  };
  /** @param {string} name */
  const count = (name) => `${name.replace(/^(messages|ledger|link)_/, '').replace(/_/g, ' ')} ${metric(name, 'count')}`;
  /** @type {string[]} */
  const failed = [];
  for (const [name, m] of Object.entries(/** @type {Record<string, any>} */ (data.metrics))) {
    for (const [t, r] of Object.entries(/** @type {Record<string, {ok: boolean}>} */ (m.thresholds || {}))) if (!r.ok) failed.push(`${name} ${t}`);
  }
  const lines = [
    `${script}: checks ${metric('checks', 'passes')} passed, ${metric('checks', 'fails')} failed`,
    `${script}: messages ${['messages_acked', 'messages_delivered', 'messages_late', 'messages_duplicated', 'messages_missing', 'messages_unexpected', 'messages_send_failed'].map(count).join(', ')}`,
    `${script}: accounting ${['ledger_fins_sent', 'ledger_fins_received', 'ledger_fins_missing', 'ledger_fins_duplicated', 'ledger_unverified'].map(count).join(', ')}`,
    extra && extra.length ? `${script}: ${extra.map(count).join(', ')}` : '',
    `delivery latency p95 ${metric('delivery_latency', 'p(95)').toFixed(1)} ms, p99 ${metric('delivery_latency', 'p(99)').toFixed(1)} ms; ` +
      `send→ack p95 ${metric('send_ack_latency', 'p(95)').toFixed(1)} ms`,
    failed.length ? `thresholds FAILED: ${failed.join('; ')}` : 'thresholds passed',
    `summary: ${file}`,
    '',
  ].filter((l, i, all) => l !== '' || i === all.length - 1);
  return { [file]: JSON.stringify(data, null, 2), stdout: lines.join('\n') };
}
