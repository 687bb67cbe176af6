// @ts-check
// k6: long-link clients of the SyncKey server over WebSocket (binary
// messages carrying the 16-byte-header packets of the TCP long link).
//
// Each VU is one account's device on one long link: auth (op 7), heartbeats
// (op 2) every HeartbeatSec of the auth reply, a sync (op 10) at auth and on
// every notify (op 122). It sends (op 4) in an open model: SEND_RATE messages
// a second at fixed intervals from its first auth until DURATION is over,
// each going out when due whatever is still unanswered (outbox.js), retried
// with the same ClientMsgId until answered, given up at the drain deadline.
// A dropped link is reconnected (resuming the session by Sid, else by
// password) and counted in link_drops / link_reconnects, never as loss: the
// unanswered sends go again on the new link and the sync goes on from the
// device's own key. Messages stay in the account's cohort; when the sends are
// over, ONE fin (its total, and the numbers never acknowledged) goes to the
// cohort's room. Every message that arrives is judged by ledger.js.
//
// Module: k6/ws. It runs on k6 v0.47 and on current k6 alike (k6/ws is kept
// for compatibility); k6/experimental/websockets changed and moved to
// k6/websockets across those versions, so a script using it runs on only one
// side. k6/ws gives timers on the socket and binary frames, which is all a
// long link needs; ws.connect blocks until the socket closes, so reconnecting
// is a loop around it.
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e VUS=200 -e DURATION=60s -e SEND_RATE=1 loadtest/k6/longlink.js
import { check, sleep } from 'k6';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';
import ws from 'k6/ws';
import {
  BASE_URL,
  COHORT,
  CONTENT_BYTES,
  DRAIN_S,
  DURATION_S,
  LATE_S,
  PASSWORD,
  SEND_RATE,
  THRESHOLDS,
  VUS,
  ZERO_KEY,
  createRooms,
  finsSent,
  login,
  logout,
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
import { Outbox, retryAfterMs } from './outbox.js';
import { OP, PacketReader, encodePacket } from './packets.js';
import { Arrivals, accountStream, cohortMembers, cohortOf, makePlan, parseStream, route } from './traffic-plan.js';

/** Protocol faults: a packet or op the script cannot read, a refused login, a Ret no retry changes. */
const linkErrors = new Counter('longlink_errors');
/** Links closed under a VU that still had work (by the server, the network, or a silent peer). */
const drops = new Counter('link_drops');
/** Links authenticated again after a drop. */
const reconnects = new Counter('link_reconnects');

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    links: {
      executor: 'per-vu-iterations',
      vus: VUS,
      iterations: 1,
      maxDuration: `${Math.ceil(DURATION_S + DRAIN_S + LATE_S + 60)}s`,
    },
  },
  // Object.assign, not object spread: k6 v0.47's Babel pass rejects `...` in object literals.
  thresholds: Object.assign({}, THRESHOLDS, {
    longlink_errors: ['count==0'],
    ws_connecting: ['p(95)<1000'],
  }),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
  setupTimeout: '300s',
};

/** @returns {{ accounts: string[], rooms: string[] }} */
export function setup() {
  const accounts = registerAccounts(VUS);
  /** @type {import('./lib.js').BaseRequest[]} */
  const sessions = [];
  const rooms = createRooms(makePlan(VUS, COHORT), accounts, (i) => {
    const s = login(/** @type {string} */ (accounts[i]), `k6setup${i}`);
    if (!s.base) throw new Error(`manualauth ${accounts[i]}: Ret ${s.ret}`);
    sessions.push(s.base);
    return s.base;
  });
  // The setup devices would otherwise count as live and hold the accounts' retention.
  for (const s of sessions) logout(s);
  return { accounts, rooms };
}

