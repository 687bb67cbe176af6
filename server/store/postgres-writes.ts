// The writes of PostgresStore: each Write kind is one prepared statement
// (named 'sk_w_<kind>'), so that an apply can send all of its writes at once
// (pipelined, postgres-store.ts) and the first that fails fails every one
// after it. A write that must refuse (an append behind the log's end) does so
// as a statement error for that reason, not by answering zero rows.
import type { Write } from './store-ops.ts';
import { floorParam, groupIdColumn, keyText, recText } from './postgres-rows.ts';

export interface WriteStatement {
  name: string;
  text: string;
  values: unknown[];
}

const SQL = {
  putAccount: `INSERT INTO accounts (uin, user_name, rec) VALUES ($1, $2, $3)
    ON CONFLICT (uin) DO UPDATE SET user_name = excluded.user_name, rec = excluded.rec`,
  putSession: 'INSERT INTO sessions (sid, rec) VALUES ($1, $2) ON CONFLICT (sid) DO UPDATE SET rec = excluded.rec',
  deleteSession: 'DELETE FROM sessions WHERE sid = $1',
  putDevice: 'INSERT INTO devices (uin, device_id, rec) VALUES ($1, $2, $3) ON CONFLICT (uin, device_id) DO UPDATE SET rec = excluded.rec',
  deleteDevice: 'DELETE FROM devices WHERE uin = $1 AND device_id = $2',
  putPeer: 'INSERT INTO peers (uin, peer) VALUES ($1, $2) ON CONFLICT (uin, peer) DO NOTHING',
  putDedup: `INSERT INTO dedup (uin, client_msg_id, created_at, rec) VALUES ($1, $2, $3, $4)
    ON CONFLICT (uin, client_msg_id) DO UPDATE SET created_at = excluded.created_at, rec = excluded.rec`,
  // The room, and its membership rows following its member list: a new
  // member's row goes last in its join order, a removed member's row goes.
  // All parts see the rows as they were before the statement, so the
  // membership is left alone when the list is unchanged (a room message only
  // bumps the room's seq: the hot path is one key lookup and one update).
  putGroup: `WITH prev AS (SELECT members FROM "groups" WHERE user_name = $1),
    changed AS (SELECT NOT EXISTS (SELECT 1 FROM prev WHERE members = $3) AS yes),
    up AS (
      INSERT INTO "groups" (user_name, owner_uin, members, rec) VALUES ($1, $2, $3, $4)
      ON CONFLICT (user_name) DO UPDATE SET owner_uin = excluded.owner_uin, members = excluded.members, rec = excluded.rec
    ),
    gone AS (
      DELETE FROM group_members WHERE user_name = $1 AND (SELECT yes FROM changed)
        AND uin IN (SELECT e::bigint FROM prev, json_array_elements_text(prev.members::json) AS e WHERE e::bigint <> ALL ($5::bigint[]))
    )
    INSERT INTO group_members (uin, user_name, group_id)
    SELECT u, $1, $6::float8 FROM unnest($5::bigint[]) AS u WHERE (SELECT yes FROM changed)
    ON CONFLICT (uin, user_name) DO NOTHING`,
  putRemark: 'INSERT INTO remarks (uin, target, rec) VALUES ($1, $2, $3) ON CONFLICT (uin, target) DO UPDATE SET rec = excluded.rec',
  // Only after the newest retained item, as MemoryStore checks it; behind it, the statement fails (SK001).
  appendItem: `INSERT INTO items (uin, category, seq, created_at, msg_id, media_id, data)
    SELECT $1::bigint, $2::smallint, $3::bigint, $4::float8, $5::float8, $6::text, $7::text
    WHERE CASE WHEN EXISTS (SELECT 1 FROM items WHERE uin = $1 AND category = $2 AND seq >= $3)
      THEN synckey_out_of_order($1, $2, $3) ELSE true END`,
  pruneItems: 'DELETE FROM items WHERE uin = $1 AND category = $2 AND seq <= $3',
  pruneDedup: 'DELETE FROM dedup WHERE uin = $1 AND created_at < $2::float8',
  setMeta: 'INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
  // A plain INSERT: a second record for a MediaId or (owner, ClientMediaId) fails, and its apply with it.
  putMedia: 'INSERT INTO media (media_id, owner_uin, client_media_id, size, rec) VALUES ($1, $2, $3, $4, $5)',
} satisfies Record<Write['kind'], string>;

/** The statement of one write, its parameters computed here: a value that cannot be sent throws before anything is sent. */
export function writeStatement(w: Write): WriteStatement {
  const st = (values: unknown[]): WriteStatement => ({ name: `sk_w_${w.kind}`, text: SQL[w.kind], values });
  switch (w.kind) {
    case 'putAccount':
      return st([w.account.uin, keyText(w.account.userName), recText(w.account)]);
    case 'putSession':
      return st([keyText(w.session.sid), recText(w.session)]);
    case 'deleteSession':
      return st([keyText(w.sid)]);
    case 'putDevice':
      return st([w.device.uin, keyText(w.device.deviceId), recText(w.device)]);
    case 'deleteDevice':
      return st([w.uin, keyText(w.deviceId)]);
    case 'putPeer':
      return st([w.uin, w.peer]);
    case 'putDedup':
      return st([w.dedup.uin, keyText(w.dedup.clientMsgId), w.dedup.createdAt, recText(w.dedup)]);
    case 'putGroup': {
      const g = w.group;
      return st([keyText(g.userName), g.ownerUin, JSON.stringify(g.members), recText(g), g.members, groupIdColumn(g.userName)]);
    }
    case 'putRemark':
      return st([w.remark.uin, keyText(w.remark.target), recText(w.remark)]);
    case 'appendItem': {
      const it = w.item;
      const msg = it.category === 1 ? it.data : undefined;
      const msgId = typeof msg?.MsgId === 'number' ? msg.MsgId : null;
      const mediaId = typeof msg?.MediaId === 'string' ? keyText(msg.MediaId) : null;
      return st([it.uin, it.category, it.seq, it.createdAt, msgId, mediaId, JSON.stringify(it.data)]);
    }
    case 'pruneItems':
      return st([w.uin, w.category, floorParam(w.throughSeq)]);
    case 'pruneDedup':
      return st([w.uin, w.before]);
    case 'setMeta':
      return st([w.name, w.value]);
    case 'putMedia': {
      const m = w.media;
      return st([keyText(m.mediaId), m.ownerUin, keyText(m.clientMediaId), m.size, recText(m)]);
    }
  }
}
