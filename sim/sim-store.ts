// The stores the simulation runs on, each with its crash model.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryStore } from '../server/store/memory-store.ts';
import { SqliteStore } from '../server/store/sqlite-store.ts';
import type { SimStore } from './server-host.ts';

export type SimStoreKind = 'memory' | 'sqlite';

/**
 * `freeze` (memory only; default on): every stored record is frozen, so an
 * in-place edit by the core, which would bypass the crash model, throws. It
 * changes no run that passes, only how a bug of that kind shows; the tests
 * keep it on, a sweep that is after seeds per second may leave it off.
 */
export function simStore(kind: SimStoreKind, opts: { freeze?: boolean } = {}): SimStore {
  if (kind === 'memory') {
    const m = new MemoryStore({ freeze: opts.freeze ?? true });
    return {
      store: m,
      crash: () => m.crash(),
      reopen: () => m.reopen(),
      dispose: () => m.close(),
      keepUnsynced: (commits) => m.keepUnsynced(commits),
      powerLoss: (commits) => m.powerLoss(commits),
    };
  }
  // A real file: a crash abandons the connection without committing, and the
  // restarted server opens the file again (WAL recovery keeps what was committed).
  // A process crash loses no commit even under NORMAL; a power cut is not
  // modelled here (the memory store models it), so the store stays as it is.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synckey-sim-'));
  const file = path.join(dir, 'sim.db');
  const s: SimStore = {
    store: SqliteStore.open(file, { synchronous: 'NORMAL' }),
    crash: () => s.store.close(),
    reopen: () => (s.store = SqliteStore.open(file, { synchronous: 'NORMAL' })),
    dispose: () => {
      try {
        s.store.close();
      } catch {
        // already closed by a crash
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return s;
}
