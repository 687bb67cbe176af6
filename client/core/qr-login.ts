// The web client's login without a password (docs/protocol.md 5.13): ask for
// a uuid (jslogin), show its QR code, long-poll `login` until a phone of the
// account scans and confirms it, then trade the one-time ticket for a session
// (webwxnewloginpage). The answers are JavaScript assignments and XML, as the
// real service gives them, read here as text. The HTTP loop (http-loop.ts)
// carries the requests; this file decides what each answer means.
import { WEB_LOGIN_PATHS } from '../../server/node/http-api.ts';
import type { SessionInfo } from './client-state.ts';

export type QrStep = 'qr' | 'scan' | 'ticket';

/** The appid the real web client names itself with; the server requires one and checks no further. */
export const WEB_APPID = 'wx782c26e4c19acffb';

const HTTP_OK = 200;
/** webwxnewloginpage answers a good ticket with a 301 and no Location. */
const HTTP_MOVED = 301;

/** What the loop does after an answer of the QR login. */
export type QrDecision =
  /** Ask `step` next; `retry`: after the failure backoff, else at once. */
  | { next: QrStep; retry: boolean }
  /** The ticket gave a session. */
  | { session: SessionInfo }
  /** The server refused the login for good (the account may not log in another device): stop. */
  | { refused: number; errMsg: string };

/** What the user is shown. */
export type QrNews = { kind: 'qrCode'; uuid: string } | { kind: 'qrScanned' };

export class QrLogin {
  #uuid: string | undefined;
  /** `tip` of the next poll: 1 until the scan was seen, then 0 (wait for the confirm). */
  #tip: 0 | 1 = 1;
  #redirect: string | undefined;
  /** The `_` counter of the polls. */
  #polls = 0;
  readonly #news: (n: QrNews) => void;

  constructor(news: (n: QrNews) => void) {
    this.#news = news;
  }

  /** Start over: a new uuid, a new code to scan. */
  reset(): void {
    this.#uuid = undefined;
    this.#redirect = undefined;
    this.#tip = 1;
  }

  /** The step to ask next when the loop wants a login. */
  get step(): QrStep {
    if (this.#redirect !== undefined) return 'ticket';
    return this.#uuid === undefined ? 'qr' : 'scan';
  }

  /** The request of `step` (a path with its query; every QR request is a GET). */
  path(step: QrStep, now: number): string {
    const t = Math.floor(now);
    switch (step) {
      case 'qr':
        return `${WEB_LOGIN_PATHS.jslogin}?appid=${WEB_APPID}&fun=new&lang=en_US&_=${t}`;
      case 'scan':
        return `${WEB_LOGIN_PATHS.login}?loginicon=true&uuid=${encodeURIComponent(this.#uuid ?? '')}&tip=${this.#tip}&r=${t}&_=${++this.#polls}`;
      case 'ticket':
        return `${ticketPath(this.#redirect ?? '')}&fun=new&version=v2`;
    }
  }

  /** The answer to `step`: `status` and `body`, or undefined when no answer came. */
  reply(step: QrStep, status: number, body: string): QrDecision {
    if (step === 'qr') {
      const uuid = status === HTTP_OK ? parseJsLogin(body) : undefined;
      if (uuid === undefined) return { next: 'qr', retry: true };
      this.#uuid = uuid;
      this.#tip = 1;
      this.#news({ kind: 'qrCode', uuid });
      return { next: 'scan', retry: false };
    }
    if (step === 'scan') {
      const poll = status === HTTP_OK ? parseLoginPoll(body) : undefined;
      if (!poll) return { next: 'scan', retry: true };
      switch (poll.code) {
        case 408:
          return { next: 'scan', retry: false };
        case 201:
          if (this.#tip === 1) this.#news({ kind: 'qrScanned' });
          this.#tip = 0;
          return { next: 'scan', retry: false };
        case 200:
          if (poll.redirect === undefined) return { next: 'scan', retry: true };
          this.#redirect = poll.redirect;
          return { next: 'ticket', retry: false };
        case 503:
          return { next: 'scan', retry: true };
        default:
          // 400: the uuid expired or was replaced; show a new code.
          this.reset();
          return { next: 'qr', retry: false };
      }
    }
    const page = status === HTTP_MOVED || status === HTTP_OK ? parseNewLoginPage(body) : undefined;
    if (!page) return { next: 'ticket', retry: true };
    // The ticket is used up whatever came of it.
    this.#redirect = undefined;
    if (page.ret === 0 && page.session) {
      this.#uuid = undefined;
      return { session: page.session };
    }
    // 1203: the ticket was used or expired: scan again. Another Ret (1108: too many devices) stops.
    if (page.ret === TICKET_USED) {
      this.reset();
      return { next: 'qr', retry: false };
    }
    return { refused: page.ret, errMsg: page.message };
  }
}

/** webwxnewloginpage's Ret for a ticket used, expired or wrong. */
const TICKET_USED = 1203;

const JSLOGIN = /window\.QRLogin\.code\s*=\s*200\s*;\s*window\.QRLogin\.uuid\s*=\s*"([A-Za-z0-9_=-]{1,64})"/;

/** `window.QRLogin.code = 200; window.QRLogin.uuid = "…";` → the uuid. */
export function parseJsLogin(text: string): string | undefined {
  return JSLOGIN.exec(text)?.[1];
}

const POLL_CODE = /^\s*window\.code\s*=\s*(\d{3})\s*;/;
const REDIRECT = /window\.redirect_uri\s*=\s*"([^"]{1,2048})"/;

/** The login poll's `window.code=…;` (with the redirect URI of a 200). */
export function parseLoginPoll(text: string): { code: 200; redirect: string } | { code: number; redirect?: undefined } | undefined {
  const m = POLL_CODE.exec(text);
  if (!m) return undefined;
  const code = Number(m[1]);
  if (code !== 200) return { code };
  const r = REDIRECT.exec(text);
  return r ? { code: 200, redirect: r[1]! } : undefined;
}

/** The path and query of the redirect URI: the client talks to its own server address, whatever host the URI names. */
export function ticketPath(uri: string): string {
  const m = /^https?:\/\/[^/]+(\/.*)$/.exec(uri);
  return m ? m[1]! : uri;
}

function tag(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([^<]{0,512})</${name}>`).exec(xml);
  return m?.[1];
}

/** webwxnewloginpage's `<error>…</error>`: its ret and message, and the session when ret is 0. */
export function parseNewLoginPage(xml: string): { ret: number; message: string; session?: SessionInfo } | undefined {
  const retText = tag(xml, 'ret');
  if (retText === undefined || !/^\d{1,9}$/.test(retText)) return undefined;
  const ret = Number(retText);
  const message = tag(xml, 'message') ?? '';
  if (ret !== 0) return { ret, message };
  const skey = tag(xml, 'skey');
  const sid = tag(xml, 'wxsid');
  const uin = Number(tag(xml, 'wxuin'));
  if (skey === undefined || !sid || !Number.isSafeInteger(uin) || uin <= 0) return undefined;
  return { ret, message, session: { uin, sid, skey } };
}
