// The server as one sans-IO state machine: HTTP requests, long-link bytes and
// ticks go in; answers, packets and closes come out through `out`. The real
// transports (server/transport/) and the simulator drive this same object.
import type { Store } from '../store/store.ts';
import type { Step } from '../store/store-ops.ts';
import type { PipelinedRunner } from './pipelined-runner.ts';
import type { AsyncRunner, AsyncStorage } from './async-runner.ts';
import { nodeRunner, type StoragePipeline } from './node-runner.ts';
import { changesOf, EVERY_SELECTOR, type ChangePublisher, type RemoteChanges } from './change-bus.ts';
import { LinkedAccounts } from './linked-accounts.ts';
import { SyncCheckPolls } from './sync-check-polls.ts';
import type { Done, Runner } from './runner.ts';
import { coreConfig, type CoreConfig } from '../core/config.ts';
import type { HashResult, PasswordHasher, RandomSource } from '../core/deps.ts';
import { AnswerCounts, type AnswerTally, type AnswerWatch } from './answer-counts.ts';
import { MEDIA_ROUTES, ROUTES, contactRequest, errorAnswer, jsonAnswer, parseCookies, splitUrl, syncCheckAnswer, webLoginRoute, type Endpoint, type HttpAnswer, type HttpRequestHeaders } from './http-api.ts';
import { MediaApi } from './media-api.ts';
import { LinkHub, type LinkAction, type LinkStats } from './link-hub.ts';
import { faultDisconnect, type LinkFaultCode } from './link-fault.ts';
import { RoundBudget } from './round-budget.ts';
import type { HashAction } from './hash-jobs.ts';
import { nodeConfig, type NodeConfig } from './node-config.ts';
import { PasswordGate, type GateStats } from './password-gate.ts';
import { NO_BUGS, type BugSet } from '../core/planted-bugs.ts';
import type { Caller } from '../core/auth.ts';
import type { CoreEffect, Plan } from '../core/plan.ts';
import { ProtocolCore } from '../core/protocol-core.ts';
import { Ret, type BaseResponse, type RetCode } from '../core/ret.ts';
import { isObj } from '../core/validate.ts';
import { DEFAULT_PUBLIC_URL, WebLogin, requestBody, webIdentity } from './web-login.ts';

/** Room in a sync reply for what surrounds its items: keys, SKey, counts. */
const SYNC_REPLY_ENVELOPE_BYTES = 2048;

/**
 * What the node asks of its driver: an HTTP answer, for a long link a
 * write, a close (after what was written), or to stop (`pause`) and start
 * again (`resume`) reading it, or a password hash (answer it later with
 * hashDone). A driver that ignores pause still works: the node buffers up
 * to maxLinkBufferBytes of the link, then closes it.
 */
export type ServerAction = { kind: 'respond'; req: number; answer: HttpAnswer } | LinkAction | HashAction;

export type { StoragePipeline } from './node-runner.ts';

export interface ServerNodeOptions {
  /** A synchronous store (memory, in-process SQLite); or `pipeline`, or `asyncStore`. */
  store?: Store;
  pipeline?: StoragePipeline;
  /** A store that answers later (PostgreSQL): one batch transaction at a time (server/node/async-runner.ts). */
  asyncStore?: AsyncStorage;
  /** Told, after each commit, which accounts got new items: for the other nodes on the same database (change-bus.ts). */
  changes?: ChangePublisher;
  random: RandomSource;
  /** Makes the core's one dummy hash at start (same cost as the real ones); every other hash is a job for the driver. */
  hasher: PasswordHasher;
  out: (a: ServerAction) => void;
  core?: Partial<CoreConfig>;
  node?: Partial<NodeConfig>;
  bugs?: BugSet;
  /** Told of throttled answers, op 6 disconnects and authenticated links (for logs); of every answer if it sets `answered`. */
  watch?: AnswerWatch;
  /** The base of the URLs the server writes: QR codes, the web login's redirect (default http://127.0.0.1:8080). */
  publicUrl?: string;
}

/** Every command's reply starts with its BaseResponse (server/core/replies.ts). */
type Reply = { BaseResponse: BaseResponse };

export interface NodeStats extends LinkStats, GateStats {
  polls: number;
  /** QR web logins under way, and their login polls held. */
  qrLogins: number;
  loginPolls: number;
  commands: number;
  commits: number;
  failures: number;
  /** Writes the commands made (maxWorkPerRound counts them). */
  writes: number;
  /** Answers by transport, command and Ret; op 6 by code; notifications: a copy (server/node/answer-counts.ts). */
  answers: AnswerTally;
}

