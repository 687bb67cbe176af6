// @ts-check
// The delivery accounting of one receiving device in the k6 scripts. Plain
// JavaScript that imports nothing from k6, so that vitest proves it
// (test/loadtest/k6-accounting.test.ts).
//
// Every message carries its stream and its number n in that stream; a stream's
// route (traffic-plan.js) says who message n went to. When a stream is over it
// sends ONE fin to its cohort's room: its total, and the numbers it never got
// acknowledged. Each device then judges per stream, from the numbers alone:
//   a number seen twice under two MsgIds   duplicated
//   a number below the total, meant for this device, acknowledged, absent   missing
//   a first copy after the drain deadline  late (delivered, not missing)
// A stream whose fin never came is counted as such, and its messages are not
// judged: the accounting never reports its own backlog as lost messages.
import { cohortOf, parseStream, route } from './traffic-plan.js';

/** @typedef {import('./ledger.js').Parsed} Parsed */
/** @typedef {import('./ledger.js').Tally} Tally */
/** @typedef {import('./ledger.js').ObserveResult} ObserveResult */
/** @typedef {import('./ledger.js').LedgerOptions} LedgerOptions */
/** @typedef {InstanceType<typeof import('./ledger.js').Ledger>} LedgerShape */
/** @typedef {import('./traffic-plan.js').Stream} Stream */

/** A fin stays far below the server's 32 KiB of content; past this the list is cut and marked. */
export const MAX_UNACKED_CHARS = 16000;

/** @type {typeof import('./ledger.js').messageContent} */
export const messageContent = (stream, n, sentAt, bytes) => {
  const head = `k6|${stream}|${n}|${Math.round(sentAt)}|`;
  return head.length >= bytes ? head : head + 'x'.repeat(bytes - head.length);
};

