// Accounts and their devices' sessions: register, login (manualauth and
// long-link auth by password), resume (long-link auth by Sid), heartbeat and
// logout. Bad input throws InputError; the facade guards these commands.
//
// Register and login run in two halves around a password hash, which the
// core does not compute (it costs tens of milliseconds: the node's driver
// runs it off the event loop). The first half only reads: it checks the
// input and says what to hash (a new password with a fresh salt, or a
// password against the stored hash, a dummy one for an unknown name). The
// second half is the command proper, given the result; it reads again, so
// a login counts only if the hash it verified is still the account's.
import { toSyncKeyJson } from '../wire/synckey.ts';
import { read, type Step, type Write } from '../store/store-ops.ts';
import { authLink, authenticate, type Caller } from './auth.ts';
import type { CoreContext } from './core-context.ts';
import { SALT_BYTES, type HashWork } from './deps.ts';
import { forgetDevice, isLive, retire, touch } from './devices.ts';
import { Field, MAX_UIN } from './field-rules.ts';
import { perCategory, type Account, type Device, type Session } from './model.ts';
import { fail, plan, refuse, type CoreEffect, type Plan } from './plan.ts';
import type { LoginReply, OkReply, RegisterReply } from './replies.ts';
import { OK, Ret, errorReply, type ErrorReply } from './ret.ts';
import { newSid, newSkey } from './session-tokens.ts';
import { initKey } from './sync-keys.ts';
import { idString, int, obj, optStr, str } from './validate.ts';

/** The first half of a register or a login: what to hash, for which user name; or the refusal. */
export type CredentialCheck = { userName: string; work: HashWork } | ErrorReply;

/** What a login's hash job found: the stored hash it checked, and whether the password matched it. */
export interface Verdict {
  stored: string;
  ok: boolean;
}

interface RegisterFields {
  userName: string;
  password: string;
  nickName: string;
}

function registerFields(body: unknown): RegisterFields {
  const b = obj(body, 'request body');
  const userName = str(b, 'UserName', Field.userName);
  const password = str(b, 'Password', Field.password);
  const nickName = optStr(b, 'NickName', Field.nickName, userName);
  return { userName, password, nickName };
}

/** register, first half: the name must be free; the password is to be hashed with a fresh salt. */
export function* registerCheck(ctx: CoreContext, body: unknown): Step<CredentialCheck> {
  const { userName, password } = registerFields(body);
  if (yield* read({ kind: 'accountByName', userName })) return errorReply(Ret.UserNameTaken, 'that user name is taken');
  return { userName, work: { op: 'hash', password, salt: ctx.random.bytes(SALT_BYTES) } };
}

/** register, second half: the account, with `passwordHash` made by the first half's job. */
export function* register(ctx: CoreContext, body: unknown, now: number, passwordHash: string): Step<Plan<RegisterReply | ErrorReply>> {
  const { userName, nickName } = registerFields(body);
  if (yield* read({ kind: 'accountByName', userName })) return fail(Ret.UserNameTaken, 'that user name is taken');
  const uin = (yield* read({ kind: 'meta', name: 'nextUin' })) + 1;
  if (uin > MAX_UIN) return fail(Ret.LimitExceeded, 'no account numbers left');
  const account: Account = {
    uin,
    userName,
    nickName,
    passwordHash,
    createdAt: now,
    seq: 0,
    floor: perCategory(),
    itemCount: perCategory(),
    lastPrunedAt: now,
    lastEvictedAt: 0,
  };
  return plan([{ kind: 'putAccount', account }, { kind: 'setMeta', name: 'nextUin', value: uin }], { BaseResponse: OK, Uin: uin });
}

interface LoginFields {
  userName: string;
  password: string;
  deviceId: string;
  loginId: string;
}

function loginFields(body: unknown): LoginFields {
  const b = obj(body, 'request body');
  const userName = str(b, 'UserName', Field.userName);
  const password = str(b, 'Password', Field.password);
  const deviceId = str(b, 'DeviceID', Field.deviceId);
  const loginId = idString(b, 'ClientLoginId', false) ?? '';
  return { userName, password, deviceId, loginId };
}

