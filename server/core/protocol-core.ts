// The protocol core: every command of docs/protocol.md as a sans-IO step. A
// command is a generator that yields store Reads and returns a Plan: the
// writes to commit, the reply to send once they are committed, and the
// effects (accounts whose logs grew, sessions that ended). Time and
// randomness come in; nothing here touches a socket, a clock or a store.
//
// This class is the entry point; the commands live in one module per family
// and share a CoreContext. A guarded command answers bad input (InputError)
// with its Ret code and writes nothing; heartbeat, synccheck and the sweep
// check their input themselves.
//
// Register and login come in two halves around a password hash that the
// core leaves to its driver (server/core/sessions.ts says why).
import type { Step } from '../store/store-ops.ts';
import type { Caller } from './auth.ts';
import type { CoreConfig } from './config.ts';
import { coreContext, type CoreContext } from './core-context.ts';
import type { CoreDeps } from './deps.ts';
import { batchGetContact } from './batch-contacts.ts';
import { getContact } from './contact-list.ts';
import { createChatRoom } from './groups.ts';
import { oplog } from './oplog.ts';
import { updateChatRoom } from './room-changes.ts';
import { statusNotify } from './status-notify.ts';
import { init } from './init.ts';
import { guard, type Plan } from './plan.ts';
import type {
  BatchContactReply,
  ChatRoomReply,
  ContactListReply,
  InitReply,
  LoginReply,
  OkReply,
  RegisterReply,
  RoomChangeReply,
  SendReply,
  StatusNotifyReply,
  SweepReply,
  SyncCheckReply,
  SyncReply,
} from './replies.ts';
import { sweep } from './retention.ts';
import { errorReply, type BaseResponse, type ErrorReply } from './ret.ts';
import { send, type MediaSend } from './send.ts';
import { avatarCheck, mediaFetch, mediaLookup, mediaRecord, putMedia, uploader, type FetchTarget, type MediaFetchReply, type MediaLookupReply, type UploaderReply } from './media.ts';
import type { MediaRecord } from '../media/media-id.ts';
import { heartbeat, login, loginCheck, logout, register, registerCheck, resume, type CredentialCheck, type Verdict } from './sessions.ts';
import { sync, syncCheck } from './sync.ts';
import { InputError } from './validate.ts';
import { webLogin, webLoginPhone, webSyncCheck, type PhoneReply, type WebLoginReply, type WebSyncCheckReply } from './web-login.ts';

export class ProtocolCore {
  private readonly ctx: CoreContext;

  constructor(
    readonly config: CoreConfig,
    deps: CoreDeps,
  ) {
    this.ctx = coreContext(config, deps);
  }

  // ---- accounts and sessions ----

  /** register, first half (reads only): the name is free; what to hash. */
  registerCheck(body: unknown): Step<CredentialCheck> {
    return guardCheck(registerCheck(this.ctx, body));
  }

  /** register, second half: the account, with the hash the first half's job made. */
  register(body: unknown, now: number, passwordHash: string): Step<Plan<RegisterReply | ErrorReply>> {
    return guard(register(this.ctx, body, now, passwordHash));
  }

  /** manualauth and long-link auth by password, first half (reads only): what to verify. */
  loginCheck(body: unknown): Step<CredentialCheck> {
    return guardCheck(loginCheck(this.ctx, body));
  }

  /** manualauth, and long-link auth by password, second half: a device login, given the verdict. */
  login(body: unknown, now: number, verdict: Verdict): Step<Plan<LoginReply | ErrorReply>> {
    return guard(login(this.ctx, body, now, verdict));
  }

  /** Long-link auth by an existing session: `{Uin, Sid, DeviceID}`. */
  resume(body: unknown, now: number): Step<Plan<LoginReply | ErrorReply>> {
    return guard(resume(this.ctx, body, now));
  }

  /** A long link's heartbeat: the device is alive (its session neither expires nor stops holding retention). */
  heartbeat(caller: Caller, now: number): Step<Plan<OkReply | ErrorReply>> {
    return heartbeat(this.ctx, caller, now);
  }

  logout(caller: Caller, now: number): Step<Plan<OkReply | ErrorReply>> {
    return guard(logout(this.ctx, caller, now));
  }

  // ---- the QR web login (server/core/web-login.ts) ----

  /** The phone's scan or confirm of a QR login: who the caller is. */
  webLoginPhone(caller: Caller, now: number): Step<Plan<PhoneReply | ErrorReply>> {
    return guard(webLoginPhone(this.ctx, caller, now));
  }

  /** A confirmed QR login's ticket, used: a new web device of account `uin`, logged in. */
  webLogin(uin: number, now: number): Step<Plan<WebLoginReply | ErrorReply>> {
    return guard(webLogin(this.ctx, uin, now));
  }

