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
import type { Step } from '../store/store-ops.ts';
import type { Caller } from './auth.ts';
import type { CoreConfig } from './config.ts';
import { coreContext, type CoreContext } from './core-context.ts';
import type { CoreDeps } from './deps.ts';
import { createChatRoom, oplog } from './groups.ts';
import { init } from './init.ts';
import { guard, type Plan } from './plan.ts';
import type { ChatRoomReply, InitReply, LoginReply, OkReply, RegisterReply, SendReply, SweepReply, SyncCheckReply, SyncReply } from './replies.ts';
import { sweep } from './retention.ts';
import type { ErrorReply } from './ret.ts';
import { send } from './send.ts';
import { heartbeat, login, logout, register, resume } from './sessions.ts';
import { sync, syncCheck } from './sync.ts';

export class ProtocolCore {
  private readonly ctx: CoreContext;

  constructor(
    readonly config: CoreConfig,
    deps: CoreDeps,
  ) {
    this.ctx = coreContext(config, deps);
  }

  // ---- accounts and sessions ----

  register(body: unknown, now: number): Step<Plan<RegisterReply | ErrorReply>> {
    return guard(register(this.ctx, body, now));
  }

  /** manualauth, and long-link auth by password: a device login. */
  login(body: unknown, now: number): Step<Plan<LoginReply | ErrorReply>> {
    return guard(login(this.ctx, body, now));
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
  send(caller: Caller, msg: unknown, now: number): Step<Plan<SendReply | ErrorReply>> {
    return guard(send(this.ctx, caller, msg, now));
  }

  createChatRoom(caller: Caller, body: unknown, now: number): Step<Plan<ChatRoomReply | ErrorReply>> {
    return guard(createChatRoom(this.ctx, caller, body, now));
  }

  /** webwxoplog CmdId 2: a remark that syncs to the user's other devices (key 2). */
  oplog(caller: Caller, body: unknown, now: number): Step<Plan<OkReply | ErrorReply>> {
    return guard(oplog(this.ctx, caller, body, now));
  }

  // ---- retention ----

  /** One step of the background retention sweep after `afterUin`; answers where to go on (0: start over). */
  sweep(afterUin: number, now: number): Step<Plan<SweepReply>> {
    return sweep(this.ctx, afterUin, now);
  }
}
