// @ts-check
// The long link's unanswered sends, in an open model: a message goes out when
// it is due, whatever is still unanswered, and stays here until the server
// answers it with a MsgID. A refused one waits (the server's `retry after`
// hint, or a backoff) and goes again with the same ClientMsgId, so it is
// stored once however often it is tried; a dropped link sends every one of
// them again on the next. Imports nothing from k6.

/** Rets that a retry cannot change (a fault of the script, not of the load). */
export const FINAL_RETS = new Set([1102, 1105, 1106, 1107, 1108]);

/**
 * @typedef {{
 *   cmid: string,
 *   n: number,
 *   msg: object,
 *   dueAt: number,
 *   tries: number,
 *   seq: number | undefined,
 *   firstSentAt: number | undefined,
 *   retryAt: number,
 * }} OutItem
 */

/**
 * The wait the server asks for in an `ErrMsg` ending `retry after <ms> ms`.
 * @param {unknown} errMsg
 * @returns {number | undefined}
 */
export function retryAfterMs(errMsg) {
  const m = /retry after (\d+) ms/.exec(String(errMsg || ''));
  return m ? Number(m[1]) : undefined;
}

export class Outbox {
  constructor() {
    /** @type {Map<string, OutItem>} */
    this.items = new Map();
    /** @type {Map<number, string>} packet seq → ClientMsgId, for the current link only */
    this.bySeq = new Map();
  }

  get size() {
    return this.items.size;
  }

  /**
   * @param {string} cmid
   * @param {number} n the message's number in its stream (-1 for the fin)
   * @param {object} msg the op 4 body
   * @param {number} dueAt
   */
  add(cmid, n, msg, dueAt) {
    this.items.set(cmid, { cmid, n, msg, dueAt, tries: 0, seq: undefined, firstSentAt: undefined, retryAt: dueAt });
  }

  /**
   * Items to write now: not on the wire on this link, and past their retry time.
   * @param {number} now
   * @returns {OutItem[]}
   */
  ready(now) {
    /** @type {OutItem[]} */
    const out = [];
    for (const it of this.items.values()) if (it.seq === undefined && it.retryAt <= now) out.push(it);
    return out;
  }

  /**
   * @param {OutItem} it
   * @param {number} seq
   * @param {number} now
   */
  sent(it, seq, now) {
    it.seq = seq;
    it.tries++;
    if (it.firstSentAt === undefined) it.firstSentAt = now;
    this.bySeq.set(seq, it.cmid);
  }

  /**
   * What an op 5 answers: `acked` (drop it), `final` (a Ret no retry changes:
   * drop it, it failed), `retry` (it goes again after the wait), or undefined
   * for an answer to nothing outstanding.
   * @param {number} seq
   * @param {any} body
   * @param {number} now
   * @returns {{ it: OutItem, outcome: 'acked' | 'final' | 'retry' } | undefined}
   */
  answer(seq, body, now) {
    const cmid = this.bySeq.get(seq);
    if (cmid === undefined) return undefined;
    this.bySeq.delete(seq);
    const it = this.items.get(cmid);
    if (!it) return undefined;
    const ret = body && body.BaseResponse ? body.BaseResponse.Ret : -1;
    if (ret === 0 && typeof body.MsgID === 'number') {
      this.items.delete(cmid);
      return { it, outcome: 'acked' };
    }
    if (FINAL_RETS.has(ret)) {
      this.items.delete(cmid);
      return { it, outcome: 'final' };
    }
    it.seq = undefined;
    const hint = retryAfterMs(body && body.BaseResponse && body.BaseResponse.ErrMsg);
    it.retryAt = now + (hint !== undefined ? hint : Math.min(5000, 100 * 2 ** it.tries));
    return { it, outcome: 'retry' };
  }

  /** The link dropped: whatever was on it goes again on the next one. */
  linkLost() {
    for (const it of this.items.values()) it.seq = undefined;
    this.bySeq.clear();
  }

  /**
   * Gives up on every message still unanswered (the fin excepted).
   * @returns {OutItem[]}
   */
  giveUpMessages() {
    /** @type {OutItem[]} */
    const out = [];
    for (const it of this.items.values()) if (it.n >= 0) out.push(it);
    for (const it of out) this.items.delete(it.cmid);
    return out;
  }

  /** @param {string} cmid */
  has(cmid) {
    return this.items.has(cmid);
  }
}
