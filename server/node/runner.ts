// What the node asks of its transactional shell, whichever it is: the
// synchronous CommandRunner (the simulator, memory and in-process SQLite
// stores), the PipelinedRunner (the real server's storage thread) or the
// AsyncRunner (a store that answers later: PostgreSQL). All hold a command's
// answer until its writes are durable.
import type { CoreEffect, Plan } from '../core/plan.ts';
import type { errorReply } from '../core/ret.ts';
import type { Step } from '../store/store-ops.ts';
import type { Read, ReadResult } from '../store/store-ops.ts';

export type Done<R> = (reply: R | ReturnType<typeof errorReply>) => void;

export interface RunnerStats {
  commands: number;
  commits: number;
  failures: number;
  /** Writes applied (a room message to N members is about N). */
  writes: number;
  /** Log items read (a sync page of N items is N). With the writes, what the node's per-round budget counts. */
  itemsRead: number;
}

export interface Runner {
  readonly stats: RunnerStats;
  /** Commands waiting for the next commit. */
  readonly pending: number;
  /** Something for flush() to do. */
  readonly hasWork: boolean;
  /** Run a command in the open batch; `done` gets its reply once its batch is durable. */
  submit<R>(step: Step<Plan<R>>, done: Done<R>): void;
  /**
   * Run a step that only reads, outside the batch's answers; `done` gets its
   * result (undefined if it failed). A synchronous runner calls `done` before
   * it returns; an asynchronous one once the store has answered the reads.
   */
  query<T>(step: Step<T>, done: (result: T | undefined) => void): void;
  /** End the open batch (commit it, or send it to be committed); returns effects of batches now durable. */
  flush(): CoreEffect[];
  /** A crash: everything volatile is gone; nobody is answered. */
  crash(): void;
}

/** What answers a command's reads. */
export interface Reader {
  read<R extends Read>(r: R): ReadResult[R['kind']];
}

/** What answers a command's reads later (server/store/async-store.ts). */
export interface AsyncReader {
  read<R extends Read>(r: R): Promise<ReadResult[R['kind']]>;
}

/**
 * Drive a step; undefined if it threw (counted as a failure). A command that
 * throws is a bug in it: it returned no plan, so it wrote nothing, and the
 * batch goes on without it.
 */
export function tryDrive<T>(store: Reader, step: Step<T>, stats: RunnerStats): T | undefined {
  try {
    return drive(store, step, stats);
  } catch {
    stats.failures++;
    return undefined;
  }
}

/** Answer a step's reads until it returns; `stats` counts the log items read. */
export function drive<T>(store: Reader, step: Step<T>, stats?: RunnerStats): T {
  let r = step.next();
  while (!r.done) {
    const read = r.value;
    const result = store.read(read);
    if (stats && read.kind === 'items') stats.itemsRead += (result as readonly unknown[]).length;
    r = step.next(result);
  }
  return r.value;
}

/**
 * drive() for a store that answers later: each read is awaited before the
 * step goes on. A read that rejects rejects this (the store failed, not the
 * command); a step that throws throws here as in drive().
 */
export async function driveAsync<T>(store: AsyncReader, step: Step<T>, stats?: RunnerStats): Promise<T> {
  let r = step.next();
  while (!r.done) {
    const read = r.value;
    const result = await store.read(read);
    if (stats && read.kind === 'items') stats.itemsRead += (result as readonly unknown[]).length;
    r = step.next(result);
  }
  return r.value;
}