/** manualauth and long-link auth by password, first half: the password against the stored hash (a dummy one for an unknown name, which costs the same). */
export function* loginCheck(ctx: CoreContext, body: unknown): Step<CredentialCheck> {
  const { userName, password } = loginFields(body);
  const account = yield* read({ kind: 'accountByName', userName });
  return { userName, work: { op: 'verify', password, stored: account?.passwordHash ?? ctx.dummyHash } };
}

/** manualauth, and long-link auth by password, second half: a device login, given the verdict of the first half's job. */
export function* login(ctx: CoreContext, body: unknown, now: number, verdict: Verdict): Step<Plan<LoginReply | ErrorReply>> {
  const { config } = ctx;
  const { userName, deviceId, loginId } = loginFields(body);
  const account = yield* read({ kind: 'accountByName', userName });
  // The hash may have changed while it was checked: only a match against the account's current one counts.
  if (!account || !verdict.ok || account.passwordHash !== verdict.stored) return fail(Ret.AuthFailed, 'wrong user name or password');

  const devices = yield* read({ kind: 'devicesOf', uin: account.uin });
  const prev = devices.find((d) => d.deviceId === deviceId);
  if (loginId !== '' && prev && prev.sid !== '') {
    // A retried or duplicated login (same ClientLoginId) gets the session it already made,
    // instead of replacing it: otherwise the client would hold a replaced Sid.
    const current = yield* read({ kind: 'session', sid: prev.sid });
    if (current && current.state === 'active' && current.loginId === loginId && isLive(config, prev, now)) {
      return plan([], { BaseResponse: OK, Uin: account.uin, Sid: current.sid, Skey: current.skey, SyncKey: toSyncKeyJson(initKey(account, prev)) });
    }
  }
  if (loginId !== '' && prev) {
    // A late duplicate of a login whose session a newer login (or a logout) has since
    // ended must not replace the newer session: it is told it was replaced.
    // This login already made a session that is no longer the device's: a newer login superseded it.
    const made = yield* read({ kind: 'dedup', uin: account.uin, clientMsgId: loginDedupKey(deviceId, loginId) });
    if (made && made.localId !== prev.sid) return fail(Ret.SessionReplaced, 'this login was superseded by a newer login of this device');
  }
  const live = devices.filter((d) => d.deviceId !== deviceId && isLive(config, d, now));
  if (live.length >= config.maxDevicesPerAccount) {
    return fail(Ret.LimitExceeded, `at most ${config.maxDevicesPerAccount} devices may be logged in; log one out first`);
  }
  const writes: Write[] = [];
  const effects: CoreEffect[] = [];
  if (!prev) writes.push(...makeRoom(ctx, devices, now));
  if (prev && prev.sid !== '') {
    const old = yield* read({ kind: 'session', sid: prev.sid });
    if (old && old.state === 'active') {
      writes.push({ kind: 'putSession', session: { ...old, state: 'replaced' } });
      effects.push({ kind: 'sessionEnded', sid: old.sid, uin: account.uin, ret: Ret.SessionReplaced });
    }
  }
  const sid = newSid(ctx.random);
  const skey = newSkey(ctx.random);
  const session: Session = { sid, uin: account.uin, deviceId, state: 'active', skey, prevSkey: '', skeyAt: now, createdAt: now, loginId };
  // A device keeps its current session and the one before (whose requests hear 1101); older ones
  // go, and the device keeps their fingerprints so that their requests hear 1101 too.
  const dropped = prev && prev.sid !== '' && prev.prevSid !== '' ? prev.prevSid : '';
  const device: Device = prev
    ? { ...prev, sid, prevSid: prev.sid !== '' ? prev.sid : prev.prevSid, retiredSids: dropped ? retire(config, prev, dropped) : prev.retiredSids, lastSeenAt: now }
    : { uin: account.uin, deviceId, sid, prevSid: '', retiredSids: [], acked: perCategory(), createdAt: now, lastSeenAt: now };
  if (dropped) writes.push({ kind: 'deleteSession', sid: dropped });
  writes.push({ kind: 'putSession', session }, { kind: 'putDevice', device });
  if (loginId !== '') {
    // Which session this login made, for its late duplicates (kept as long as send dedup records).
    writes.push({ kind: 'putDedup', dedup: { uin: account.uin, clientMsgId: loginDedupKey(deviceId, loginId), msgId: 0, localId: sid, createdAt: now } });
  }
  return {
    writes,
    effects,
    reply: { BaseResponse: OK, Uin: account.uin, Sid: sid, Skey: skey, SyncKey: toSyncKeyJson(initKey(account, device)) },
  };
}

