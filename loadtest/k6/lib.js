// @ts-check
// Shared by web.js and longlink.js: configuration from __ENV, account
// registration for setup(), the message content that carries a send time,
// the delivery audit (delivered / duplicated / missing), 16-byte-header
// packets built with DataView, and UTF-8 by hand (k6 has no TextEncoder).
import http from 'k6/http';
import { Counter, Trend } from 'k6/metrics';

/** Where the server is: an http:// base URL; the WebSocket long link is at /longlink on it. */
export const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const VUS = Math.max(2, Number(__ENV.VUS || 10));
/** How long the senders send, in seconds (k6 duration strings like 30s or 2m also work). */
export const DURATION_S = parseDuration(__ENV.DURATION || '30s');
/** Sends per second per sending device (Poisson). */
export const SEND_RATE = Math.max(0.01, Number(__ENV.SEND_RATE || 1));
/** After the senders stop, receivers wait this long for the last messages (s). */
export const DRAIN_S = Number(__ENV.DRAIN || 15);
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

/** Send to delivery, measured by the receiving device from the time in the content. */
export const deliveryLatency = new Trend('delivery_latency', true);
/** Send to the server's answer (MsgID). */
export const sendAckLatency = new Trend('send_ack_latency', true);
export const delivered = new Counter('messages_delivered');
export const duplicated = new Counter('messages_duplicated');
export const missing = new Counter('messages_missing');
export const sentOk = new Counter('messages_acked');
export const sendFailed = new Counter('messages_send_failed');

/** The thresholds both scripts share: nothing missing or doubled, few errors, bounded latency. */
export const THRESHOLDS = {
  checks: ['rate>0.99'],
  messages_missing: ['count==0'],
  messages_duplicated: ['count==0'],
  messages_send_failed: ['count==0'],
  delivery_latency: ['p(95)<1000', 'p(99)<2000'],
  send_ack_latency: ['p(95)<500', 'p(99)<1000'],
};

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
 * Registers `n` accounts (a taken name is fine: the password decides at login).
 * @param {number} n
 * @returns {{ accounts: string[] }}
 */
export function registerAccounts(n) {
  /** @type {string[]} */
  const accounts = [];
  for (let i = 0; i < n; i++) {
    const name = accountName(i);
    const res = http.post(`${MICRO}register`, JSON.stringify({ UserName: name, Password: PASSWORD }), {
      headers: JSON_HEADERS,
      tags: { name: 'register' },
    });
    const ret = res.status === 200 ? /** @type {any} */ (res.json()).BaseResponse.Ret : -1;
    if (ret !== 0 && ret !== 1104) throw new Error(`register ${name}: HTTP ${res.status} Ret ${ret}`);
    accounts.push(name);
  }
  return { accounts };
}

/**
 * Message n of sender `i` goes to this account: round robin over the others,
 * so every receiver knows what it should have got once it hears the sender's total.
 * @param {number} i
 * @param {number} n
 * @param {number} accounts
 * @returns {number}
 */
export function targetOf(i, n, accounts) {
  return (i + 1 + (n % (accounts - 1))) % accounts;
}

/**
 * `k6|<sender>|<n>|<send time ms>|` then padding, or `k6fin|<sender>|<total>|`.
 * @param {number} i
 * @param {number} n
 * @param {number} sentAt
 * @returns {string}
 */
export function content(i, n, sentAt) {
  const head = `k6|${i}|${n}|${sentAt}|`;
  return head.length >= CONTENT_BYTES ? head : head + 'x'.repeat(CONTENT_BYTES - head.length);
}

/**
 * @param {number} i
 * @param {number} total
 * @returns {string}
 */
export function finContent(i, total) {
  return `k6fin|${i}|${total}|`;
}

/** Exponential delay (s) of a Poisson process of `rate` per second. */
/**
 * @param {number} rate
 * @returns {number}
 */
