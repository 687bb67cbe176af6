// What the user asks of the account besides messages: creating a chat room
// (webwxcreatechatroom), setting a remark (webwxoplog), and, as the phone,
// confirming a web login (extdeviceloginconfirmget, then ...ok). They go
// over HTTP on every transport, once the core is ready, and are retried with
// backoff as far as repeating them is safe. A room's or a remark's effect
// comes back through sync like any contact change.
import { PATHS, WEB_LOGIN_PATHS } from '../../server/node/http-api.ts';
import { Ret } from '../../server/core/ret.ts';
import type { ClientConfig } from './client-config.ts';
import { NO_ANSWER, type OutputQueue } from './client-output.ts';
import type { HttpPoster, PendingCall } from './http-requests.ts';
import { baseOf, memberNames, type Obj } from './replies.ts';
import type { RetryPacing } from './retry-pacing.ts';
import type { Session, SessionEnds } from './session.ts';

/** A chat room's user name is this prefix and its id. */
export const GROUP_PREFIX = '@@';

export function isGroupName(userName: string): boolean {
  return userName.startsWith(GROUP_PREFIX);
}

/** webwxoplog's CmdId for setting a remark. */
const OPLOG_SET_REMARK = 2;

const PATH_OF: Readonly<Record<PendingOp['kind'], string>> = {
  room: PATHS.webwxcreatechatroom,
  remark: PATHS.webwxoplog,
  scan: WEB_LOGIN_PATHS.extdeviceloginconfirmget,
  confirm: WEB_LOGIN_PATHS.extdeviceloginconfirmok,
};

interface PendingOp {
  /** scan and confirm: the two halves of confirming a web login, the second sent once the first is answered Ok. */
  kind: 'room' | 'remark' | 'scan' | 'confirm';
  body: Obj;
  attempts: number;
  /** waiting: for nextAttemptAt (and a ready core); asking: a request is out. */
  state: 'waiting' | 'asking';
  nextAttemptAt: number;
}

export interface OpCall extends PendingCall {
  purpose: 'op';
  op: PendingOp;
}

/** What the operations read and use. */
export interface ContactOpsParts {
  cfg: ClientConfig;
  output: OutputQueue;
  session: Session;
  pacing: RetryPacing;
  ends: SessionEnds;
  requests: HttpPoster<OpCall>;
}

export class ContactOps {
  readonly #p: ContactOpsParts;
  #ops: PendingOp[] = [];

  constructor(parts: ContactOpsParts) {
    this.#p = parts;
  }

  /** Retried on Ret 1/2/1100/1110/1111 only: a lost answer may hide a created room, which then arrives through sync. */
  createChatRoom(members: string[], topic: string, now: number): void {
    this.#add('room', { MemberCount: members.length, MemberList: members.map((m) => ({ UserName: m })), Topic: topic }, now);
  }

  /** Idempotent, so retried on any failure. */
  setRemark(target: string, remark: string, now: number): void {
    this.#add('remark', { CmdId: OPLOG_SET_REMARK, UserName: target, RemarkName: remark }, now);
  }

  /** As the phone: scan the web login `loginUrl` (`<public-url>/l/<uuid>`), then confirm it. A scan is retried on any failure; the confirm is not (a second one is refused). */
  confirmWebLogin(loginUrl: string, now: number): void {
    this.#add('scan', { LoginUrl: loginUrl }, now);
  }

  /** Sends what is due; only while the core is ready. */
  issueDue(now: number): void {
    for (const op of this.#ops) if (op.state === 'waiting' && op.nextAttemptAt <= now) this.#issue(op, now);
  }

  /** The earliest time issueDue() has work; Infinity when none. */
  wakeAt(): number {
    let t = Infinity;
    for (const op of this.#ops) if (op.state === 'waiting') t = Math.min(t, op.nextAttemptAt);
    return t;
  }

  /** The answer (o undefined: not HTTP 200, or unreadable). */
  reply(call: OpCall, o: Obj | undefined, now: number): void {
    const op = call.op;
    const base = baseOf(o);
    if (!o || !base) return this.#failed(op, now, true);
    if (base.ret === Ret.Ok) {
      this.#remove(op);
      if (op.kind === 'scan') return this.#add('confirm', op.body, now);
      if (op.kind === 'confirm') return this.#webLogin(op, true, Ret.Ok, '');
      if (op.kind === 'room' && typeof o['ChatRoomName'] === 'string') {
        this.#p.output.event({ kind: 'groupCreated', chatRoomName: o['ChatRoomName'], members: memberNames(o) });
      }
      return;
    }
    if (base.ret === Ret.SessionInvalid || base.ret === Ret.SessionReplaced) {
      if (base.ret === Ret.SessionInvalid) this.#p.ends.relogin(call.sid, now);
      else this.#p.ends.ended(call.sid, base.ret);
      return this.#failed(op, now, false, 0);
    }
    if (base.ret === Ret.ServerError || base.ret === Ret.Busy) return this.#failed(op, now, false);
    // Refused for now (a member's contact log is full, or the room quota is used up): nothing was done.
    if (base.ret === Ret.MailboxFull || base.ret === Ret.RateLimited) {
      return this.#failed(op, now, false, this.#p.pacing.refusedDelay(op.attempts, base.errMsg));
    }
    this.#remove(op);
    if (op.kind === 'scan' || op.kind === 'confirm') this.#webLogin(op, false, base.ret, base.errMsg);
  }

  /** No answer: the request may or may not have been carried out. */
  httpFailed(call: OpCall, now: number): void {
    this.#failed(call.op, now, true);
  }

  #add(kind: PendingOp['kind'], body: Obj, now: number): void {
    this.#ops.push({ kind, body, attempts: 0, state: 'waiting', nextAttemptAt: now });
  }

  #issue(op: PendingOp, now: number): void {
    const { cfg, session, requests } = this.#p;
    op.attempts++;
    const path = PATH_OF[op.kind];
    requests.post(
      path,
      { BaseRequest: session.baseRequest(), ...op.body },
      { purpose: 'op', op, sid: session.info!.sid, deadline: now + cfg.replyTimeoutMs },
    );
    op.state = 'asking';
  }

  /** `lost`: the request may or may not have been carried out (only a remark is safe to repeat then). */
  #failed(op: PendingOp, now: number, lost: boolean, delay?: number): void {
    op.state = 'waiting';
    const unsafe = op.kind === 'room' || op.kind === 'confirm';
    if ((lost && unsafe) || op.attempts >= this.#p.cfg.maxSendAttempts) {
      this.#remove(op);
      if (op.kind === 'scan' || op.kind === 'confirm') this.#webLogin(op, false, NO_ANSWER, lost ? 'no answer: the login may or may not be confirmed' : 'gave up');
      return;
    }
    op.nextAttemptAt = now + (delay ?? this.#p.pacing.retryDelay(op.attempts));
  }

  #webLogin(op: PendingOp, confirmed: boolean, ret: number, errMsg: string): void {
    this.#p.output.event({ kind: 'webLogin', loginUrl: String(op.body['LoginUrl']), confirmed, ret, errMsg });
  }

  #remove(op: PendingOp): void {
    const i = this.#ops.indexOf(op);
    if (i >= 0) this.#ops.splice(i, 1);
  }
}