export class ServerNode {
  readonly core: ProtocolCore;
  readonly config: NodeConfig;
  private readonly runner: Runner;
  private readonly pipelined: PipelinedRunner | undefined;
  private readonly async: AsyncRunner | undefined;
  private readonly checks: SyncCheckPolls;
  private readonly linked = new LinkedAccounts();
  private readonly changes: ChangePublisher | undefined;
  private readonly hub: LinkHub;
  private readonly gate: PasswordGate;
  private readonly out: (a: ServerAction) => void;
  private readonly bugs: BugSet;
  private readonly counts: AnswerCounts;
  /** The QR web login: uuids, their polls, the phone's scan and confirm (server/node/web-login.ts). */
  private readonly web: WebLogin;
  /** The background retention sweep: where it is, and when its next step runs. */
  private sweepCursor = 0;
  private nextSweepAt = -Infinity;
  private sweeping = false;
  /** The work budget of a round, and the HTTP commands held past it (round-budget.ts). */
  private readonly budget: RoundBudget;
  /** The media endpoints; the transport's upload streaming asks it too (server/node/media-api.ts). */
  readonly media: MediaApi;

  constructor(o: ServerNodeOptions) {
    this.config = nodeConfig(o.node);
    this.bugs = o.bugs ?? NO_BUGS;
    const core = coreConfig(o.core);
    // A sync reply (op 11) must fit one packet: its items plus the envelope (keys, SKey, counts).
    if (core.maxSyncReplyBytes + SYNC_REPLY_ENVELOPE_BYTES > this.config.maxPacketBody) {
      throw new RangeError(`core maxSyncReplyBytes (${core.maxSyncReplyBytes}) must be at least 2 KiB below node maxPacketBody (${this.config.maxPacketBody})`);
    }
    this.core = new ProtocolCore(core, { random: o.random, hasher: o.hasher, bugs: this.bugs });
    ({ runner: this.runner, pipelined: this.pipelined, async: this.async } = nodeRunner(o, this.bugs, this.config.maxBatch, (effects) => this.afterCommit(effects)));
    this.changes = o.changes;
    this.checks = new SyncCheckPolls(this.core, this.runner, this.config, this.bugs, (req, retcode, selector, remote) => this.syncCheckAnswer(req, retcode, selector, remote));
    this.out = o.out;
    this.counts = new AnswerCounts(this.linked.watch(o.watch));
    this.gate = new PasswordGate(this.core, this.runner, this.config, o.out);
    // The batch that fills a round's budget commits on its own at once.
    this.budget = new RoundBudget(this.runner, this.config.maxWorkPerRound, () => this.applyEffects(this.runner.flush()));
    const submit = <R>(step: Step<Plan<R>>, done: Done<R>): void => this.budget.submit('', step, done);
    const host = { core: this.core, config: this.config, random: o.random, submit, respond: (req: number, a: HttpAnswer) => this.respond(req, a) };
    this.web = new WebLogin(host, o.publicUrl ?? DEFAULT_PUBLIC_URL);
    this.media = new MediaApi(this.core, (client, step, done) => this.budget.submit(client, step, done), (req, a) => this.respond(req, a));
    this.hub = new LinkHub(this.core, this.runner, this.gate, this.config, o.out, this.counts, this.budget, this.web);
  }

  /**
   * Commands wait for a commit, or paused links for their turn: the driver
   * should call flush() soon. On a store that answers later, paused links
   * wait while a transaction runs: its end calls for the flush (settled).
   */
  get needsFlush(): boolean {
    return this.runner.hasWork || (this.hub.waiting && !this.async?.busy) || this.budget.holding;
  }

  /** A new round: HTTP commands held for it start first (within its budget), then paused links take their turn. */
  private nextRound(now: number): void {
    this.budget.begin();
    this.hub.serveRound(now);
  }

  stats(): NodeStats {
    return { ...this.hub.stats(), ...this.gate.stats(), polls: this.checks.size, ...this.web.stats(), ...this.runner.stats, answers: this.counts.tally() };
  }

  /** The base of the URLs the server writes; a driver that learns its port only once listening sets it then. */
  get publicUrl(): string {
    return this.web.publicUrl;
  }

  set publicUrl(url: string) {
    this.web.publicUrl = url;
  }

  /** Commit the batch, answer it, then notify: effects leave only after the commit. Then paused links take their turn. */
  flush(now: number): void {
    this.afterCommit(this.runner.flush());
    this.nextRound(now);
  }

  /** Commands submitted and not yet answered (an async store's queue and its transaction under way, or the open batch). */
  get uncommitted(): number {
    return this.runner.pending;
  }

  /** A batch is durable and answered: its effects go out, then the polls the synccheck-race bug held back. */
  private afterCommit(effects: CoreEffect[]): void {
    this.applyEffects(effects);
    this.checks.runDeferred();
  }