/** @param {{ accounts: string[], rooms: string[] }} data */
export default function (data) {
  const me = exec.scenario.iterationInTest;
  const plan = makePlan(data.accounts.length, COHORT);
  const user = /** @type {string} */ (data.accounts[me]);
  const deviceId = `k6link${me}`;
  const url = `${BASE_URL.replace(/^http/, 'ws')}/longlink`;
  // One clock for every VU: the scenario's start, not each VU's.
  const sendEnd = exec.scenario.startTime + DURATION_S * 1000;
  const drainEnd = sendEnd + DRAIN_S * 1000;
  const lateEnd = drainEnd + LATE_S * 1000;
  const stream = accountStream(me);
  const myStream = /** @type {import('./traffic-plan.js').Stream} */ (parseStream(plan, stream));
  const ledger = new Ledger({ me, plan, drainDeadline: drainEnd, expectedStreams: cohortMembers(plan, cohortOf(plan, me)).map(accountStream) });
  const outbox = new Outbox();
  const phase = Math.random();
  /** @type {Arrivals | undefined} */
  let arrivals;
  /** @type {number[]} */
  const unacked = [];
  /** @type {'sending' | 'queued' | 'done' | 'failed'} */
  let fin = 'sending';
  let key = /** @type {unknown} */ (ZERO_KEY);
  /** The auth reply's key (the acknowledged position): the fallback after a second 1200. */
  let authKey = /** @type {unknown} */ (ZERO_KEY);
  /** @type {{ Uin: number, Sid: string } | undefined} */
  let session;
  let everAuthed = false;
  let done = false;
  let waitMs = 0;
  touchCounters();
  linkErrors.add(0);

  /** @param {import('./outbox.js').OutItem} it */
  const failed = (it) => {
    unacked.push(it.n);
    sendFailed.add(1);
    check(null, { 'send answered with a MsgID': () => false });
  };

  for (let attempt = 0; !done && Date.now() < lateEnd; attempt++) {
    let authed = false;
    let closed = false;
    /** @type {import('k6/ws').Response | undefined} */
    let res;
    // A refused connection returns a response without a socket, or throws with k6's `throw` option.
    try {
      res = ws.connect(url, null, (socket) => {
        const reader = new PacketReader();
        let seq = 0;
        let syncing = false;
        let syncAgain = false;
        let lastSyncAt = 0;
        let lastRx = Date.now();
        let heartbeatMs = 0;

        /** @param {number} op @param {unknown} [body] */
        const write = (op, body) => {
          seq = seq >= 0xffffffff ? 1 : seq + 1;
          socket.sendBinary(encodePacket(op, seq, body));
          return seq;
        };
        const sync = () => {
          if (syncing) {
            syncAgain = true;
            return;
          }
          syncing = true;
          syncAgain = false;
          lastSyncAt = Date.now();
          write(OP.Sync, { SyncKey: key });
        };
        const flush = () => {
          if (!authed || closed) return;
          const now = Date.now();
          for (const it of outbox.ready(now)) outbox.sent(it, write(OP.Send, it.msg), now);
        };
        const takeArrivals = () => {
          if (!arrivals) return;
          for (const a of arrivals.take(Date.now())) {
            const cmid = `k6l${me}-${a.n}`;
            const to = /** @type {string} */ (data.accounts[route(plan, myStream, a.n).to]);
            const content = messageContent(stream, a.n, a.dueAt, CONTENT_BYTES);
            outbox.add(cmid, a.n, { ClientMsgId: cmid, LocalID: cmid, FromUserName: user, ToUserName: to, Type: 1, Content: content }, a.dueAt);
          }
        };
        // One timeout at a time, to the next arrival's due time.
        const armArrivals = () => {
          const next = arrivals && arrivals.nextDueAt();
          if (next === undefined) return;
          socket.setTimeout(() => {
            if (closed) return;
            takeArrivals();
            flush();
            armArrivals();
          }, Math.max(0, next - Date.now()));
        };
        const finish = () => {
          done = true;
          socket.close();
        };
        // Four times a second: retries, giving up, the fin, late-phase syncs, a silent link, the end.
        const tick = () => {
          if (closed) return;
          const now = Date.now();
          takeArrivals();
          if (now >= drainEnd) for (const it of outbox.giveUpMessages()) failed(it);
          if (fin === 'sending' && arrivals && arrivals.done() && outbox.size === 0) {
            const [f] = endOfRun(plan, stream, arrivals.taken, unacked, data.rooms);
            const cmid = `k6l${me}-fin`;
            outbox.add(cmid, -1, { ClientMsgId: cmid, LocalID: cmid, FromUserName: user, ToUserName: f.to, Type: 1, Content: f.content }, now);
            fin = 'queued';
          }
          flush();
          // Past the drain a notify may have gone with a dropped link: look for the stragglers each second.
          if (authed && now >= drainEnd && !ledger.complete() && now - lastSyncAt >= 1000) sync();
          const silentFor = now - lastRx;
          if ((authed && heartbeatMs > 0 && silentFor > 2 * heartbeatMs) || (!authed && silentFor > 30000)) socket.close();
          if (((fin === 'done' || fin === 'failed') && ledger.complete()) || now >= lateEnd) finish();
        };

        socket.on('open', () => {
          if (session) write(OP.Auth, { Uin: session.Uin, Sid: session.Sid, DeviceID: deviceId });
          else write(OP.Auth, { UserName: user, Password: PASSWORD, DeviceID: deviceId });
        });

        socket.on('binaryMessage', (buf) => {
          lastRx = Date.now();
          /** @type {Array<{ op: number, seq: number, body: any }>} */
          let packets;
          try {
            packets = reader.push(buf);
          } catch (e) {
            linkErrors.add(1);
            socket.close();
            return;
          }
          for (const p of packets) {
            const now = Date.now();
            const ret = p.body && p.body.BaseResponse ? p.body.BaseResponse.Ret : undefined;
            switch (p.op) {
              case OP.AuthReply: {
                if (ret !== 0) {
                  const hint = retryAfterMs(p.body && p.body.BaseResponse && p.body.BaseResponse.ErrMsg);
                  if (hint !== undefined) waitMs = hint;
                  if (session) session = undefined; // the session is gone: a password login on the next link
                  else if (ret !== 2 && ret !== 1112) {
                    check(p.body, { 'auth Ret 0': () => false });
                    linkErrors.add(1);
                    done = true;
                  }
                  break; // op 6 and a close follow
                }
                if (!everAuthed) check(p.body, { 'auth Ret 0': () => true });
                else reconnects.add(1);
                everAuthed = true;
                authed = true;
                session = { Uin: p.body.Uin, Sid: p.body.Sid };
                authKey = p.body.SyncKey;
                heartbeatMs = Math.max(1, Number(p.body.HeartbeatSec) || 240) * 1000;
                socket.setInterval(() => write(OP.Heartbeat), heartbeatMs);
                // The arrivals start at the first login, so that the logins of every VU do not count as delivery time.
                if (!arrivals) arrivals = new Arrivals(now, sendEnd, SEND_RATE, phase);
                sync();
                takeArrivals();
                flush();
                armArrivals();
                break;
              }
              case OP.Notify:
                sync();
                break;
              case OP.SyncReply: {
                syncing = false;
                check(p.body, { 'sync Ret 0': () => ret === 0 || ret === 1200 });
                if (ret === 0) {
                  for (const m of p.body.AddMsgList) recordObservation(ledger.observe(m.MsgId, String(m.Content), now));
                  key = p.body.SyncKey;
                  if (p.body.ContinueFlag === 1) syncAgain = true;
                } else if (ret === 1200) {
                  // Pruned past this device: everything still kept (repeats drop by MsgId); if even that is refused, the server's key.
                  key = key === ZERO_KEY ? authKey : ZERO_KEY;
                  syncAgain = true;
                } else linkErrors.add(1);
                if (syncAgain) sync();
                break;
              }
              case OP.SendReply: {
                const a = outbox.answer(p.seq, p.body, now);
                if (!a) break;
                if (a.outcome === 'acked') {
                  if (a.it.n >= 0) {
                    sentOk.add(1);
                    sendAckLatency.add(now - /** @type {number} */ (a.it.firstSentAt));
                    check(p.body, { 'send answered with a MsgID': () => true });
                  } else {
                    fin = 'done';
                    finsSent.add(1);
                  }
                } else if (a.outcome === 'final') {
                  linkErrors.add(1);
                  if (a.it.n >= 0) failed(a.it);
                  else fin = 'failed';
                }
                break;
              }
              case OP.HeartbeatReply:
                break;
              case OP.Disconnect:
                // Counted as a drop when the link closes; a malformed packet of ours is a fault of the script.
                if (p.body && p.body.Ret === 1102) linkErrors.add(1);
                break;
              default:
                linkErrors.add(1);
            }
          }
        });

        socket.on('error', () => {});
        socket.on('close', () => {
          closed = true;
        });
        socket.setInterval(tick, 250);
      });
    } catch (e) {
      res = undefined;
    }
    if (attempt === 0) check(res, { 'websocket upgraded (101)': (r) => r !== undefined && r.status === 101 });
    if (done) break;
    outbox.linkLost();
    if (authed) drops.add(1);
    // Back off: the server's hint if it gave one, else 0.5 s doubling to 5 s; a link that had come up starts over.
    const wait = waitMs > 0 ? waitMs / 1000 : authed ? 0.5 : Math.min(5, 0.5 * 2 ** Math.min(attempt, 4));
    waitMs = 0;
    sleep(Math.min(wait, Math.max(0, (lateEnd - Date.now()) / 1000)));
  }
  // Whatever is still unanswered never was.
  for (const it of outbox.giveUpMessages()) failed(it);
  recordSettled(ledger.settle());
}

/** @param {any} data */
export function handleSummary(data) {
  return summaryFiles('longlink', data, ['longlink_errors', 'link_drops', 'link_reconnects']);
}
