// The store of a core test as the shared server host sees it (a SimStore):
// memory or SQLite in a temp dir, behind the recording wrapper, with the
// crash model of the core tests. A SQLite crash is a new process opening a
// copy of the files as they are on disk, uncommitted WAL frames included,
// while the old connection never commits.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryStore } from '../../server/store/memory-store.ts';
import { SqliteStore } from '../../server/store/sqlite-store.ts';
import type { SimStore } from '../../sim/server-host.ts';
import { RecordingStore, type TimelineEvent } from './recording-store.ts';

export type StoreKind = 'memory' | 'sqlite';
/** Every test file runs its cases on both stores. */
export const STORES: readonly StoreKind[] = ['memory', 'sqlite'];

export class CrashStore implements SimStore {
  readonly store: RecordingStore;
  /** Crashes so far: each SQLite one opens the files' next copy. */
  private crashes = 0;
  private readonly dir: string | undefined;
  private file = '';

  constructor(
    kind: StoreKind,
    private readonly timeline: TimelineEvent[],
  ) {
    if (kind === 'sqlite') {
      this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-test-'));
      this.file = path.join(this.dir, 'gen0', 'store.db');
      this.store = new RecordingStore(SqliteStore.open(this.file), timeline);
    } else {
      this.store = new RecordingStore(new MemoryStore({ freeze: true }), timeline);
    }
  }

  crash(): void {
    // The node has crashed already (the host crashes it first): the store goes down after it.
    this.timeline.push({ kind: 'crash' });
    const inner = this.store.inner;
    this.crashes++;
    if (inner instanceof MemoryStore) return inner.crash();
    const copy = path.join(this.dir!, `gen${this.crashes}`, 'store.db');
    fs.mkdirSync(path.dirname(copy), { recursive: true });
    for (const suffix of ['', '-wal']) {
      if (fs.existsSync(this.file + suffix)) fs.copyFileSync(this.file + suffix, copy + suffix);
    }
    inner.close();
    this.file = copy;
    this.store.inner = SqliteStore.open(copy);
  }

  /** The wrapper stays: only what it wraps was replaced by the crash. */
  reopen(): RecordingStore {
    return this.store;
  }

  dispose(): void {
    this.store.close();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
