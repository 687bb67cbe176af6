// The reads of PostgresStore: each Read kind is one prepared statement (named
// 'sk_r_<kind>', parsed once per connection) and the decoding of its rows,
// answering exactly as MemoryStore does (the reference) and SqliteStore.
import type { Account, DedupRecord, Device, Group, Remark, Session } from '../core/model.ts';
import type { MediaRecord } from '../media/media-id.ts';
import { floorParam, fromRec, keyText, limitParam, toItem } from './postgres-rows.ts';
import type { Read, ReadResult } from './store-ops.ts';

/** Runs one named statement and answers its rows as arrays. */
export type RunStatement = (name: string, text: string, values: unknown[]) => Promise<unknown[][]>;

const GROUP_JOIN = 'FROM group_members m JOIN "groups" g ON g.user_name = m.user_name';

const SQL = {
  account: 'SELECT rec FROM accounts WHERE uin = $1',
  accountByName: 'SELECT rec FROM accounts WHERE user_name = $1',
  accountsAfter: 'SELECT rec FROM accounts WHERE uin > $1 ORDER BY uin LIMIT $2',
  session: 'SELECT rec FROM sessions WHERE sid = $1',
  device: 'SELECT rec FROM devices WHERE uin = $1 AND device_id = $2',
  devicesOf: 'SELECT rec FROM devices WHERE uin = $1 ORDER BY ord',
  dedup: 'SELECT rec FROM dedup WHERE uin = $1 AND client_msg_id = $2',
  group: 'SELECT rec FROM "groups" WHERE user_name = $1',
  groupsOf: `SELECT g.rec ${GROUP_JOIN} WHERE m.uin = $1 ORDER BY m.ord LIMIT $2`,
  remarksOf: 'SELECT rec FROM remarks WHERE uin = $1 ORDER BY ord LIMIT $2',
  remark: 'SELECT rec FROM remarks WHERE uin = $1 AND target = $2',
  // Ties of id (two names, one number) keep join order, as MemoryStore's stable sort does.
  roomsAfter: `SELECT g.rec ${GROUP_JOIN} WHERE m.uin = $1 AND m.group_id > $2::float8 ORDER BY m.group_id, m.ord LIMIT $3`,
  peersAfter: 'SELECT peer FROM peers WHERE uin = $1 AND peer > $2 ORDER BY peer LIMIT $3',
  // Users only: a room's name never names an account, and is left out before the join is asked.
  remarkedAfter: `SELECT a.uin, r.rec FROM remarks r JOIN accounts a ON a.user_name = r.target
    WHERE r.uin = $1 AND left(r.target, 2) <> '@@' AND a.uin > $2 ORDER BY a.uin LIMIT $3`,
  peers: 'SELECT uin FROM peers WHERE uin = $1 AND peer = $2 UNION ALL SELECT uin FROM peers WHERE uin = $2 AND peer = $1',
  inRoomOf: `SELECT 1 ${GROUP_JOIN} WHERE m.uin = $1 AND g.owner_uin = $2 LIMIT 1`,
  items: 'SELECT seq, created_at, data FROM items WHERE uin = $1 AND category = $2 AND seq > $3 ORDER BY seq LIMIT $4',
  meta: 'SELECT value FROM meta WHERE name = $1',
  media: 'SELECT rec FROM media WHERE media_id = $1',
  mediaByClient: 'SELECT rec FROM media WHERE owner_uin = $1 AND client_media_id = $2',
  mediaBytes: 'SELECT coalesce(sum(size), 0) FROM media WHERE owner_uin = $1',
  // The oldest message with that MsgId, as MemoryStore finds it walking the log.
  logMedia: 'SELECT data FROM items WHERE uin = $1 AND category = 1 AND msg_id = $2::float8 ORDER BY seq LIMIT 1',
  logHasMedia: 'SELECT 1 FROM items WHERE uin = $1 AND category = 1 AND media_id = $2 LIMIT 1',
} satisfies Record<Read['kind'], string>;

/** One read, on whatever the connection sees: the open transaction's writes included. */
export async function readRecord(run: RunStatement, r: Read): Promise<ReadResult[Read['kind']]> {
  const rows = (values: unknown[]): Promise<unknown[][]> => run(`sk_r_${r.kind}`, SQL[r.kind], values);
  const one = async <T>(values: unknown[]): Promise<T | undefined> => {
    const got = await rows(values);
    return got.length === 0 ? undefined : fromRec<T>(got[0]![0]);
  };
  const all = async <T>(values: unknown[]): Promise<T[]> => (await rows(values)).map((row) => fromRec<T>(row[0]));
  switch (r.kind) {
    case 'account':
      return one<Account>([r.uin]);
    case 'accountByName':
      return one<Account>([keyText(r.userName)]);
    case 'accountsAfter':
      return all<Account>([floorParam(r.afterUin), limitParam(r.limit)]);
    case 'session':
      return one<Session>([keyText(r.sid)]);
    case 'device':
      return one<Device>([r.uin, keyText(r.deviceId)]);
    case 'devicesOf':
      return all<Device>([r.uin]);
    case 'dedup':
      return one<DedupRecord>([r.uin, keyText(r.clientMsgId)]);
    case 'group':
      return one<Group>([keyText(r.userName)]);
    case 'groupsOf':
      return all<Group>([r.uin, limitParam(r.limit)]);
    case 'remarksOf':
      return all<Remark>([r.uin, limitParam(r.limit)]);
    case 'remark':
      return one<Remark>([r.uin, keyText(r.target)]);
    case 'roomsAfter':
      return all<Group>([r.uin, r.afterId, limitParam(r.limit)]);
    case 'peersAfter':
      return (await rows([r.uin, floorParam(r.afterUin), limitParam(r.limit)])).map((row) => row[0] as number);
    case 'remarkedAfter':
      return (await rows([r.uin, floorParam(r.afterUin), limitParam(r.limit)])).map((row) => ({ uin: row[0] as number, remark: fromRec<Remark>(row[1]) }));
    case 'peers': {
      const from = (await rows([r.a, r.b])).map((row) => row[0] as number);
      return { aToB: from.includes(r.a), bToA: from.includes(r.b) };
    }
    case 'inRoomOf':
      return (await rows([r.member, r.owner])).length > 0;
    case 'items':
      return (await rows([r.uin, r.category, floorParam(r.afterSeq), limitParam(r.limit)])).map((row) => toItem(r.uin, r.category, row));
    case 'meta':
      return ((await rows([r.name]))[0]?.[0] as number | undefined) ?? 0;
    case 'media':
      return one<MediaRecord>([keyText(r.mediaId)]);
    case 'mediaByClient':
      return one<MediaRecord>([r.uin, keyText(r.clientMediaId)]);
    case 'mediaBytes':
      return (await rows([r.uin]))[0]![0] as number;
    case 'logMedia': {
      const [row] = await rows([r.uin, r.msgId]);
      if (!row) return undefined;
      return (JSON.parse(row[0] as string) as { MediaId?: string }).MediaId ?? '';
    }
    case 'logHasMedia':
      return (await rows([r.uin, keyText(r.mediaId)])).length > 0;
  }
}