/** @type {typeof import('./ledger.js').finContent} */
export const finContent = (stream, total, unacked) => {
  const sorted = [...new Set(unacked)].sort((a, b) => a - b);
  /** @type {string[]} */
  const ranges = [];
  let chars = 0;
  let truncated = false;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === /** @type {number} */ (sorted[j]) + 1) j++;
    const r = i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`;
    if (chars + r.length + 1 > MAX_UNACKED_CHARS) {
      truncated = true;
      break;
    }
    ranges.push(r);
    chars += r.length + 1;
    i = j + 1;
  }
  return `k6fin|${stream}|${total}|${ranges.join(',')}${truncated ? '~' : ''}|`;
};

/** @type {typeof import('./ledger.js').parseContent} */
export const parseContent = (content) => {
  const m = /^k6\|([a-z0-9]+)\|(\d+)\|(\d+)\|/.exec(content);
  if (m) return { kind: 'message', stream: /** @type {string} */ (m[1]), n: Number(m[2]), sentAt: Number(m[3]) };
  const f = /^k6fin\|([a-z0-9]+)\|(\d+)\|([0-9,-]*)(~?)\|/.exec(content);
  if (!f) return undefined;
  /** @type {number[]} */
  const unacked = [];
  for (const r of /** @type {string} */ (f[3]).split(',')) {
    if (!r) continue;
    const [lo, hi] = r.split('-').map(Number);
    for (let n = /** @type {number} */ (lo); n <= (hi === undefined ? /** @type {number} */ (lo) : hi); n++) unacked.push(n);
  }
  return { kind: 'fin', stream: /** @type {string} */ (f[1]), total: Number(f[2]), unacked, truncated: f[4] === '~' };
};

/** @type {typeof import('./ledger.js').endOfRun} */
export const endOfRun = (plan, stream, total, unacked, rooms) => {
  const s = parseStream(plan, stream);
  if (!s) throw new Error(`not a stream of this plan: ${stream}`);
  const room = rooms[s.cohort];
  if (room === undefined) throw new Error(`no room for cohort ${s.cohort}`);
  return [{ to: room, content: finContent(stream, total, unacked) }];
};

/**
 * One stream as one device sees it.
 * @typedef {{
 *   stream: Stream,
 *   seen: Set<number>,
 *   fin: { total: number, unacked: Set<number>, truncated: boolean } | undefined,
 *   absent: number,
 * }} StreamView
 */

/** @implements {LedgerShape} */
export class Ledger {
  /** @param {LedgerOptions} o */
  constructor(o) {
    this.me = o.me;
    this.plan = o.plan;
    this.drainDeadline = o.drainDeadline;
    /** @type {Map<string, StreamView>} */
    this.streams = new Map();
    /** @type {Set<number>} */
    this.msgIds = new Set();
    /** @type {Tally} */
    this.tally = { delivered: 0, late: 0, duplicated: 0, misrouted: 0, beyondTotal: 0, missing: 0, unverified: 0, fins: 0, finsDuplicated: 0, finsMissing: 0 };
    /** @type {Tally | undefined} */
    this.settled = undefined;
    for (const id of o.expectedStreams || []) this.view(id);
  }

  /**
   * @param {string} id
   * @returns {StreamView | undefined} undefined: not a stream of this device's cohort
   */
  view(id) {
    const known = this.streams.get(id);
    if (known) return known;
    const stream = parseStream(this.plan, id);
    if (!stream || stream.cohort !== cohortOf(this.plan, this.me)) return undefined;
    /** @type {StreamView} */
    const v = { stream, seen: new Set(), fin: undefined, absent: 0 };
    this.streams.set(id, v);
    return v;
  }

  /**
   * Message n of the stream concerns this device: sent to it, or sent by its
   * account (every device of the sender gets the multi-device echo).
   * @param {StreamView} v
   * @param {number} n
   */
  concerns(v, n) {
    const r = route(this.plan, v.stream, n);
    return r.from === this.me || r.to === this.me;
  }

  /**
   * @param {number} msgId
   * @param {string} content
   * @param {number} nowMs
   * @returns {ObserveResult}
   */
  observe(msgId, content, nowMs) {
    if (this.msgIds.has(msgId)) return { kind: 'repeat' };
    this.msgIds.add(msgId);
    const p = parseContent(content);
    if (!p) return { kind: 'other' };
    const v = this.view(p.stream);
    if (p.kind === 'fin') {
      if (!v) {
        this.tally.misrouted++;
        return { kind: 'misrouted' };
      }
      if (v.fin) {
        this.tally.finsDuplicated++;
        return { kind: 'fin-duplicate' };
      }
      const fin = { total: p.total, unacked: new Set(p.unacked), truncated: p.truncated };
      v.fin = fin;
      for (let n = 0; n < fin.total; n++) if (!v.seen.has(n) && !fin.unacked.has(n) && this.concerns(v, n)) v.absent++;
      this.tally.fins++;
      return { kind: 'fin' };
    }
    if (!v || !this.concerns(v, p.n)) {
      this.tally.misrouted++;
      return { kind: 'misrouted' };
    }
    if (v.seen.has(p.n)) {
      this.tally.duplicated++;
      return { kind: 'duplicate' };
    }
    v.seen.add(p.n);
    if (v.fin && p.n < v.fin.total && !v.fin.unacked.has(p.n)) v.absent--;
    this.tally.delivered++;
    const late = nowMs > this.drainDeadline;
    if (late) this.tally.late++;
    return { kind: late ? 'late' : 'delivered', latencyMs: nowMs - p.sentAt };
  }

  outstanding() {
    let n = 0;
    for (const v of this.streams.values()) n += v.fin ? v.absent : 1;
    return n;
  }

  complete() {
    return this.outstanding() === 0;
  }

  settle() {
    if (this.settled) return this.settled;
    const t = Object.assign({}, this.tally);
    for (const v of this.streams.values()) {
      if (!v.fin) {
        t.finsMissing++;
        continue;
      }
      if (v.fin.truncated) t.unverified += v.absent;
      else t.missing += v.absent;
      for (const n of v.seen) if (n >= v.fin.total) t.beyondTotal++;
    }
    this.settled = t;
    return t;
  }
}