  /**
   * The storage thread committed batches up to `through`: their commands are
   * answered now, then their effects go out, then paused links take their
   * turn. Returns how many commands were answered.
   */
  storageCommitted(through: number, now: number): number {
    const p = this.pipelined;
    if (!p) return 0;
    const answered = p.committed(through);
    this.afterCommit(p.takeEffects());
    this.nextRound(now);
    return answered;
  }

  /** A commit on the storage thread failed (or the thread died): every command not yet answered gets Ret 1. */
  storageFailed(): void {
    this.pipelined?.failed();
  }

  /** A crash: every volatile thing is gone. The driver drops this node and builds a new one on the same store. */
  crash(): void {
    this.runner.crash();
  }

  // ---- HTTP ----

  /** `remote`: the peer's address, which the anti-abuse limits count by; `headers`: its Cookie (a web-login session). */
  httpRequest(req: number, method: string, url: string, body: string, remote: string, now: number, headers: HttpRequestHeaders = {}): void {
    const { path, query } = splitUrl(url);
    const route = ROUTES.get(path);
    const media = route ? undefined : MEDIA_ROUTES.get(path);
    if (media && method !== media.method) return this.respond(req, errorAnswer(405, Ret.BadRequest, `${media.endpoint} takes ${media.method}`, { Allow: media.method }));
    if (media) return this.media.http({ req, endpoint: media.endpoint, query, body, cookies: parseCookies(headers.cookie), headers, remote, now });
    const contact = route ? undefined : contactRequest(this.core, path, method, query, body, headers.cookie, now);
    if (contact) return 'answer' in contact ? this.respond(req, contact.answer) : this.budget.submit(contact.client ?? `a${remote}`, contact.step, (r) => this.respond(req, jsonAnswer(r)));
    if (!route) {
      const web = webLoginRoute(path);
      if (web) return this.web.http(req, web, method, path, query, body, remote, now);
      return this.respond(req, errorAnswer(404, Ret.BadRequest, `no endpoint at ${path.slice(0, 80)}`));
    }
    const endpoint = route.endpoint;
    if (method !== route.method) {
      return this.answer(req, endpoint, errorAnswer(405, Ret.BadRequest, `${endpoint} takes ${route.method}`, { Allow: route.method }), Ret.BadRequest, undefined, remote);
    }
    const cookies = parseCookies(headers.cookie);
    if (endpoint === 'synccheck') return this.checks.check(req, query, cookies, remote, now);
    // webwxlogout also comes as a form post, or with no body.
    const parsed = requestBody(body, endpoint === 'webwxlogout');
    if ('error' in parsed) return this.answer(req, endpoint, errorAnswer(400, Ret.BadRequest, parsed.error), Ret.BadRequest, undefined, remote);
    const { json } = parsed;
    const base = json['BaseRequest'];
    const web = webIdentity({ ...parsed.form, ...query }, cookies, endpoint === 'webwxsync' || endpoint === 'webwxlogout');
    const caller: Caller = { kind: 'http', base, checkSkey: true, web };
    const core = this.core;
    const answer = (reply: Reply): void => this.answer(req, endpoint, jsonAnswer(reply), reply.BaseResponse.Ret, base, remote);
    // Held past the round's budget in the claimed account's lane (unchecked: a liar only shares another's turn), else the address's.
    const client = isObj(base) && typeof base['Uin'] === 'number' ? `u${base['Uin']}` : `a${remote}`;
    const run = (step: Step<Plan<Reply>>): void => this.budget.submit(client, step, answer);
    // The password gate's own refusals (throttled, busy) close the connection: a guesser's next try costs it a new one.
    const shed = (reply: Reply): void => this.answer(req, endpoint, { ...jsonAnswer(reply), close: true }, reply.BaseResponse.Ret, base, remote);
    let step: Step<Plan<Reply>>;
    switch (endpoint) {
      case 'register':
        return this.gate.register(json, remote, now, run, shed);
      case 'manualauth':
        return this.gate.login(json, remote, now, run, shed);
      case 'webwxinit':
        step = core.init(caller, now);
        break;
      case 'webwxsync':
        step = core.sync(caller, json['SyncKey'], now);
        break;
      case 'webwxsendmsg':
        step = core.send(caller, json['Msg'], now);
        break;
      case 'webwxcreatechatroom':
        step = core.createChatRoom(caller, json, now);
        break;
      case 'webwxoplog':
        step = core.oplog(caller, json, now);
        break;
      case 'webwxlogout':
        step = core.logout(caller, now);
        break;
    }
    run(step);
  }

