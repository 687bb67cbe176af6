// What the main thread and the storage thread say to each other
// (server/store/storage-worker-main.ts, server/transport/storage-thread.ts).
import type { Write } from './store-ops.ts';

export interface StorageWorkerData {
  file: string;
  synchronous: 'FULL' | 'NORMAL';
}

/** To the storage thread. A batch of an epoch older than the last failure's is dropped unanswered. */
export type ToStorage =
  | { kind: 'batch'; id: number; epoch: number; writes: Write[] }
  | { kind: 'close' };

/** From the storage thread. */
export type FromStorage =
  | { kind: 'ready' }
  | { kind: 'openFailed'; message: string; locked: boolean }
  /** Batches up to `through` are durable: `batches` of them in one transaction that took `ms`. */
  | { kind: 'committed'; through: number; batches: number; writes: number; ms: number }
  /** The transaction holding batch `id` (and the ones after it) was rolled back. */
  | { kind: 'failed'; id: number; message: string }
  | { kind: 'closed' };
