// The storage thread: applies and commits the main thread's batches on its
// own SQLite connection, so that fsync, page writes and WAL checkpoints
// (SQLite runs them after a commit, here) never stall the event loop that
// parses and writes sockets. Group commit across batches: every batch that
// queued while the last transaction committed goes into the next one.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { SqliteStore } from './sqlite-store.ts';
import type { FromStorage, StorageWorkerData, ToStorage } from './storage-messages.ts';

const port = parentPort!;
const data = workerData as StorageWorkerData;
const say = (m: FromStorage): void => port.postMessage(m);

let store: SqliteStore;
try {
  // The main thread holds the file's lock (file-lock.ts lockBeside); its reader shares the file.
  store = SqliteStore.open(data.file, { synchronous: data.synchronous, exclusive: false });
  say({ kind: 'ready' });
} catch (e) {
  say({ kind: 'openFailed', message: (e as Error).message, locked: (e as { code?: string }).code === 'SQLITE_BUSY' });
  port.close();
}

/** Batches of epochs before this are dropped: a failed transaction failed them on the main thread already. */
let epoch = 0;
let closing = false;

port.on('message', (first: ToStorage) => {
  const queue: ToStorage[] = [first];
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) queue.push(m.message as ToStorage);
  const batches = [];
  for (const m of queue) {
    if (m.kind === 'close') closing = true;
    else if (m.epoch >= epoch) batches.push(m);
  }
  if (batches.length > 0) commit(batches);
  if (closing) {
    store.close();
    say({ kind: 'closed' });
    port.close();
  }
});

function commit(batches: Array<Extract<ToStorage, { kind: 'batch' }>>): void {
  const startedAt = performance.now();
  let writes = 0;
  try {
    store.begin();
    for (const b of batches) {
      store.apply(b.writes);
      writes += b.writes.length;
    }
    store.commit();
  } catch (e) {
    if (store.inTransaction) store.rollback();
    epoch = batches[batches.length - 1]!.epoch + 1;
    say({ kind: 'failed', id: batches[0]!.id, message: (e as Error).message });
    return;
  }
  say({ kind: 'committed', through: batches[batches.length - 1]!.id, batches: batches.length, writes, ms: performance.now() - startedAt });
}
