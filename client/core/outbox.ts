// The send queue. Entries are persisted; one conversation (ToUserName) has at
// most one unanswered send, its head, so the server accepts a user's messages
// in the order the user wrote them. A failed entry stops blocking its
// conversation; `resend` puts it back at the end of the queue.

export type OutboxState =
  /** Waiting for its turn or for `nextAttemptAt`. */
  | 'queued'
  /** An attempt has started: transmitted, or waiting for the transport. */
  | 'sending'
  /** Given up (sendFailed was emitted); only `resend` moves it again. */
  | 'failed';

export interface OutboxEntry {
  /** LocalID: the decimal counter n. */
  localId: string;
  /** `${deviceId}-${n}`: the same for every retry, so the server stores it once. */
  clientMsgId: string;
  to: string;
  content: string;
  type: number;
  state: OutboxState;
  /** Attempts started since the last (re)queue by the user. */
  attempts: number;
  /** A queued entry starts its next attempt no earlier than this. */
  nextAttemptAt: number;
  createdAt: number;
  /** The last failure's Ret (-1: no answer) and message; 0 and '' before any. */
  lastRet: number;
  lastErrMsg: string;
  /** A picture (type 3) or an attachment (type 6): the MediaId of its upload; goes out over HTTP on every transport. */
  mediaId?: string;
}

export class Outbox {
  #entries: OutboxEntry[];

  /** `entries` from a persisted state: an attempt in flight when the app stopped is queued again. */
  constructor(entries: readonly OutboxEntry[] = []) {
    this.#entries = entries.map((e) => (e.state === 'sending' ? { ...e, state: 'queued', nextAttemptAt: 0 } : { ...e }));
  }

  get size(): number {
    return this.#entries.length;
  }

  /** The live entries, oldest first. Callers must not mutate them. */
  entries(): readonly OutboxEntry[] {
    return this.#entries;
  }

  /** Copies, for persistence and inspection. */
  snapshot(): OutboxEntry[] {
    return this.#entries.map((e) => ({ ...e }));
  }

  add(e: OutboxEntry): void {
    this.#entries.push(e);
  }

  get(localId: string): OutboxEntry | undefined {
    return this.#entries.find((e) => e.localId === localId);
  }

  remove(localId: string): OutboxEntry | undefined {
    const i = this.#entries.findIndex((e) => e.localId === localId);
    if (i < 0) return undefined;
    const [e] = this.#entries.splice(i, 1);
    return e;
  }

  /** A failed entry goes back to the end of the queue with a fresh attempt count. */
  requeue(localId: string, now: number): OutboxEntry | undefined {
    const e = this.remove(localId);
    if (!e) return undefined;
    e.state = 'queued';
    e.attempts = 0;
    e.nextAttemptAt = now;
    this.#entries.push(e);
    return e;
  }

  /** The first entry that is not failed, per conversation, in queue order. */
  heads(): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    // Asked on every input of the core: an empty or one-entry outbox needs no set.
    if (this.#entries.length <= 1) {
      for (const e of this.#entries) if (e.state !== 'failed') out.push(e);
      return out;
    }
    const seen = new Set<string>();
    for (const e of this.#entries) {
      if (e.state === 'failed' || seen.has(e.to)) continue;
      seen.add(e.to);
      out.push(e);
    }
    return out;
  }

  /** Heads whose next attempt may start at `now`. */
  due(now: number): OutboxEntry[] {
    return this.heads().filter((e) => e.state === 'queued' && e.nextAttemptAt <= now);
  }

  /** The earliest time a queued head may start an attempt. */
  nextDueAt(): number | undefined {
    let t = Infinity;
    for (const e of this.heads()) if (e.state === 'queued' && e.nextAttemptAt < t) t = e.nextAttemptAt;
    return t === Infinity ? undefined : t;
  }
}
