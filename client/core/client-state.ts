// What a client keeps across an app restart: its session (or the ClientLoginId
// of the login under way), its SyncKey, the inbox (whose MsgIds are the dedup
// set), contacts, the LocalID counter and the outbox. One plain JSON-able value, replaced as a whole per reply, so
// the key and the messages it covers are always saved together.
import type { ContactItem, MessageItem } from '../../server/core/model.ts';
import { sortedPairs, syncKeyFromEntries, type SyncKeyMap } from '../../server/wire/synckey.ts';
import type { OutboxEntry } from './outbox.ts';

export type { ContactItem, MessageItem };

/** 2 added `loginId`; a version 1 state is still read (as `loginId: null`). */
export const STATE_VERSION = 2;

const LOGIN_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** A logged-in device: enough to resume without the password. */
export interface SessionInfo {
  uin: number;
  sid: string;
  /** The latest SKey the server returned. */
  skey: string;
}

export interface PersistedState {
  version: typeof STATE_VERSION;
  userName: string;
  deviceId: string;
  session: SessionInfo | null;
  /**
   * The ClientLoginId of the login under way (no session yet), null otherwise.
   * Kept so that an app restarted in the middle of a login repeats that login
   * rather than making a second one, which would replace the first's session.
   */
  loginId: string | null;
  /** [key, val] pairs sorted by key, every pair the server ever gave. */
  syncKey: Array<[number, number]>;
  /** Applied messages in the order applied (the server's log order); their MsgIds are the dedup set. */
  inbox: MessageItem[];
  contacts: ContactItem[];
  /** The next LocalID; 0 until the first send chooses a start. */
  nextLocalId: number;
  outbox: OutboxEntry[];
}

/** What version 1 wrote: no `loginId`. */
export type PersistedStateV1 = Omit<PersistedState, 'version' | 'loginId'> & { version: 1 };

export function emptyState(userName: string, deviceId: string): PersistedState {
  return {
    version: STATE_VERSION,
    userName,
    deviceId,
    session: null,
    loginId: null,
    syncKey: [],
    inbox: [],
    contacts: [],
    nextLocalId: 0,
    outbox: [],
  };
}

/**
 * A copy without the session nor a login under way: the next start logs in
 * with the password and a fresh ClientLoginId (a new login of this device,
 * which replaces any session it still has). Inbox, key, outbox and the LocalID
 * counter stay.
 */
export function forgetSession(s: PersistedState): PersistedState {
  return { ...structuredClone(s), session: null, loginId: null };
}

/** Raises `into` to the per-key maximum of both (keys only in `from` are added). Returns whether it changed. */
export function mergeSyncKey(into: SyncKeyMap, from: SyncKeyMap): boolean {
  let changed = false;
  for (const [k, v] of from) {
    const cur = into.get(k);
    if (cur === undefined || v > cur) {
      into.set(k, v);
      changed = true;
    }
  }
  return changed;
}

export function syncKeyPairs(m: SyncKeyMap): Array<[number, number]> {
  return sortedPairs(m);
}

function fail(what: string): never {
  throw new TypeError(`persisted client state: ${what}`);
}

/**
 * Checks a persisted state (it may come from disk; version 1 or 2) and returns
 * a deep copy in the current version. Throws a TypeError naming the first bad
 * field.
 */
export function restoreState(x: unknown, userName: string, deviceId: string): PersistedState {
  if (typeof x !== 'object' || x === null) fail('not an object');
  const s = x as Partial<Omit<PersistedState, 'version'>> & { version?: unknown };
  if (s.version !== 1 && s.version !== STATE_VERSION) fail(`version must be 1 or ${STATE_VERSION}, got ${String(s.version)}`);
  if (s.userName !== userName) fail(`it belongs to user ${String(s.userName)}, not ${userName}`);
  if (s.deviceId !== deviceId) fail(`it belongs to device ${String(s.deviceId)}, not ${deviceId}`);
  const session = s.session ?? null;
  if (
    session !== null &&
    (typeof session !== 'object' ||
      !Number.isInteger(session.uin) ||
      typeof session.sid !== 'string' ||
      typeof session.skey !== 'string')
  ) {
    fail('session must be null or {uin, sid, skey}');
  }
  // Version 1 had no loginId; a login under way only matters without a session.
  const loginId = s.version === 1 || session !== null ? null : (s.loginId ?? null);
  if (loginId !== null && (typeof loginId !== 'string' || !LOGIN_ID_RE.test(loginId))) {
    fail('loginId must be null or 1-64 characters of [A-Za-z0-9_-]');
  }
  if (!Array.isArray(s.syncKey)) fail('syncKey must be an array of [key, val]');
  try {
    syncKeyFromEntries(s.syncKey);
  } catch (e) {
    fail(`syncKey: ${(e as Error).message}`);
  }
  if (!Array.isArray(s.inbox) || !s.inbox.every((m) => typeof m === 'object' && m !== null && Number.isSafeInteger(m.MsgId))) {
    fail('inbox must be an array of messages with integer MsgId');
  }
  if (!Array.isArray(s.contacts) || !s.contacts.every((c) => typeof c === 'object' && c !== null && typeof c.UserName === 'string')) {
    fail('contacts must be an array of {UserName, ...}');
  }
  if (typeof s.nextLocalId !== 'number' || !Number.isSafeInteger(s.nextLocalId) || s.nextLocalId < 0) {
    fail('nextLocalId must be a non-negative integer');
  }
  if (!Array.isArray(s.outbox)) fail('outbox must be an array');
  return structuredClone({ ...(s as PersistedState), version: STATE_VERSION, session, loginId });
}
