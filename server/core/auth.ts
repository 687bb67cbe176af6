// Who is calling: an HTTP request's BaseRequest (or, without one, the web
// login's cookies and query parameters) or an authenticated long link,
// resolved to its session, device and account, or refused.
import { read, type Step } from '../store/store-ops.ts';
import type { CoreConfig } from './config.ts';
import { SID_MAX } from './field-rules.ts';
import type { Account, Device, Session } from './model.ts';
import { Ret, errorReply, type ErrorReply } from './ret.ts';
import { sidFingerprint } from './sid-fingerprint.ts';
import { isObj, type Obj } from './validate.ts';

/** Who is calling: an HTTP request's BaseRequest (`web` counts only when it has none), or an authenticated long link. */
export type Caller =
  | { kind: 'http'; base: unknown; checkSkey: boolean; web?: WebIdentity }
  | { kind: 'link'; uin: number; sid: string; deviceId: string };

/**
 * A request without a BaseRequest names its session by cookies (`wxuin`,
 * `wxsid`, which the web login sets) or query parameters (`uin`, `sid`,
 * `skey`), as the node found them (unchecked text). The DeviceID is the
 * session's own: a web client is never told the one the server chose.
 */
export interface WebIdentity {
  uin: string | undefined;
  sid: string | undefined;
  skey: string | undefined;
  /** The endpoint needs the Skey too (webwxsync, webwxlogout); elsewhere one given must still be right. */
  skeyRequired: boolean;
}

export interface Auth {
  session: Session;
  device: Device;
  account: Account;
}

export function* authenticate(config: CoreConfig, caller: Caller, now: number): Step<Auth | ErrorReply> {
  if (caller.kind === 'link') return yield* authLink(config, caller.uin, caller.sid, caller.deviceId, now);
  if (caller.base === undefined && caller.web) return yield* authWeb(config, caller.web, now);
  if (!isObj(caller.base)) return errorReply(Ret.BadRequest, 'BaseRequest is missing or not an object');
  const base: Obj = caller.base;
  const uin = base['Uin'];
  const sid = base['Sid'];
  const deviceId = base['DeviceID'];
  if (typeof uin !== 'number' || typeof sid !== 'string' || typeof deviceId !== 'string') {
    return errorReply(Ret.BadRequest, 'BaseRequest needs Uin (number), Sid and DeviceID (strings)');
  }
  const auth = yield* authLink(config, uin, sid, deviceId, now, true);
  if ('BaseResponse' in auth || !caller.checkSkey) return auth;
  const skey = base['Skey'];
  if (typeof skey !== 'string' || skey === '' || (skey !== auth.session.skey && skey !== auth.session.prevSkey)) {
    return errorReply(Ret.SessionInvalid, 'unknown or expired session');
  }
  return auth;
}

/**
 * The DeviceID of a web session: `e` and 15 digits, as the QR login draws it
 * (server/core/web-login.ts) and as the real web client makes its own.
 */
const WEB_DEVICE_ID = /^e[0-9]{15}$/;

/**
 * A session by its Sid, without the Skey: long links, and the first half of
 * an HTTP check. `anyWebDeviceId`: a BaseRequest's DeviceID need not match a
 * web session's (its device id has the web shape): the real web client draws
 * a new one for every request and never learns the one its login made; the
 * Sid names the session.
 */
export function* authLink(config: CoreConfig, uin: number, sid: string, presentedDeviceId: string, now: number, anyWebDeviceId = false): Step<Auth | ErrorReply> {
  let deviceId = presentedDeviceId;
  const invalid = errorReply(Ret.SessionInvalid, 'unknown or expired session');
  const replaced = errorReply(Ret.SessionReplaced, 'session replaced by a newer login of this device');
  if (sid.length === 0 || sid.length > SID_MAX) return invalid;
  const session = yield* read({ kind: 'session', sid });
  if (!session) {
    // A session of this device deleted since (logins replaced it twice over): replaced, not unknown,
    // so that an old install stops instead of logging in again and taking the device back.
    if (!Number.isSafeInteger(uin)) return invalid;
    const device = yield* read({ kind: 'device', uin, deviceId });
    if (device && device.retiredSids.includes(sidFingerprint(sid))) return replaced;
    return invalid;
  }
  // Another account's Sid answers exactly like an unknown one.
  if (anyWebDeviceId && session.uin === uin && WEB_DEVICE_ID.test(session.deviceId)) deviceId = session.deviceId;
  if (session.uin !== uin || session.deviceId !== deviceId) return invalid;
  if (session.state !== 'active') {
    return session.state === 'replaced' ? replaced : errorReply(Ret.SessionReplaced, 'logged out');
  }
  const device = yield* read({ kind: 'device', uin, deviceId });
  const account = yield* read({ kind: 'account', uin });
  if (!device || !account || device.sid !== sid) return invalid;
  if (now - device.lastSeenAt > config.sessionTtlMs) return invalid;
  return { session, device, account };
}

/** A request without a BaseRequest: the session its cookies or query name, with the Skey where needed. */
function* authWeb(config: CoreConfig, web: WebIdentity, now: number): Step<Auth | ErrorReply> {
  const uinText = web.uin ?? '';
  const sid = web.sid ?? '';
  if (!/^[0-9]{1,10}$/.test(uinText) || sid === '') {
    return errorReply(Ret.BadRequest, 'no BaseRequest: send one, or the wxuin and wxsid cookies (or uin and sid parameters)');
  }
  if (web.skeyRequired && (web.skey === undefined || web.skey === '')) return errorReply(Ret.BadRequest, 'skey parameter is required');
  if (sid.length > SID_MAX) return errorReply(Ret.SessionInvalid, 'unknown or expired session');
  const session = yield* read({ kind: 'session', sid });
  // Without a DeviceID the retired Sids of a device cannot be looked up: a deleted session is unknown.
  if (!session) return errorReply(Ret.SessionInvalid, 'unknown or expired session');
  const auth = yield* authLink(config, Number(uinText), sid, session.deviceId, now);
  if ('BaseResponse' in auth || web.skey === undefined || web.skey === '') return auth;
  if (web.skey !== auth.session.skey && web.skey !== auth.session.prevSkey) {
    return errorReply(Ret.SessionInvalid, 'unknown or expired session');
  }
  return auth;
}
