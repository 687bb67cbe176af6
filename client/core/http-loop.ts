// The web client's sync loop over HTTP: log in (manualauth, or the QR login
// of qr-login.ts), initialise (webwxinit), then long-poll synccheck and
// fetch news with webwxsync, one request at a time. Each answer decides the
// next step and when it goes out.
import { PATHS } from '../../server/node/http-api.ts';
import { Ret } from '../../server/core/ret.ts';
import { formatSyncKeyQuery, toSyncKeyJson } from '../../server/wire/synckey.ts';
import type { ClientConfig } from './client-config.ts';
import type { HttpPoster, PendingCall } from './http-requests.ts';
import type { Inbox } from './inbox.ts';
import type { QrLogin, QrStep } from './qr-login.ts';
import { baseOf, parseInitReply, parseJsonObject, parseLoginReply, parseSyncCheck, parseSyncReply } from './replies.ts';
import type { RetryPacing } from './retry-pacing.ts';
import type { Session, SessionEnds } from './session.ts';
import { applySyncReply } from './sync-reply.ts';
import type { SyncPosition } from './sync-position.ts';

export type LoopStep = 'login' | 'init' | 'check' | 'sync' | QrStep;

export interface LoopCall extends PendingCall {
  purpose: 'loop';
  step: LoopStep;
}

type LoopState =
  /** Not started, stopped, or left by an answer about a session we no longer have. */
  | { name: 'idle' }
  /** The next step goes out at `at`. */
  | { name: 'waiting'; step: LoopStep; at: number }
  /** A request is out; its call names the step. */
  | { name: 'asking'; req: number };

/** synccheck selector 0: nothing new (the server held the poll to its end). */
const SELECTOR_NOTHING_NEW = 0;

const MS_PER_SECOND = 1000;

/** What the loop reads and changes. */
export interface HttpLoopParts {
  cfg: ClientConfig;
  deviceId: string;
  requests: HttpPoster<LoopCall>;
  session: Session;
  position: SyncPosition;
  inbox: Inbox;
  pacing: RetryPacing;
  ends: SessionEnds;
  /** Set when the client logs in by QR code instead of a password. */
  qr?: QrLogin | undefined;
}

const HTTP_OK = 200;

export class HttpLoop {
  readonly #p: HttpLoopParts;
  #state: LoopState = { name: 'idle' };
  /** The synccheck counter `_`. */
  #polls = 0;

  constructor(parts: HttpLoopParts) {
    this.#p = parts;
  }

  /** Resume a saved session with an init, or log in. */
  start(now: number): void {
    this.#schedule(this.#p.session.info ? 'init' : 'login', now);
  }

  pump(now: number): void {
    const s = this.#state;
    if (s.name === 'waiting' && s.at <= now) this.#issue(s.step, now);
  }

  /** When pump() has work; Infinity when none. The request in flight times out with the others. */
  wakeAt(): number {
    return this.#state.name === 'waiting' ? this.#state.at : Infinity;
  }

  /** Sends go over their own requests whenever there is a session. */
  canSend(): boolean {
    return true;
  }

  /** Nothing of the loop's own times out: its requests time out with the others. */
  expire(_now: number): void {}

