// The core's HTTP requests in flight. Request ids are numbered by the core
// from 1 (a driver with several cores maps them to its own); each request
// keeps what its answer is for, the session it was made with and when it
// counts as failed.
import type { OutputQueue } from './client-output.ts';

/** What every request in flight keeps; each user adds what its answer needs. */
export interface PendingCall {
  /** The session the request was made with ('' before login). */
  sid: string;
  /** Unanswered by then: failed. */
  deadline: number;
}

/** What a user of the requests may do: make one, or give one up. */
export interface HttpPoster<C> {
  post(url: string, body: unknown, call: C): number;
  get(url: string, call: C): number;
  /** Gives a request up: its answer, if it comes, is ignored. */
  forget(req: number): void;
}

export class HttpRequests<C extends PendingCall> implements HttpPoster<C> {
  readonly #output: OutputQueue;
  #nextReq = 1;
  #calls = new Map<number, C>();

  constructor(output: OutputQueue) {
    this.#output = output;
  }

  post(url: string, body: unknown, call: C): number {
    return this.#send('POST', url, JSON.stringify(body), call);
  }

  get(url: string, call: C): number {
    return this.#send('GET', url, '', call);
  }

  /** The call of a request in flight; undefined for a copy the network delivered twice, or one we gave up on. */
  call(req: number): C | undefined {
    return this.#calls.get(req);
  }

  has(req: number): boolean {
    return this.#calls.has(req);
  }

  forget(req: number): void {
    this.#calls.delete(req);
  }

  clear(): void {
    this.#calls.clear();
  }

  /** A copy of what is in flight, oldest first. */
  inFlight(): Array<[number, C]> {
    return [...this.#calls];
  }

  /** The earliest deadline, Infinity when none is in flight. */
  wakeAt(): number {
    let t = Infinity;
    for (const c of this.#calls.values()) t = Math.min(t, c.deadline);
    return t;
  }

  #send(method: 'GET' | 'POST', url: string, body: string, call: C): number {
    const req = this.#nextReq++;
    this.#calls.set(req, call);
    this.#output.action({ kind: 'http', req, method, url, body });
    return req;
  }
}
