// One server per database file: two would hand out the same MsgIds. SQLite's
// own lock does it (locking_mode EXCLUSIVE, taken by a write at open); the
// OS drops it when the process dies, so no stale lock outlives a crash.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/** Thrown by open() when another connection holds the file. */
export class StoreLockedError extends Error {
  constructor(readonly file: string) {
    super(`the database ${file} is in use by another process (another server is running on it?); stop that one or pick another file`);
    this.name = 'StoreLockedError';
  }
}

/**
 * Take the file's lock now, or throw StoreLockedError at once (no busy wait).
 * In EXCLUSIVE locking mode set before WAL, SQLite keeps the WAL index in
 * the process (no -shm file) and holds the lock from the first write to
 * close; the empty write transaction takes it.
 */
export function lockExclusively(db: Database.Database, file: string): void {
  db.pragma('busy_timeout = 0');
  db.pragma('locking_mode = EXCLUSIVE');
  try {
    db.pragma('journal_mode = WAL');
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_BUSY') throw new StoreLockedError(file);
    throw e;
  }
}

/**
 * The lock for a database that more than one connection of this process
 * uses (the storage thread writes, the main thread reads): held on a small
 * file beside it, `<file>-lock`, for as long as the returned handle is open.
 */
export function lockBeside(file: string): { release(): void } {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(`${file}-lock`);
  try {
    lockExclusively(db, file);
  } catch (e) {
    db.close();
    throw e;
  }
  return { release: () => db.close() };
}