export function poissonDelay(rate) {
  return -Math.log(1 - Math.random()) / rate;
}

/**
 * What one receiving device got: each message once, every message a sender
 * meant for this account, the account's own messages (multi-device echo).
 */
export class Audit {
  /**
   * @param {number} me this account's index
   * @param {number} accounts
   */
  constructor(me, accounts) {
    this.me = me;
    this.accounts = accounts;
    /** @type {Set<string>} */
    this.seen = new Set();
    /** @type {Map<number, number>} sender → its total, from its fin message */
    this.fins = new Map();
    /** @type {Set<number>} */
    this.msgIds = new Set();
    this.settled = false;
  }

  /**
   * One message from a sync answer.
   * @param {{ MsgId: number, Content: string }} m
   */
  apply(m) {
    if (this.msgIds.has(m.MsgId)) return; // the same item again (a re-sync): dedup by MsgId, as a client does
    this.msgIds.add(m.MsgId);
    const fin = /^k6fin\|(\d+)\|(\d+)\|/.exec(m.Content);
    if (fin) {
      const i = Number(fin[1]);
      if (!this.fins.has(i)) this.fins.set(i, Number(fin[2]));
      return;
    }
    const c = /^k6\|(\d+)\|(\d+)\|(\d+)\|/.exec(m.Content);
    if (!c) return;
    const key = `${c[1]}:${c[2]}`;
    if (this.seen.has(key)) {
      duplicated.add(1); // a different MsgId for the same send: stored twice
      return;
    }
    this.seen.add(key);
    delivered.add(1);
    deliveryLatency.add(Date.now() - Number(c[3]));
  }

  /** Every sender's total is known (its fin arrived). */
  complete() {
    return this.fins.size >= this.accounts;
  }

  /**
   * Counts what never came: messages below each sender's total meant for this
   * account (or sent by it), and a sender whose fin never came as one.
   * Counts once: later calls return 0.
   * @returns {number}
   */
  settle() {
    if (this.settled) return 0;
    this.settled = true;
    let lost = 0;
    for (let i = 0; i < this.accounts; i++) {
      const total = this.fins.get(i);
      if (total === undefined) {
        lost += 1;
        continue;
      }
      for (let n = 0; n < total; n++) {
        if ((i === this.me || targetOf(i, n, this.accounts) === this.me) && !this.seen.has(`${i}:${n}`)) lost++;
      }
    }
    if (lost > 0) missing.add(lost);
    return lost;
  }
}

// ------------------------------------------------------------ packets

export const OP = { Heartbeat: 2, HeartbeatReply: 3, Send: 4, SendReply: 5, Disconnect: 6, Auth: 7, AuthReply: 8, Sync: 10, SyncReply: 11, Notify: 122 };

/**
 * @param {string} s
 * @returns {Uint8Array}
 */
export function utf8Encode(s) {
  /** @type {number[]} */
  const out = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return new Uint8Array(out);
}

/**
 * @param {Uint8Array} b
 * @returns {string}
 */
export function utf8Decode(b) {
  let s = '';
  for (let i = 0; i < b.length; ) {
    const c = /** @type {number} */ (b[i++]);
    let cp;
    if (c < 0x80) cp = c;
    else if (c < 0xe0) cp = ((c & 31) << 6) | (/** @type {number} */ (b[i++]) & 63);
    else if (c < 0xf0) cp = ((c & 15) << 12) | ((/** @type {number} */ (b[i++]) & 63) << 6) | (/** @type {number} */ (b[i++]) & 63);
    else
      cp =
        ((c & 7) << 18) |
        ((/** @type {number} */ (b[i++]) & 63) << 12) |
        ((/** @type {number} */ (b[i++]) & 63) << 6) |
        (/** @type {number} */ (b[i++]) & 63);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      s += String.fromCharCode(0xd800 + (cp >> 10), 0xdc00 + (cp & 1023));
    } else s += String.fromCharCode(cp);
  }
  return s;
}

