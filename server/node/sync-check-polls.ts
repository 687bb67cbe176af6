// synccheck: the check runs as a command (it may touch the device's
// last-seen), and a poll with nothing new is held until news comes, its
// session ends or its hold time is over. News comes from this node's commits
// (appended effects) or, with several nodes on one database, from another
// node's notice (remote(): a wake-up only, docs/protocol.md section 9.3).
import type { ProtocolCore } from '../core/protocol-core.ts';
import type { BugSet } from '../core/planted-bugs.ts';
import type { SyncCheckReply } from '../core/replies.ts';
import { Selector } from '../core/model.ts';
import { Ret, type RetCode } from '../core/ret.ts';
import type { WebSyncCheckReply } from '../core/web-login.ts';
import type { RemoteChanges } from './change-bus.ts';
import type { NodeConfig } from './node-config.ts';
import { PollRegistry, type Poll } from './poll-registry.ts';
import type { Runner } from './runner.ts';
import { cookieSession } from './web-login.ts';

/** Answers a poll; `remote` is the peer's when the answer is to the request just read. */
export type SyncCheckAnswer = (req: number, retcode: RetCode, selector: number, remote: string | undefined) => void;

export class SyncCheckPolls {
  private readonly polls: PollRegistry;
  /** Polls whose registration the synccheck-race bug defers past the batch's effects. */
  private deferred: Array<() => void> = [];

  constructor(
    private readonly core: ProtocolCore,
    private readonly runner: Runner,
    private readonly config: NodeConfig,
    private readonly bugs: BugSet,
    private readonly answer: SyncCheckAnswer,
  ) {
    this.polls = new PollRegistry(config.maxPollsPerAccount, config.maxPolls);
  }

  get size(): number {
    return this.polls.size;
  }

  /** By cookie (a web login's session), the poll's `deviceid` is the session's own. */
  check(req: number, query: Record<string, string>, cookies: Record<string, string>, remote: string, now: number): void {
    const c = cookieSession(query, cookies);
    const step = c ? this.core.webSyncCheck(c.uin, c.sid, query, now) : this.core.syncCheck(query, now);
    this.runner.submit<SyncCheckReply | WebSyncCheckReply>(step, (r) => {
      // A command that failed answers retcode 1 (2 when the node is too busy to run it), never a reply without one.
      if ('BaseResponse' in r) return this.answer(req, r.BaseResponse.Ret === Ret.Busy ? Ret.Busy : Ret.ServerError, Selector.None, remote);
      const reply = r as SyncCheckReply | WebSyncCheckReply;
      if (reply.retcode !== Ret.Ok || reply.selector !== Selector.None) return this.answer(req, reply.retcode, reply.selector, remote);
      const poll: Poll = {
        req,
        uin: reply.uin,
        sid: 'sid' in reply ? reply.sid : (query['sid'] ?? ''),
        deviceId: 'deviceId' in reply ? reply.deviceId : (query['deviceid'] ?? ''),
        deadline: now + this.config.holdMs,
        seq: reply.seq,
      };
      const register = (): void => {
        const added = this.polls.add(poll, !this.bugs.has('synccheck-race'));
        // An append this poll did not see: any news selector sends the client to sync.
        if (added.kind === 'stale') this.answer(req, Ret.Ok, Selector.Messages, remote);
        else if (added.kind === 'full') this.answer(req, Ret.Busy, Selector.None, remote);
        else if (added.evicted) this.answer(added.evicted.req, Ret.Ok, Selector.None, undefined);
      };
      if (this.bugs.has('synccheck-race')) this.deferred.push(register);
      else register();
    });
  }

  /** The client of a waiting request went away. */
  aborted(req: number): void {
    this.polls.remove(req);
  }

  /** This node committed news for `uin`: every poll of the account is answered. */
  appended(uin: number, seq: number, selector: number): void {
    this.polls.noteAppended(uin, seq);
    for (const p of this.polls.takeAccount(uin)) this.answer(p.req, Ret.Ok, selector, undefined);
  }

  /** A session ended: its polls are answered with `ret`; the account's other polls wait on. */
  sessionEnded(uin: number, sid: string, ret: RetCode): void {
    for (const p of this.polls.takeAccount(uin)) {
      if (p.sid === sid) this.answer(p.req, ret, Selector.None, undefined);
      else this.polls.add(p, false);
    }
  }

  /** After a batch's effects: the registrations the synccheck-race bug held back. */
  runDeferred(): void {
    const deferred = this.deferred;
    this.deferred = [];
    for (const f of deferred) f();
  }

  /**
   * Another node's notice. A listed account's polls that checked before its
   * new seq are answered with the notice's selector (the client then syncs,
   * which alone carries data), and a poll of it still in its check will find
   * itself stale; `everyone` answers every poll "nothing new", so that each
   * client polls again at once and its new check runs against the store.
   */
  remote(changes: RemoteChanges): void {
    if (changes === 'everyone') {
      for (const p of this.polls.expire(Infinity)) this.answer(p.req, Ret.Ok, Selector.None, undefined);
      return;
    }
    for (const c of changes) {
      this.polls.noteAppended(c.uin, c.seq);
      for (const p of this.polls.takeAccount(c.uin)) {
        if (p.seq >= c.seq) this.polls.add(p, false);
        else this.answer(p.req, Ret.Ok, c.selector, undefined);
      }
    }
  }

  /** Polls whose hold time is over are answered "nothing new". */
  expire(now: number): void {
    for (const p of this.polls.expire(now)) this.answer(p.req, Ret.Ok, Selector.None, undefined);
  }

  nextDeadline(): number | undefined {
    return this.polls.nextDeadline();
  }
}
