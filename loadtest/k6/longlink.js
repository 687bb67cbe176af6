// @ts-check
// k6: long-link clients of the SyncKey server over WebSocket (binary
// messages carrying the 16-byte-header packets of the TCP long link).
//
// Each VU is one account's device on one long link: auth (op 7) with the
// password, heartbeats (op 2) every HeartbeatSec, a sync (op 10) on every
// notify (op 122) and at start, and sends (op 4) to the other accounts in
// turn at SEND_RATE per second (Poisson), one unanswered at a time. Every
// message that arrives is audited (delivered, duplicated, missing; the
// device's own messages come back too, the multi-device echo) and its
// send-to-delivery time recorded. At the end a "fin" message tells every
// peer how many messages the VU sent; the link stays until every fin has
// arrived or the drain time is over.
//
// Module: k6/ws. It runs on k6 v0.47 and on current k6 alike (k6/ws is kept
// for compatibility); k6/experimental/websockets changed and moved to
// k6/websockets across those versions, so a script using it runs on only one
// side. k6/ws gives timers on the socket (setInterval, setTimeout) and binary
// frames (sendBinary, 'binaryMessage'), which is all a long link needs.
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e VUS=50 -e DURATION=30s -e SEND_RATE=2 loadtest/k6/longlink.js
import { check } from 'k6';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';
import ws from 'k6/ws';
import {
  Audit,
  BASE_URL,
  DRAIN_S,
  DURATION_S,
  OP,
  PASSWORD,
  PacketReader,
  SEND_RATE,
  THRESHOLDS,
  VUS,
  content,
  duplicated,
  encodePacket,
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

const linkErrors = new Counter('longlink_errors');

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    links: {
      executor: 'per-vu-iterations',
      vus: VUS,
      iterations: 1,
      maxDuration: `${Math.ceil(DURATION_S + DRAIN_S + 60)}s`,
    },
  },
  // Object.assign, not object spread: k6 v0.47's Babel pass rejects `...` in object literals.
  thresholds: Object.assign({}, THRESHOLDS, {
    longlink_errors: ['count==0'],
    ws_connecting: ['p(95)<1000'],
  }),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
  setupTimeout: '120s',
};

/** @returns {{ accounts: string[] }} */
export function setup() {
  return registerAccounts(VUS);
}

