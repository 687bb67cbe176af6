// The session life of one core: idle until started, logging in (with the
// password, or resuming a saved session), ready once the server has given a
// session and a key, back to logging in on 1100, and stopped for good on 1101
// or 1103. It also holds the session itself (Uin, Sid, SKey) and the
// ClientLoginId of a login under way, and builds the bodies that name them.
import type { SessionInfo } from './client-state.ts';
import type { OutputQueue } from './client-output.ts';
import { freshIdNumber, type RandomSource } from './fresh-id.ts';
import type { Obj } from './replies.ts';

export type ClientCoreState = 'idle' | 'loggingIn' | 'ready' | 'stopped';

/** Who logs in, and the random source of the ClientLoginId. */
export interface Credentials extends RandomSource {
  userName: string;
  password: string;
  deviceId: string;
}

/**
 * What happens when the server ends a session. The core carries it out across
 * the transport and the sender; the parts that read the answers call it.
 */
export interface SessionEnds {
  /** Ret 1100 for the session `sid`: log in again with the password (once per session). */
  relogin(sid: string, now: number): void;
  /** 1101 for the session `sid`: stop, unless we already left that session. */
  ended(sid: string, ret: number): void;
  /** 1101 (replaced, logged out) or 1103 (wrong password): stop for good. */
  lose(ret: number): void;
}

export class Session {
  readonly #who: Credentials;
  readonly #output: OutputQueue;
  #state: ClientCoreState = 'idle';
  #info: SessionInfo | null;
  /**
   * The ClientLoginId of the login under way (see #loginIdFor); null once a
   * session is made. Every retry of one login sends the same id, so the
   * server answers a retried or duplicated request with the session the first
   * copy made instead of replacing it.
   */
  #loginId: string | null;
  /** The number in the last ClientLoginId this core made: the next is higher. */
  #lastLoginN = 0;

  constructor(who: Credentials, output: OutputQueue, info: SessionInfo | null, loginId: string | null) {
    this.#who = who;
    this.#output = output;
    this.#info = info;
    this.#loginId = loginId;
  }

  get state(): ClientCoreState {
    return this.#state;
  }

  /** Started and not stopped: the core has work to do. */
  get running(): boolean {
    return this.#state !== 'idle' && this.#state !== 'stopped';
  }

  get stopped(): boolean {
    return this.#state === 'stopped';
  }

  /** Ready with a session: sends and contact operations may go out. */
  get ready(): boolean {
    return this.#state === 'ready' && this.#info !== null;
  }

  /** The live session (null while logging in); callers must not change it. */
  get info(): SessionInfo | null {
    return this.#info;
  }

  /** The session a request is made with ('' before login). */
  get sid(): string {
    return this.#info?.sid ?? '';
  }

  /** What persisted() keeps of a login under way: its ClientLoginId, null once a session is made. */
  get pendingLoginId(): string | null {
    return this.#info ? null : this.#loginId;
  }

  isCurrent(sid: string): boolean {
    return this.#info !== null && this.#info.sid === sid;
  }

  /** idle → loggingIn; false if the core was already started. */
  start(): boolean {
    if (this.#state !== 'idle') return false;
    this.#state = 'loggingIn';
    return true;
  }

  /** manualauth, and op-7 auth by password: one login, whose retries all carry its ClientLoginId. */
  loginBody(now: number): Obj {
    const w = this.#who;
    return { UserName: w.userName, Password: w.password, DeviceID: w.deviceId, ClientLoginId: this.#loginIdFor(now) };
  }

  /** A link's auth: resume the session we have, or log in by password. */
  authBody(now: number): Obj {
    const s = this.#info;
    return s ? { Uin: s.uin, Sid: s.sid, DeviceID: this.#who.deviceId } : this.loginBody(now);
  }

  /** The BaseRequest of every HTTP request made within the session. */
  baseRequest(): Obj {
    const s = this.#info!;
    return { Uin: s.uin, Sid: s.sid, Skey: s.skey, DeviceID: this.#who.deviceId };
  }

  /** A login or auth answered Ok: this is the session now, and the login is over. */
  established(s: SessionInfo): void {
    this.#info = { uin: s.uin, sid: s.sid, skey: s.skey };
    this.#loginId = null;
  }

  /** The latest SKey the server returned, if it returned one. */
  setSkey(skey: string | undefined): void {
    if (skey && this.#info) this.#info.skey = skey;
  }

  /** The first key after a login is in: say so, once per login. */
  becomeReady(): void {
    if (this.#state !== 'loggingIn') return;
    this.#state = 'ready';
    this.#output.event({ kind: 'loggedIn', uin: this.#info!.uin, sid: this.#info!.sid });
  }

  /**
   * 1100 for the session `sid`: forget it and log in again. False when it is
   * moot: already logging in again, or an answer for an old session.
   */
  invalidate(sid: string): boolean {
    if (!this.isCurrent(sid)) return false;
    this.#info = null;
    this.#state = 'loggingIn';
    return true;
  }

  /** Stop for good; false if already stopped. */
  stop(): boolean {
    if (this.#state === 'stopped') return false;
    this.#state = 'stopped';
    this.#info = null;
    this.#loginId = null;
    return true;
  }

  /**
   * The ClientLoginId of the login under way, made when it starts: a first
   * start without a session, or a 1100. It is `<DeviceID>-L<n>` (at most 58
   * characters), n from the time and the random source like the first
   * LocalID, so that a reinstall of this device id does not repeat the id of
   * the login that made the device's current session (the server would hand
   * that session over instead of replacing it); and above the last one this
   * core made. It is persisted until a session is made, so an app restarted
   * mid-login repeats the same login.
   */
  #loginIdFor(now: number): string {
    if (this.#loginId === null) {
      const n = Math.max(this.#lastLoginN + 1, freshIdNumber(now, this.#who));
      this.#lastLoginN = n;
      this.#loginId = `${this.#who.deviceId}-L${n}`;
    }
    return this.#loginId;
  }
}
