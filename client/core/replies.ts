// Reading the server's answers without trusting them. Every parser returns
// undefined for anything malformed; the core counts that as a failure of the
// request (retry with backoff, or drop the link), never as a crash.
import type { ContactItem, MessageItem } from '../../server/core/model.ts';
import { parseSyncKeyJson, type SyncKeyMap } from '../../server/wire/synckey.ts';
import { NO_ANSWER } from './client-output.ts';

export type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A JSON object from a response body, or undefined. */
export function parseJsonObject(text: string): Obj | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return isObj(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** `{BaseResponse: {Ret, ErrMsg}}` → Ret and ErrMsg. */
export function baseOf(o: unknown): { ret: number; errMsg: string } | undefined {
  if (!isObj(o) || !isObj(o['BaseResponse'])) return undefined;
  const ret = o['BaseResponse']['Ret'];
  const errMsg = o['BaseResponse']['ErrMsg'];
  if (typeof ret !== 'number' || !Number.isInteger(ret)) return undefined;
  return { ret, errMsg: typeof errMsg === 'string' ? errMsg : '' };
}

function syncKeyOf(o: Obj, field: string): SyncKeyMap | undefined {
  try {
    return parseSyncKeyJson(o[field]);
  } catch {
    return undefined;
  }
}

function optString(o: Obj, field: string): string | undefined {
  const v = o[field];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** manualauth, and the long link's auth reply (op 8). */
export interface LoginReply {
  uin: number;
  sid: string;
  skey: string;
  syncKey: SyncKeyMap;
  /** Long link only; undefined when absent. */
  heartbeatSec: number | undefined;
}

export function parseLoginReply(o: Obj): LoginReply | undefined {
  const uin = o['Uin'];
  const sid = optString(o, 'Sid');
  const skey = optString(o, 'Skey') ?? optString(o, 'SKey');
  const syncKey = syncKeyOf(o, 'SyncKey');
  if (typeof uin !== 'number' || !Number.isInteger(uin) || uin <= 0 || !sid || skey === undefined || !syncKey) return undefined;
  const hb = o['HeartbeatSec'];
  const heartbeatSec = typeof hb === 'number' && Number.isFinite(hb) && hb > 0 ? hb : undefined;
  return { uin, sid, skey, syncKey, heartbeatSec };
}

export interface InitReply {
  syncKey: SyncKeyMap;
  skey: string | undefined;
  contacts: ContactItem[];
}

/**
 * A contact list of an answer. A room's MemberList comes as user names on the
 * long link and as member objects (`{UserName, NickName, ...}`) over HTTP, as
 * the real web service sends it; the client keeps names either way.
 */
function contactsOf(o: Obj, field: string): ContactItem[] | undefined {
  const list = o[field] ?? [];
  if (!Array.isArray(list)) return undefined;
  const out: ContactItem[] = [];
  for (const c of list) {
    if (!isObj(c) || typeof c['UserName'] !== 'string') return undefined;
    const members = c['MemberList'];
    if (!Array.isArray(members) || members.every((m) => typeof m === 'string')) {
      out.push(c as unknown as ContactItem);
      continue;
    }
    const names: string[] = [];
    for (const m of members) {
      const name = typeof m === 'string' ? m : isObj(m) && typeof m['UserName'] === 'string' ? m['UserName'] : undefined;
      if (name === undefined) return undefined;
      names.push(name);
    }
    out.push({ ...(c as unknown as ContactItem), MemberList: names });
  }
  return out;
}

export function parseInitReply(o: Obj): InitReply | undefined {
  const syncKey = syncKeyOf(o, 'SyncKey');
  const contacts = contactsOf(o, 'ContactList');
  if (!syncKey || !contacts) return undefined;
  return { syncKey, skey: optString(o, 'SKey'), contacts };
}

/** The ContinueFlag of a sync reply that left items for the next one. */
const CONTINUE_MORE = 1;

/** webwxsync, and the long link's sync reply (op 11). */
export interface SyncReply {
  messages: MessageItem[];
  contacts: ContactItem[];
  deleted: ContactItem[];
  syncKey: SyncKeyMap;
  skey: string | undefined;
  /** ContinueFlag 1: more is waiting, sync again at once. */
  more: boolean;
}

export function parseSyncReply(o: Obj): SyncReply | undefined {
  const list = o['AddMsgList'] ?? [];
  if (!Array.isArray(list)) return undefined;
  for (const m of list) {
    if (!isObj(m) || typeof m['MsgId'] !== 'number' || !Number.isSafeInteger(m['MsgId']) || typeof m['Content'] !== 'string') {
      return undefined;
    }
  }
  const contacts = contactsOf(o, 'ModContactList');
  const deleted = contactsOf(o, 'DelContactList');
  const syncKey = syncKeyOf(o, 'SyncKey');
  if (!contacts || !deleted || !syncKey) return undefined;
  return {
    messages: list as MessageItem[],
    contacts,
    deleted,
    syncKey,
    skey: optString(o, 'SKey'),
    more: o['ContinueFlag'] === CONTINUE_MORE,
  };
}

const RETRY_AFTER = /retry after (\d{1,12}) ms$/;

/** The hint at the end of a 1111's ErrMsg (`retry after <ms> ms`), or undefined. */
export function retryAfterMs(errMsg: string): number | undefined {
  const m = RETRY_AFTER.exec(errMsg);
  return m ? Number(m[1]) : undefined;
}

/** The send reply: webwxsendmsg and op 5. */
export function parseMsgId(o: Obj): number | undefined {
  const id = o['MsgID'];
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : undefined;
}

const SYNCCHECK = /^\s*window\.synccheck\s*=\s*\{\s*retcode\s*:\s*"(\d{1,9})"\s*,\s*selector\s*:\s*"(\d{1,9})"\s*\}\s*;?\s*$/;

/** `window.synccheck={retcode:"0",selector:"2"}` → the numbers. */
export function parseSyncCheck(text: string): { retcode: number; selector: number } | undefined {
  const m = SYNCCHECK.exec(text);
  if (!m) return undefined;
  return { retcode: Number(m[1]), selector: Number(m[2]) };
}

/** The long link's disconnect body `{Ret, ErrMsg}` (Ret NO_ANSWER when unreadable). */
export function parseDisconnect(o: unknown): { ret: number; errMsg: string } {
  if (!isObj(o) || typeof o['Ret'] !== 'number') return { ret: NO_ANSWER, errMsg: 'disconnected' };
  return { ret: o['Ret'], errMsg: typeof o['ErrMsg'] === 'string' ? o['ErrMsg'] : '' };
}

export function memberNames(o: Obj): string[] {
  const list = o['MemberList'];
  if (!Array.isArray(list)) return [];
  const names: string[] = [];
  for (const m of list) if (isObj(m) && typeof m['UserName'] === 'string') names.push(m['UserName']);
  return names;
}
