// The password hashes the node has asked its driver for: each goes out as a
// `hash` action with a job number and comes back through ServerNode.hashDone.
// At most maxHashJobs are out at once (the admission limit): the caller
// checks `full` and answers Ret 2 instead of starting one more.
import type { HashResult, HashWork } from '../core/deps.ts';

/** Asks the driver to hash: answer with ServerNode.hashDone(job, result, now), or null if hashing failed. */
export type HashAction = { kind: 'hash'; job: number; work: HashWork };

/** What to do with a job's result; null: the hash failed (or came back as the wrong kind). */
export type HashFinish = (result: HashResult | null, now: number) => void;

interface Job {
  work: HashWork;
  finish: HashFinish;
}

export class HashJobs {
  private readonly jobs = new Map<number, Job>();
  private nextJob = 1;

  constructor(
    private readonly max: number,
    private readonly out: (a: HashAction) => void,
  ) {}

  /** Jobs out now. */
  get inFlight(): number {
    return this.jobs.size;
  }

  get full(): boolean {
    return this.jobs.size >= this.max;
  }

  /** Hand `work` to the driver. The job is recorded first: a driver may answer from inside `out`. */
  start(work: HashWork, finish: HashFinish): void {
    const job = this.nextJob++;
    this.jobs.set(job, { work, finish });
    this.out({ kind: 'hash', job, work });
  }

  /** The driver's answer; an unknown or repeated job number is ignored. */
  done(job: number, result: HashResult | null, now: number): void {
    const j = this.jobs.get(job);
    if (!j) return;
    this.jobs.delete(job);
    const fits = result !== null && (j.work.op === 'hash' ? typeof result === 'string' : typeof result === 'boolean');
    j.finish(fits ? result : null, now);
  }
}