/** Long-link auth by an existing session: `{Uin, Sid, DeviceID}`. */
export function* resume(ctx: CoreContext, body: unknown, now: number): Step<Plan<LoginReply | ErrorReply>> {
  const b = obj(body, 'request body');
  const uin = int(b, 'Uin', 1, MAX_UIN);
  const sid = str(b, 'Sid', Field.sid);
  const deviceId = str(b, 'DeviceID', Field.resumeDeviceId);
  const auth = yield* authLink(ctx.config, uin, sid, deviceId, now);
  if ('BaseResponse' in auth) return refuse(auth);
  const writes = touch(ctx.config, auth.device, now, auth.device.acked);
  return plan(writes, {
    BaseResponse: OK,
    Uin: uin,
    Sid: sid,
    Skey: auth.session.skey,
    SyncKey: toSyncKeyJson(initKey(auth.account, auth.device)),
  });
}

/** A long link's heartbeat: the device is alive (its session neither expires nor stops holding retention). */
export function* heartbeat(ctx: CoreContext, caller: Caller, now: number): Step<Plan<OkReply | ErrorReply>> {
  const auth = yield* authenticate(ctx.config, caller, now);
  if ('BaseResponse' in auth) return refuse(auth);
  return plan(touch(ctx.config, auth.device, now, auth.device.acked), { BaseResponse: OK });
}

export function* logout(ctx: CoreContext, caller: Caller, now: number): Step<Plan<OkReply | ErrorReply>> {
  const auth = yield* authenticate(ctx.config, caller, now);
  if ('BaseResponse' in auth) return refuse(auth);
  const { session, device } = auth;
  const retiredSids = device.prevSid !== '' ? retire(ctx.config, device, device.prevSid) : device.retiredSids;
  return {
    writes: [
      { kind: 'putSession', session: { ...session, state: 'loggedout' } },
      { kind: 'putDevice', device: { ...device, sid: '', prevSid: session.sid, retiredSids, lastSeenAt: now } },
      ...(device.prevSid !== '' ? [{ kind: 'deleteSession' as const, sid: device.prevSid }] : []),
    ],
    effects: [{ kind: 'sessionEnded', sid: session.sid, uin: session.uin, ret: Ret.SessionReplaced }],
    reply: { BaseResponse: OK },
  };
}

/**
 * A new device of an account holding maxDeviceRecordsPerAccount device
 * records: the least recently seen devices that are not live are forgotten
 * (a login already made sure that few enough are live).
 */
export function makeRoom(ctx: CoreContext, devices: readonly Device[], now: number): Write[] {
  const over = devices.length + 1 - ctx.config.maxDeviceRecordsPerAccount;
  if (over <= 0) return [];
  const idle = devices.filter((d) => !isLive(ctx.config, d, now)).sort((x, y) => x.lastSeenAt - y.lastSeenAt);
  return idle.slice(0, over).flatMap(forgetDevice);
}

/**
 * The dedup record of a login: keyed apart from every ClientMsgId (which
 * cannot hold ':'), it names the session the login made in `localId`.
 */
function loginDedupKey(deviceId: string, loginId: string): string {
  return `login:${deviceId}:${loginId}`;
}
