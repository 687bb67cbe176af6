// Who is calling: an HTTP request's BaseRequest or an authenticated long
// link, resolved to its session, device and account, or refused.
import { read, type Step } from '../store/store-ops.ts';
import type { CoreConfig } from './config.ts';
import { SID_MAX } from './field-rules.ts';
import type { Account, Device, Session } from './model.ts';
import { Ret, errorReply, type ErrorReply } from './ret.ts';
import { sidFingerprint } from './sid-fingerprint.ts';
import { isObj, type Obj } from './validate.ts';

/** Who is calling: an HTTP request's BaseRequest, or an authenticated long link. */
export type Caller =
  | { kind: 'http'; base: unknown; checkSkey: boolean }
  | { kind: 'link'; uin: number; sid: string; deviceId: string };

export interface Auth {
  session: Session;
  device: Device;
  account: Account;
}

export function* authenticate(config: CoreConfig, caller: Caller, now: number): Step<Auth | ErrorReply> {
  if (caller.kind === 'link') return yield* authLink(config, caller.uin, caller.sid, caller.deviceId, now);
  if (!isObj(caller.base)) return errorReply(Ret.BadRequest, 'BaseRequest is missing or not an object');
  const base: Obj = caller.base;
  const uin = base['Uin'];
  const sid = base['Sid'];
  const deviceId = base['DeviceID'];
  if (typeof uin !== 'number' || typeof sid !== 'string' || typeof deviceId !== 'string') {
    return errorReply(Ret.BadRequest, 'BaseRequest needs Uin (number), Sid and DeviceID (strings)');
  }
  const auth = yield* authLink(config, uin, sid, deviceId, now);
  if ('BaseResponse' in auth || !caller.checkSkey) return auth;
  const skey = base['Skey'];
  if (typeof skey !== 'string' || skey === '' || (skey !== auth.session.skey && skey !== auth.session.prevSkey)) {
    return errorReply(Ret.SessionInvalid, 'unknown or expired session');
  }
  return auth;
}

/** A session by its Sid, without the Skey: long links, and the first half of an HTTP check. */
export function* authLink(config: CoreConfig, uin: number, sid: string, deviceId: string, now: number): Step<Auth | ErrorReply> {
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
