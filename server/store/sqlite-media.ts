// The `media` table (schema version 4): one row per finished upload, and the
// media reads, including who holds a message with a given MediaId in their
// log (a scan of that one account's message log, which the log bound keeps
// small; item data is JSON, so json_extract finds the fields).
import type Database from 'better-sqlite3';
import { isMediaType, type MediaRecord } from '../media/media-id.ts';
import type { Read, ReadResult } from './store-ops.ts';

type MediaRow = [string, number, string, string, string, number, string, string, number];

const COLS = 'media_id, owner_uin, client_media_id, sha256, md5, size, name, media_type, created_at';

export interface MediaStatements {
  byId: Database.Statement<[string], MediaRow>;
  byClient: Database.Statement<[number, string], MediaRow>;
  bytes: Database.Statement<[number], number>;
  logMedia: Database.Statement<[number, number], [string | null]>;
  logHasMedia: Database.Statement<[number, string], number>;
  put: Database.Statement<unknown[]>;
}

export function mediaStatements(db: Database.Database): MediaStatements {
  return {
    byId: db.prepare<[string], MediaRow>(`SELECT ${COLS} FROM media WHERE media_id = ?`).raw(true),
    byClient: db.prepare<[number, string], MediaRow>(`SELECT ${COLS} FROM media WHERE owner_uin = ? AND client_media_id = ?`).raw(true),
    bytes: db.prepare<[number], number>('SELECT coalesce(sum(size), 0) FROM media WHERE owner_uin = ?').pluck(),
    logMedia: db
      .prepare<[number, number], [string | null]>(
        `SELECT json_extract(data, '$.MediaId') FROM items WHERE uin = ? AND category = 1 AND json_extract(data, '$.MsgId') = ? LIMIT 1`,
      )
      .raw(true),
    logHasMedia: db
      .prepare<[number, string], number>(`SELECT 1 FROM items WHERE uin = ? AND category = 1 AND json_extract(data, '$.MediaId') = ? LIMIT 1`)
      .pluck(),
    // A plain INSERT: a second row for the same MediaId or (owner, ClientMediaId) throws, and the batch with it.
    put: db.prepare(`INSERT INTO media (${COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
  };
}

type MediaRead = Extract<Read, { kind: 'media' | 'mediaByClient' | 'mediaBytes' | 'logMedia' | 'logHasMedia' }>;

export function isMediaRead(r: Read): r is MediaRead {
  return r.kind === 'media' || r.kind === 'mediaByClient' || r.kind === 'mediaBytes' || r.kind === 'logMedia' || r.kind === 'logHasMedia';
}

export function readMedia(st: MediaStatements, r: MediaRead): ReadResult[MediaRead['kind']] {
  switch (r.kind) {
    case 'media': {
      const row = st.byId.get(r.mediaId);
      return row && toMedia(row);
    }
    case 'mediaByClient': {
      const row = st.byClient.get(r.uin, r.clientMediaId);
      return row && toMedia(row);
    }
    case 'mediaBytes':
      return st.bytes.get(r.uin) ?? 0;
    case 'logMedia': {
      const row = st.logMedia.get(r.uin, r.msgId);
      return row ? (row[0] ?? '') : undefined;
    }
    case 'logHasMedia':
      return st.logHasMedia.get(r.uin, r.mediaId) !== undefined;
  }
}

export function putMedia(st: MediaStatements, m: MediaRecord): void {
  st.put.run(m.mediaId, m.ownerUin, m.clientMediaId, m.sha256, m.md5, m.size, m.name, m.mediaType, m.createdAt);
}

function toMedia(row: MediaRow): MediaRecord {
  const [mediaId, ownerUin, clientMediaId, sha256, md5, size, name, mediaType, createdAt] = row;
  if (!isMediaType(mediaType)) throw new Error(`SqliteStore: media ${mediaId} has type ${mediaType}`);
  return { mediaId, ownerUin, clientMediaId, sha256, md5, size, name, mediaType, createdAt };
}
