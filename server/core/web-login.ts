// The commands of the QR web login (docs/protocol.md section 5.11): the
// phone's scan and confirm, which only need to know who the phone is; the
// web session that a confirmed login's ticket opens, a new device of the
// account; and synccheck for a web client that names its session by cookie.
// Which uuid is in which state is the node's (server/node/qr-logins.ts): the
// core sees only accounts and sessions, as for every other command.
import { read, type Step } from '../store/store-ops.ts';
import { authenticate, type Caller } from './auth.ts';
import type { CoreContext } from './core-context.ts';
import type { RandomSource } from './deps.ts';
import { isLive, touch } from './devices.ts';
import { perCategory, type Device, type Session } from './model.ts';
import { fail, plan, refuse, type Plan } from './plan.ts';
import type { SyncCheckReply } from './replies.ts';
import { OK, Ret, type BaseResponse, type ErrorReply } from './ret.ts';
import { newSid } from './session-tokens.ts';
import { makeRoom } from './sessions.ts';
import { syncCheck } from './sync.ts';

/** Who scanned or confirmed: the node checks it against the uuid's state. */
export interface PhoneReply {
  BaseResponse: BaseResponse;
  Uin: number;
  UserName: string;
}

/** The web session a ticket opened, and the tokens webwxnewloginpage hands out with it. */
export interface WebLoginReply {
  BaseResponse: BaseResponse;
  Uin: number;
  Sid: string;
  Skey: string;
  DeviceID: string;
  PassTicket: string;
  DataTicket: string;
}

/** synccheck by cookie: the answer, and the session and device the poll waits for. */
export interface WebSyncCheckReply extends SyncCheckReply {
  sid: string;
  deviceId: string;
}

/** Draws of a fresh DeviceID before giving up (one collision in 10^15 is already rare). */
const DEVICE_ID_TRIES = 8;
const DEVICE_ID_DIGITS = 15;
const TICKET_BYTES = 24;

/** extdeviceloginconfirmget and ...ok, over HTTP or the long link: the caller's account (a use of its session). */
export function* webLoginPhone(ctx: CoreContext, caller: Caller, now: number): Step<Plan<PhoneReply | ErrorReply>> {
  const auth = yield* authenticate(ctx.config, caller, now);
  if ('BaseResponse' in auth) return refuse(auth);
  const { account, device } = auth;
  return plan(touch(ctx.config, device, now, device.acked), { BaseResponse: OK, Uin: account.uin, UserName: account.userName });
}

/**
 * webwxnewloginpage with a valid ticket: a new device of the account that
 * confirmed, logged in, with a DeviceID of the web client's shape chosen
 * here. It meets the device limit as any login does (Ret 1108).
 */
export function* webLogin(ctx: CoreContext, uin: number, now: number): Step<Plan<WebLoginReply | ErrorReply>> {
  const { config, random } = ctx;
  const account = yield* read({ kind: 'account', uin });
  if (!account) return fail(Ret.SessionInvalid, 'the account that confirmed this login is gone');
  const devices = yield* read({ kind: 'devicesOf', uin });
  if (devices.filter((d) => isLive(config, d, now)).length >= config.maxDevicesPerAccount) {
    return fail(Ret.LimitExceeded, `at most ${config.maxDevicesPerAccount} devices may be logged in; log one out first`);
  }
  let deviceId = '';
  for (let i = 0; i < DEVICE_ID_TRIES && (deviceId === '' || devices.some((d) => d.deviceId === deviceId)); i++) deviceId = webDeviceId(random);
  if (devices.some((d) => d.deviceId === deviceId)) return fail(Ret.ServerError, 'no free DeviceID was drawn; scan again');
  const sid = newSid(random);
  const skey = cryptSkey(random);
  const session: Session = { sid, uin, deviceId, state: 'active', skey, prevSkey: '', skeyAt: now, createdAt: now, loginId: '' };
  const device: Device = { uin, deviceId, sid, prevSid: '', retiredSids: [], acked: perCategory(), createdAt: now, lastSeenAt: now };
  const writes = [...makeRoom(ctx, devices, now), { kind: 'putSession' as const, session }, { kind: 'putDevice' as const, device }];
  return plan(writes, {
    BaseResponse: OK,
    Uin: uin,
    Sid: sid,
    Skey: skey,
    DeviceID: deviceId,
    PassTicket: token(random),
    DataTicket: token(random),
  });
}

/**
 * synccheck of a client that names its session by cookie: the query's
 * `deviceid` is replaced by the session's own (a web client never learns
 * it); everything else is synccheck as usual, `skey` and `synckey` included.
 */
export function* webSyncCheck(ctx: CoreContext, uin: string, sid: string, query: Readonly<Record<string, string | undefined>>, now: number): Step<Plan<WebSyncCheckReply>> {
  const session = sid === '' ? undefined : yield* read({ kind: 'session', sid });
  if (!session) {
    return { writes: [], effects: [], reply: { retcode: Ret.SessionInvalid, selector: 0, seq: 0, uin: 0, sid, deviceId: '' } };
  }
  const p = yield* syncCheck(ctx, { ...query, uin, sid, deviceid: session.deviceId }, now);
  return { ...p, reply: { ...p.reply, sid, deviceId: session.deviceId } };
}

/** `e` and fifteen digits, as the web client's DeviceIDs. */
function webDeviceId(random: RandomSource): string {
  return `e${[...random.bytes(DEVICE_ID_DIGITS)].map((b) => String(b % 10)).join('')}`;
}

/** The web login's Skey: `@crypt_`, 8 and 32 hex digits (160 random bits). */
function cryptSkey(random: RandomSource): string {
  const hex = Buffer.from(random.bytes(20)).toString('hex');
  return `@crypt_${hex.slice(0, 8)}_${hex.slice(8)}`;
}

function token(random: RandomSource): string {
  return Buffer.from(random.bytes(TICKET_BYTES)).toString('base64url');
}
