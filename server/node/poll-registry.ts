// Waiting synccheck long polls, bounded per device and in total. An append to
// an account completes all of its polls at once; a poll set up after an
// append it did not see (the account's seq moved past what it checked)
// completes at once instead of waiting.
export interface Poll {
  req: number;
  uin: number;
  sid: string;
  deviceId: string;
  deadline: number;
  /** The account's seq when the check ran. */
  seq: number;
}

export type AddResult = { kind: 'wait'; evicted?: Poll } | { kind: 'stale' } | { kind: 'full' };

export class PollRegistry {
  private byReq = new Map<number, Poll>();
  private byUin = new Map<number, Map<number, Poll>>();
  /** The highest seq appended per account since start (volatile; after a restart polls simply re-check). */
  private appended = new Map<number, number>();

  constructor(
    private readonly maxPerAccount: number,
    private readonly maxTotal: number,
  ) {}

  get size(): number {
    return this.byReq.size;
  }

  noteAppended(uin: number, seq: number): void {
    if (seq > (this.appended.get(uin) ?? 0)) this.appended.set(uin, seq);
  }

  add(p: Poll, checkStale = true): AddResult {
    if (checkStale && (this.appended.get(p.uin) ?? 0) > p.seq) return { kind: 'stale' };
    let evicted: Poll | undefined;
    const mine = this.byUin.get(p.uin);
    if (mine) {
      // A device has one poll: its new one replaces the old.
      for (const q of mine.values()) {
        if (q.deviceId === p.deviceId) {
          evicted = q;
          break;
        }
      }
      if (!evicted && mine.size >= this.maxPerAccount) evicted = mine.values().next().value;
    }
    if (evicted) this.remove(evicted.req);
    else if (this.byReq.size >= this.maxTotal) return { kind: 'full' };
    this.byReq.set(p.req, p);
    let m = this.byUin.get(p.uin);
    if (!m) this.byUin.set(p.uin, (m = new Map()));
    m.set(p.req, p);
    return evicted ? { kind: 'wait', evicted } : { kind: 'wait' };
  }

  remove(req: number): Poll | undefined {
    const p = this.byReq.get(req);
    if (!p) return undefined;
    this.byReq.delete(req);
    const m = this.byUin.get(p.uin);
    m?.delete(req);
    if (m && m.size === 0) this.byUin.delete(p.uin);
    return p;
  }

  /** Every poll of an account, removed. */
  takeAccount(uin: number): Poll[] {
    const m = this.byUin.get(uin);
    if (!m) return [];
    const out = [...m.values()];
    for (const p of out) this.remove(p.req);
    return out;
  }

  /** Polls whose hold time is over, removed. */
  expire(now: number): Poll[] {
    const out: Poll[] = [];
    for (const p of this.byReq.values()) if (p.deadline <= now) out.push(p);
    for (const p of out) this.remove(p.req);
    return out;
  }

  nextDeadline(): number | undefined {
    let min: number | undefined;
    for (const p of this.byReq.values()) if (min === undefined || p.deadline < min) min = p.deadline;
    return min;
  }
}