/**
 * One packet: 16-byte big-endian header (packLen, headerLen 16, version 1, op, seq) and a JSON body.
 * @param {number} op
 * @param {number} seq
 * @param {unknown} [body]
 * @returns {ArrayBuffer}
 */
export function encodePacket(op, seq, body) {
  const bytes = body === undefined ? new Uint8Array(0) : utf8Encode(JSON.stringify(body));
  const buf = new ArrayBuffer(16 + bytes.length);
  const v = new DataView(buf);
  v.setUint32(0, 16 + bytes.length);
  v.setUint16(4, 16);
  v.setUint16(6, 1);
  v.setUint32(8, op);
  v.setUint32(12, seq);
  new Uint8Array(buf, 16).set(bytes);
  return buf;
}

/**
 * Reassembles packets across WebSocket messages (one message may hold several, or part of one).
 */
export class PacketReader {
  constructor() {
    /** @type {Uint8Array} */
    this.buf = new Uint8Array(0);
  }

  /**
   * @param {ArrayBuffer} data
   * @returns {Array<{ op: number, seq: number, body: any }>}
   */
  push(data) {
    const add = new Uint8Array(data);
    const merged = new Uint8Array(this.buf.length + add.length);
    merged.set(this.buf);
    merged.set(add, this.buf.length);
    /** @type {Array<{ op: number, seq: number, body: any }>} */
    const out = [];
    let off = 0;
    while (merged.length - off >= 16) {
      const v = new DataView(merged.buffer, merged.byteOffset + off);
      const len = v.getUint32(0);
      if (len < 16) throw new Error(`bad packet length ${len}`);
      if (merged.length - off < len) break;
      const body = merged.subarray(off + 16, off + len);
      out.push({ op: v.getUint32(8), seq: v.getUint32(12), body: body.length ? JSON.parse(utf8Decode(body)) : undefined });
      off += len;
    }
    this.buf = merged.slice(off);
    return out;
  }
}

/**
 * handleSummary's output: the whole summary as JSON at SUMMARY_OUT (default
 * k6-<script>-summary.json), and a few lines on stdout.
 * @param {string} script
 * @param {any} data
 * @returns {Record<string, string>}
 */
export function summaryFiles(script, data) {
  const file = __ENV.SUMMARY_OUT || `k6-${script}-summary.json`;
  /** @param {string} name @param {string} field */
  const metric = (name, field) => {
    const m = data.metrics[name];
    return m && m.values && m.values[field] !== undefined ? m.values[field] : 0;
  };
  /** @type {string[]} */
  const failed = [];
  for (const [name, m] of Object.entries(/** @type {Record<string, any>} */ (data.metrics))) {
    for (const [t, r] of Object.entries(/** @type {Record<string, {ok: boolean}>} */ (m.thresholds || {}))) if (!r.ok) failed.push(`${name} ${t}`);
  }
  const lines = [
    `${script}: checks ${metric('checks', 'passes')} passed, ${metric('checks', 'fails')} failed`,
    `${script}: acked ${metric('messages_acked', 'count')}, delivered ${metric('messages_delivered', 'count')}, ` +
      `duplicated ${metric('messages_duplicated', 'count')}, missing ${metric('messages_missing', 'count')}, ` +
      `send failed ${metric('messages_send_failed', 'count')}`,
    `delivery latency p95 ${metric('delivery_latency', 'p(95)').toFixed(1)} ms, p99 ${metric('delivery_latency', 'p(99)').toFixed(1)} ms; ` +
      `send→ack p95 ${metric('send_ack_latency', 'p(95)').toFixed(1)} ms`,
    failed.length ? `thresholds FAILED: ${failed.join('; ')}` : 'thresholds passed',
    `summary: ${file}`,
    '',
  ];
  return { [file]: JSON.stringify(data, null, 2), stdout: lines.join('\n') };
}
