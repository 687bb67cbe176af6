// The storage thread as the server app sees it: a worker that commits the
// batches posted to it, in order, and says which are durable. It is a
// transport-level detail like a socket: the node stages writes and holds
// answers (server/node/pipelined-runner.ts); this only carries batches over
// and reports back. The file's lock is taken here, before the worker opens
// it, so a second server on the same file is refused at once.
import { Worker } from 'node:worker_threads';
import { lockBeside } from '../store/file-lock.ts';
import type { SealedBatch } from '../store/staged-store.ts';
import { StagedStore } from '../store/staged-store.ts';
import type { FromStorage, StorageWorkerData, ToStorage } from '../store/storage-messages.ts';

export interface StorageEvents {
  /** Batches up to `through` are durable; the transaction took `ms` on the storage thread. */
  committed(through: number, batches: number, ms: number): void;
  /** The transaction with batch `id` failed: it and every batch after it are lost. */
  failed(id: number, message: string): void;
  /** The storage thread is gone (it crashed): nothing more can commit. */
  died(message: string): void;
}

export class StorageThread {
  private epoch = 0;
  private dead = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    readonly store: StagedStore,
    private readonly lock: { release(): void },
    private events: StorageEvents | undefined,
  ) {
    worker.on('message', (m: FromStorage) => this.heard(m));
    worker.on('error', (e) => this.die(e.message));
    worker.on('exit', (code) => {
      if (!this.closing) this.die(`storage thread exited (${code})`);
    });
  }

  /** Locks the file, starts the thread (which opens and migrates it), then opens the main thread's reader. */
  static async start(file: string, synchronous: 'FULL' | 'NORMAL'): Promise<StorageThread> {
    const lock = lockBeside(file);
    const data: StorageWorkerData = { file, synchronous };
    const worker = new Worker(new URL('../store/storage-worker.mjs', import.meta.url), { workerData: data });
    try {
      await new Promise<void>((resolve, reject) => {
        const first = (m: FromStorage): void => {
          worker.off('error', reject);
          if (m.kind === 'ready') resolve();
          else reject(new Error(m.kind === 'openFailed' ? m.message : `storage thread said ${m.kind} first`));
        };
        worker.once('message', first);
        worker.once('error', reject);
      });
      return new StorageThread(worker, new StagedStore(file), lock, undefined);
    } catch (e) {
      await worker.terminate();
      lock.release();
      throw e;
    }
  }

  /** Where commits and failures are reported; set once the node that hears them exists. */
  listen(events: StorageEvents): void {
    this.events = events;
  }

  /** Send a sealed batch to be committed after the ones before it. */
  post(batch: SealedBatch): void {
    if (this.dead) {
      queueMicrotask(() => this.events?.failed(batch.id, 'the storage thread is gone'));
      return;
    }
    const m: ToStorage = { kind: 'batch', id: batch.id, epoch: this.epoch, writes: batch.writes };
    this.worker.postMessage(m);
  }

  private heard(m: FromStorage): void {
    switch (m.kind) {
      case 'committed':
        this.store.committed(m.through);
        this.events?.committed(m.through, m.batches, m.ms);
        return;
      case 'failed':
        // The thread drops the rest of this epoch unanswered; from now on batches carry the next one.
        this.epoch++;
        this.store.failed();
        this.events?.failed(m.id, m.message);
        return;
      default:
        return;
    }
  }

  private die(message: string): void {
    if (this.dead) return;
    this.dead = true;
    this.store.failed();
    this.events?.died(message);
  }

  /** After the last post: waits for its commit, stops the thread, closes the reader and lets go of the lock. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.dead) {
        const closed = new Promise<void>((resolve) => {
          this.worker.on('message', (m: FromStorage) => m.kind === 'closed' && resolve());
          this.worker.once('exit', () => resolve());
        });
        this.worker.postMessage({ kind: 'close' } satisfies ToStorage);
        await closed;
      }
      await this.worker.terminate();
      this.store.close();
      this.lock.release();
    })();
    return this.closing;
  }
}