  /** synccheck of a client that names its session by the wxuin and wxsid cookies. */
  webSyncCheck(uin: string, sid: string, query: Readonly<Record<string, string | undefined>>, now: number): Step<Plan<WebSyncCheckReply>> {
    return webSyncCheck(this.ctx, uin, sid, query, now);
  }

  // ---- init and sync ----

  init(caller: Caller, now: number): Step<Plan<InitReply | ErrorReply>> {
    return guard(init(this.ctx, caller, now));
  }

  /** webwxsync, and the long link's sync: items after the presented key; presenting it acknowledges. */
  sync(caller: Caller, syncKey: unknown, now: number): Step<Plan<SyncReply | ErrorReply>> {
    return guard(sync(this.ctx, caller, syncKey, now));
  }

  /** synccheck: is there anything after this key? Presenting the key acknowledges it. */
  syncCheck(query: Readonly<Record<string, string | undefined>>, now: number): Step<Plan<SyncCheckReply>> {
    return syncCheck(this.ctx, query, now);
  }

  // ---- sending, groups and contacts ----

  /** webwxsendmsg `{BaseRequest, Msg}`, or the long link's send `Msg`. */
  send(caller: Caller, msg: unknown, now: number, media?: MediaSend): Step<Plan<SendReply | ErrorReply>> {
    return guard(send(this.ctx, caller, msg, now, media));
  }

  // ---- media (server/core/media.ts): records and permissions; the bytes stay with the driver ----

  /** The sender of an upload, by its BaseRequest or web-login cookies. */
  uploader(caller: Caller, fromUserName: string, now: number): Step<Plan<UploaderReply | ErrorReply>> {
    return uploader(this.ctx, caller, fromUserName, now);
  }

  mediaLookup(uin: number, clientMediaId: string): Step<Plan<MediaLookupReply>> {
    return mediaLookup(uin, clientMediaId);
  }

  avatarCheck(caller: Caller, now: number): Step<Plan<{ BaseResponse: BaseResponse } | ErrorReply>> {
    return avatarCheck(this.ctx, caller, now);
  }

  mediaRecord(mediaId: string): Step<Plan<MediaLookupReply>> {
    return mediaRecord(mediaId);
  }

  putMedia(record: MediaRecord): Step<Plan<OkReply | ErrorReply>> {
    return putMedia(record);
  }

  mediaFetch(caller: Caller, target: FetchTarget, now: number): Step<Plan<MediaFetchReply | ErrorReply>> {
    return mediaFetch(this.ctx, caller, target, now);
  }

  createChatRoom(caller: Caller, body: unknown, now: number): Step<Plan<ChatRoomReply | ErrorReply>> {
    return guard(createChatRoom(this.ctx, caller, body, now));
  }

  /** webwxupdatechatroom `?fun=addmember|invitemember|delmember|modtopic`: a room's members or topic. */
  updateChatRoom(caller: Caller, fun: string | undefined, body: unknown, now: number): Step<Plan<RoomChangeReply | OkReply | ErrorReply>> {
    return guard(updateChatRoom(this.ctx, caller, fun, body, now));
  }

  /** webwxoplog: CmdId 2 a remark, CmdId 3 a pin, each syncing to the user's devices (key 2). */
  oplog(caller: Caller, body: unknown, now: number): Step<Plan<OkReply | ErrorReply>> {
    return guard(oplog(this.ctx, caller, body, now));
  }

  /** webwxgetcontact `?seq`: a page of the account's contacts (real web format). */
  getContact(caller: Caller, seq: string | undefined, now: number): Step<Plan<ContactListReply | ErrorReply>> {
    return guard(getContact(this.ctx, caller, seq, now));
  }

  /** webwxbatchgetcontact: the named contacts the caller may see, rooms with their members. */
  batchGetContact(caller: Caller, body: unknown, now: number): Step<Plan<BatchContactReply | ErrorReply>> {
    return guard(batchGetContact(this.ctx, caller, body, now));
  }

  /** webwxstatusnotify: checked and answered; nothing is kept. */
  statusNotify(caller: Caller, body: unknown, now: number): Step<Plan<StatusNotifyReply | ErrorReply>> {
    return guard(statusNotify(this.ctx, caller, body, now));
  }

  // ---- retention ----

  /** One step of the background retention sweep after `afterUin`; answers where to go on (0: start over). */
  sweep(afterUin: number, now: number): Step<Plan<SweepReply>> {
    return sweep(this.ctx, afterUin, now);
  }
}

/** Bad input to a first half becomes its Ret code, as guard() does for commands. */
function* guardCheck(step: Step<CredentialCheck>): Step<CredentialCheck> {
  try {
    return yield* step;
  } catch (e) {
    if (e instanceof InputError) return errorReply(e.ret, e.message);
    throw e;
  }
}