  /** A 1100: whatever is out is moot; log in after `delay`. */
  loginAgain(now: number, delay: number): void {
    if (this.#state.name === 'asking') this.#p.requests.forget(this.#state.req);
    // A web session cannot log in again by itself: the user scans a new code.
    this.#p.qr?.reset();
    this.#schedule('login', now + delay);
  }

  stop(): void {
    this.#state = { name: 'idle' };
  }

  /** The answer to a loop request. */
  reply(req: number, call: LoopCall, status: number, text: string, now: number): void {
    if (this.#state.name !== 'asking' || this.#state.req !== req) return;
    this.#state = { name: 'idle' };
    const { session, position, pacing, ends, qr } = this.#p;
    const step = call.step;
    if (qr && (step === 'qr' || step === 'scan' || step === 'ticket')) {
      const d = qr.reply(step, status, text);
      if ('session' in d) {
        pacing.answered();
        session.established(d.session);
        return this.#schedule('init', now);
      }
      if ('refused' in d) return ends.lose(d.refused);
      if (d.retry) return this.#failed(d.next, now);
      pacing.answered();
      return this.#schedule(d.next, now);
    }
    const body = status === HTTP_OK ? text : undefined;
    if (body === undefined) return this.#failed(step, now);
    if (step === 'check') {
      const c = parseSyncCheck(body);
      if (!c) return this.#failed(step, now);
      if (c.retcode === Ret.Ok) {
        pacing.answered();
        // An idle answer (the server held the poll) is health; news is not yet progress.
        if (c.selector === SELECTOR_NOTHING_NEW) pacing.progressed();
        return this.#schedule(c.selector === SELECTOR_NOTHING_NEW ? 'check' : 'sync', now);
      }
      if (c.retcode === Ret.SessionReplaced) return ends.ended(call.sid, c.retcode);
      if (c.retcode === Ret.SessionInvalid) return ends.relogin(call.sid, now);
      return this.#failed(step, now);
    }
    const o = parseJsonObject(body);
    const base = baseOf(o);
    if (!o || !base) return this.#failed(step, now);
    // 1101 to a login: a newer login of this device superseded it; stop and say so.
    if (base.ret === Ret.SessionReplaced) return step === 'login' ? ends.lose(base.ret) : ends.ended(call.sid, base.ret);
    if (step === 'login') {
      if (base.ret === Ret.AuthFailed) return ends.lose(base.ret);
      if (base.ret === Ret.Busy || base.ret === Ret.TooManyAttempts) return this.#schedule('login', now + pacing.loginRefusedDelay(base.errMsg));
      const r = base.ret === Ret.Ok ? parseLoginReply(o) : undefined;
      if (!r) return this.#failed(step, now);
      pacing.answered();
      session.established(r);
      position.adoptInitKey(r.syncKey);
      return this.#schedule('init', now);
    }
    if (base.ret === Ret.SessionInvalid) return ends.relogin(call.sid, now);
    if (step === 'init') {
      const r = base.ret === Ret.Ok ? parseInitReply(o) : undefined;
      if (!r) return this.#failed(step, now);
      pacing.answered();
      session.setSkey(r.skey);
      for (const c of r.contacts) this.#p.inbox.setContact(c);
      position.adoptInitKey(r.syncKey);
      session.becomeReady();
      // After a resync, fetch what is retained at once: a poll could hold while our key is below the floor.
      return this.#schedule(position.asksRetained ? 'sync' : 'check', now);
    }
    // sync
    if (base.ret === Ret.Resync) {
      pacing.answered();
      position.resyncNeeded();
      return this.#schedule('init', now + pacing.setbackDelay());
    }
    const r = base.ret === Ret.Ok ? parseSyncReply(o) : undefined;
    if (!r) return this.#failed(step, now);
    pacing.answered();
    const next = r.more ? 'sync' : 'check';
    if (applySyncReply(r, this.#p)) {
      pacing.progressed();
      this.#schedule(next, now);
    } else {
      // News that brought nothing: fine once, a server fault if it repeats; never spin.
      this.#schedule(next, now + pacing.setbackDelay());
    }
  }

  /** A loop request got no answer (connection failed, or no answer in time). */
  failed(req: number, call: LoopCall, now: number): void {
    if (this.#state.name !== 'asking' || this.#state.req !== req) return;
    this.#state = { name: 'idle' };
    this.#failed(call.step, now);
  }

  #failed(step: LoopStep, now: number): void {
    this.#schedule(step, now + this.#p.pacing.failureDelay());
  }

  #schedule(step: LoopStep, at: number): void {
    this.#state = { name: 'waiting', step, at };
  }

  #issue(scheduled: LoopStep, now: number): void {
    const { cfg, deviceId, requests, session, position } = this.#p;
    this.#state = { name: 'idle' };
    const s = session.info;
    const qr = this.#p.qr;
    const step = s ? scheduled : (qr?.step ?? 'login');
    // Only the long polls wait long; every other request answers at once.
    const timeout = step === 'check' || step === 'scan' ? cfg.httpTimeoutMs : cfg.replyTimeoutMs;
    const call: LoopCall = { purpose: 'loop', step, sid: session.sid, deadline: now + timeout };
    const enc = encodeURIComponent;
    let req: number;
    switch (step) {
      case 'qr':
      case 'scan':
      case 'ticket':
        req = requests.get(qr!.path(step, now), call);
        break;
      case 'login':
        req = requests.post(PATHS.manualauth, session.loginBody(now), call);
        break;
      case 'init':
        req = requests.post(`${PATHS.webwxinit}?r=${Math.floor(now)}`, { BaseRequest: session.baseRequest() }, call);
        break;
      case 'check': {
        const q =
          `sid=${enc(s!.sid)}&uin=${s!.uin}&skey=${enc(s!.skey)}&deviceid=${enc(deviceId)}` +
          `&synckey=${enc(formatSyncKeyQuery(position.presented()))}&r=${Math.floor(now)}&_=${++this.#polls}`;
        req = requests.get(`${PATHS.synccheck}?${q}`, call);
        break;
      }
      case 'sync':
        req = requests.post(
          `${PATHS.webwxsync}?sid=${enc(s!.sid)}&skey=${enc(s!.skey)}`,
          { BaseRequest: session.baseRequest(), SyncKey: toSyncKeyJson(position.presented()), rr: Math.floor(now / MS_PER_SECOND) },
          call,
        );
        break;
    }
    this.#state = { name: 'asking', req };
  }
}