/** @param {{ accounts: string[] }} data */
export default function (data) {
  const me = exec.scenario.iterationInTest;
  const n = data.accounts.length;
  const user = /** @type {string} */ (data.accounts[me]);
  const url = `${BASE_URL.replace(/^http/, 'ws')}/longlink`;
  const audit = new Audit(me, n);
  duplicated.add(0);
  missing.add(0);
  sendFailed.add(0);
  linkErrors.add(0);

  const res = ws.connect(url, null, (socket) => {
    const reader = new PacketReader();
    let seq = 0;
    /** @type {unknown} */
    let key = { Count: 0, List: [] };
    let syncing = false;
    let syncAgain = false;
    /** The one unanswered send: its packet seq, ClientMsgId, body, when it first went out. */
    /** @type {{ seq: number, cmid: string, msg: object, t0: number, tries: number } | undefined} */
    let inFlight;
    let count = 0;
    let sending = true;
    /** @type {string[]} peers still owed a fin */
    const fins = [];
    const start = Date.now();
    const endSends = start + DURATION_S * 1000;
    const endAll = endSends + DRAIN_S * 1000;

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
      write(OP.Sync, { SyncKey: key });
    };
    /** @param {string} to @param {string} cmid @param {string} text */
    const transmit = (to, cmid, text) => {
      const msg = { ClientMsgId: cmid, LocalID: cmid, FromUserName: user, ToUserName: to, Type: 1, Content: text };
      inFlight = { seq: write(OP.Send, msg), cmid, msg, t0: Date.now(), tries: 1 };
    };
    const nextSend = () => {
      if (inFlight) return;
      if (Date.now() < endSends) {
        // Names from setup(): RUN_TAG's default is drawn in every VU's init context, so only setup's list is shared.
        transmit(/** @type {string} */ (data.accounts[targetOf(me, count, n)]), `k6l${me}-${count}`, content(me, count, Date.now()));
      } else if (sending) {
        sending = false;
        for (let j = 0; j < n; j++) if (j !== me) fins.push(/** @type {string} */ (data.accounts[j]));
      }
      if (!inFlight && !sending && fins.length > 0) {
        const to = /** @type {string} */ (fins.shift());
        transmit(to, `k6l${me}-fin-${to}`, finContent(me, count));
      }
    };
    const schedule = () => {
      socket.setTimeout(() => {
        nextSend();
        if (Date.now() < endSends) schedule();
      }, poissonDelay(SEND_RATE) * 1000);
    };
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      audit.settle();
      socket.close();
    };

    socket.on('open', () => {
      write(OP.Auth, { UserName: user, Password: PASSWORD, DeviceID: `k6link${me}` });
    });

    socket.on('binaryMessage', (buf) => {
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
        switch (p.op) {
          case OP.AuthReply: {
            const ok = p.body && p.body.BaseResponse && p.body.BaseResponse.Ret === 0;
            check(p.body, { 'auth Ret 0': () => ok });
            if (!ok) {
              linkErrors.add(1);
              socket.close();
              return;
            }
            const hb = Number(p.body.HeartbeatSec || 240);
            socket.setInterval(() => write(OP.Heartbeat), Math.max(1, hb - 1) * 1000);
            // A new device: every data category from 0 (everything retained).
            key = { Count: 2, List: [{ Key: 1, Val: 0 }, { Key: 2, Val: 0 }] };
            sync();
            schedule();
            break;
          }
          case OP.Notify:
            sync();
            break;
          case OP.SyncReply: {
            syncing = false;
            const ok = p.body && p.body.BaseResponse && p.body.BaseResponse.Ret === 0;
            check(p.body, { 'sync Ret 0': () => ok });
            if (ok) {
              for (const m of p.body.AddMsgList) audit.apply(m);
              key = p.body.SyncKey;
              if (p.body.ContinueFlag === 1) syncAgain = true;
            } else linkErrors.add(1);
            if (syncAgain) sync();
            if (audit.complete() && !sending && fins.length === 0 && !inFlight) finish();
            break;
          }
          case OP.SendReply: {
            if (!inFlight || p.seq !== inFlight.seq) break;
            const f = inFlight;
            const ok = p.body && p.body.BaseResponse && p.body.BaseResponse.Ret === 0 && typeof p.body.MsgID === 'number';
            check(p.body, { 'send answered with a MsgID': () => ok });
            if (ok) {
              sendAckLatency.add(Date.now() - f.t0);
              if (!f.cmid.includes('-fin-')) {
                sentOk.add(1);
                count++;
              }
              inFlight = undefined;
              if (!sending) nextSend();
            } else if (f.tries < 10) {
              // The same ClientMsgId: stored once however often it is tried.
              socket.setTimeout(() => {
                f.tries++;
                f.seq = write(OP.Send, f.msg);
              }, 200 * 2 ** f.tries);
            } else {
              sendFailed.add(1);
              inFlight = undefined;
            }
            break;
          }
          case OP.HeartbeatReply:
            break;
          case OP.Disconnect:
            linkErrors.add(1);
            check(p.body, { 'no disconnect': () => false });
            break;
          default:
            linkErrors.add(1);
        }
      }
    });

    socket.on('error', () => {
      linkErrors.add(1);
    });

    // Closed by the server or the network before the end: an error, and the audit
    // still counts what never came (finish() closes only after settling).
    socket.on('close', () => {
      if (finished) return;
      finished = true;
      linkErrors.add(1);
      audit.settle();
    });

    // Every second: let the last sends and fins go out, and stop at the end of the drain.
    socket.setInterval(() => {
      if (Date.now() >= endSends) nextSend();
      if (Date.now() >= endAll) finish();
    }, 1000);
  });
  check(res, { 'websocket upgraded (101)': (r) => r !== undefined && r.status === 101 });
  // No upgrade at all: every message meant for this device is missing (settle() counts once).
  audit.settle();
}

/** @param {any} data */
export function handleSummary(data) {
  return summaryFiles('longlink', data);
}