  /** The client of a waiting request went away. */
  httpAborted(req: number): void {
    if (!this.web.aborted(req)) this.checks.aborted(req);
  }

  private respond(req: number, answer: HttpAnswer): void {
    this.out({ kind: 'respond', req, answer });
  }

  /**
   * A command's HTTP answer, counted with its Ret. `base`: the request's
   * BaseRequest, whose Uin (unchecked) names the account in a throttle's log.
   */
  private answer(req: number, endpoint: Endpoint, answer: HttpAnswer, ret: number, base: unknown, remote: string | undefined): void {
    const uin = isObj(base) && typeof base['Uin'] === 'number' ? base['Uin'] : undefined;
    this.counts.answered('http', endpoint, ret, uin, remote);
    this.respond(req, answer);
  }

  /** `remote`: the peer's, when this answer is to the request just read (a held poll's peer is not kept). */
  private syncCheckAnswer(req: number, retcode: RetCode, selector: number, remote: string | undefined): void {
    this.counts.answered('http', 'synccheck', retcode, undefined, remote);
    this.respond(req, syncCheckAnswer(retcode, selector));
  }

  // ---- long links (the hub: server/node/link-hub.ts) ----

  /** `remote`: the peer's address, which the anti-abuse limits count by. */
  linkOpened(id: number, transport: 'tcp' | 'ws', remote: string, now: number): void {
    this.hub.opened(id, transport, remote, now);
  }

  /** The driver refused a connection at a cap before it became a link (its op 6 is the driver's): counted as that op 6. */
  linkShed(id: number, transport: 'tcp' | 'ws', code: LinkFaultCode): void {
    this.counts.disconnected(id, transport, faultDisconnect(code).Ret, code, 0);
  }

  linkClosed(id: number): void {
    this.linked.closed(id);
    this.hub.closed(id);
  }

  linkData(id: number, bytes: Uint8Array, now: number): void {
    this.hub.data(id, bytes, now);
  }

  /**
   * The driver condemns a link for a reason of its own (connection caps, a
   * peer that does not read, an oversized WebSocket message, a message that
   * never ends): the node sends op 6 with the fault's code, closes the link
   * and runs nothing more for it.
   */
  linkFault(id: number, code: LinkFaultCode, detail?: string): void {
    this.hub.fault(id, code, detail);
  }

  // ---- password hashes ----

  /**
   * The driver's answer to a `hash` action: the stored form for a new
   * password, true or false for a check; null if hashing failed. The
   * register or login waiting for it goes on (a command for the next flush).
   */
  hashDone(job: number, result: HashResult | null, now: number): void {
    this.gate.hashDone(job, result, now);
  }

  // ---- effects and time ----

  private applyEffects(effects: CoreEffect[]): void {
    for (const e of effects) {
      if (e.kind === 'appended') {
        this.checks.appended(e.uin, e.seq, e.selector);
        this.hub.notify(e.uin, e.selector);
      } else {
        this.checks.sessionEnded(e.uin, e.sid, e.ret);
        this.hub.endSession(e.uin, e.sid, e.ret);
      }
    }
    if (this.changes && effects.length > 0) {
      const changed = changesOf(effects);
      if (changed.length > 0) this.changes.publish(changed);
    }
  }

  /**
   * Another node on the same database committed news for these accounts (or
   * for any: `everyone`). Only a wake-up, never data: polls and links of
   * those accounts are answered or notified, and their clients' own check or
   * sync reads the store (docs/protocol.md section 9.3).
   */
  remoteChanges(changes: RemoteChanges): void {
    this.checks.remote(changes);
    if (changes === 'everyone') for (const uin of this.linked.uins()) this.hub.notify(uin, EVERY_SELECTOR);
    else for (const c of changes) this.hub.notify(c.uin, c.selector);
  }

  /** Expire long polls; close links past a deadline; step the retention sweep. */
  tick(now: number): void {
    this.checks.expire(now);
    this.web.tick(now);
    if (now >= this.nextSweepAt && !this.sweeping) {
      this.nextSweepAt = now + this.config.sweepIntervalMs;
      this.sweeping = true;
      this.runner.submit(this.core.sweep(this.sweepCursor, now), (r) => {
        this.sweeping = false;
        this.sweepCursor = 'next' in r ? r.next : 0;
      });
    }
    this.hub.tick(now);
  }

  /** The earliest time tick() has work, for drivers that sleep (the simulator). */
  nextWakeAt(): number | undefined {
    const p = this.checks.nextDeadline();
    const m = Math.min(p ?? Infinity, this.hub.nextWakeAt(), this.nextSweepAt, this.web.nextWakeAt());
    return m === Infinity ? undefined : m;
  }
}
