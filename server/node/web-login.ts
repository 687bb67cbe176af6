// The QR web login (docs/protocol.md 5.11), the node's part: jslogin hands
// out a uuid, /qrcode/UUID its PNG, the login long poll waits for the phone,
// the phone scans and confirms (over HTTP or its long link), and the ticket
// of a confirmed login opens a web session (webwxnewloginpage: 301, XML and
// cookies). Which uuid is where lives in QrLogins, the held polls in
// LoginPolls, both in memory and bounded; the web session itself is made by
// a core command whose writes commit before the 301 goes out.
import type { Caller, WebIdentity } from '../core/auth.ts';
import type { RandomSource } from '../core/deps.ts';
import type { Plan } from '../core/plan.ts';
import type { ProtocolCore } from '../core/protocol-core.ts';
import { OK, Ret, type BaseResponse } from '../core/ret.ts';
import { isObj, type Obj } from '../core/validate.ts';
import type { Step } from '../store/store-ops.ts';
import { qrMatrix, qrPng } from '../web/qr-png.ts';
import { WEB_LOGIN_METHODS, WEB_LOGIN_PATHS, errorAnswer, jsonAnswer, scriptAnswer, type HttpAnswer, type WebLoginEndpoint } from './http-api.ts';
import { LoginPolls } from './login-polls.ts';
import type { NodeConfig } from './node-config.ts';
import { QrLogins, type QrLogin } from './qr-logins.ts';
import type { Done } from './runner.ts';

export const DEFAULT_PUBLIC_URL = 'http://127.0.0.1:8080';

/** Ret of a scan or confirm that the uuid's state refuses: unknown, expired, another account's, confirmed already. */
export const QR_LOGIN_REFUSED = 1204;
/** `<ret>` of webwxnewloginpage for a ticket unknown, used or expired. */
export const TICKET_REFUSED = 1203;

/** Run a command; `done` gets its reply once its writes are durable. */
export type Submit = <R>(step: Step<Plan<R>>, done: Done<R>) => void;

export interface WebLoginHost {
  core: ProtocolCore;
  config: NodeConfig;
  random: RandomSource;
  /** An HTTP request's command, within the round's work budget. */
  submit: Submit;
  respond: (req: number, answer: HttpAnswer) => void;
}

type PhoneAnswer = { BaseResponse: BaseResponse };

const MAX_PARAM = 64;
const MAX_PUBLIC_URL = 200;
const MAX_LOGIN_URL = 1024;
const LOGIN_URL = /^https?:\/\/[^\s?#]*\/l\/([A-Za-z0-9_-]{1,64})$/;

/** The base of the URLs the server writes (QR codes, redirects): scheme, host, optional path, no trailing slash. */
export function normalizePublicUrl(url: string): string {
  const u = url.replace(/\/+$/, '');
  // Bounded so that every QR code fits a small version (the text is this, `/l/` and 22 characters).
  if (u.length > MAX_PUBLIC_URL || !/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(u)) {
    throw new RangeError(`public URL must be http(s)://host[:port][/path], at most ${MAX_PUBLIC_URL} characters, got '${url.slice(0, 100)}'`);
  }
  return u;
}

export class WebLogin {
  private readonly logins: QrLogins;
  private readonly polls: LoginPolls;
  private base: string;

  constructor(
    private readonly host: WebLoginHost,
    publicUrl: string,
  ) {
    this.logins = new QrLogins(host.config, host.random);
    this.polls = new LoginPolls(host.config);
    this.base = normalizePublicUrl(publicUrl);
  }

  get publicUrl(): string {
    return this.base;
  }

  set publicUrl(url: string) {
    this.base = normalizePublicUrl(url);
  }

  /** QR logins under way, and login polls held. */
  stats(): { qrLogins: number; loginPolls: number } {
    return { qrLogins: this.logins.size, loginPolls: this.polls.size };
  }

  // ---- HTTP ----

  http(req: number, endpoint: WebLoginEndpoint, method: string, path: string, query: Record<string, string>, body: string, remote: string, now: number): void {
    const methods = WEB_LOGIN_METHODS[endpoint];
    if (!methods.includes(method)) return this.respond(req, errorAnswer(405, Ret.BadRequest, `${endpoint} takes ${methods.join(' or ')}`, { Allow: methods.join(', ') }));
    switch (endpoint) {
      case 'jslogin':
        return this.jslogin(req, { ...formParams(body), ...query }, remote, now);
      case 'qrcode':
        return this.qrcode(req, path.slice(WEB_LOGIN_PATHS.qrcode.length), now);
      case 'login':
        return this.loginPoll(req, query, remote, now);
      case 'webwxnewloginpage':
        return this.newLoginPage(req, query, now);
      case 'extdeviceloginconfirmget':
      case 'extdeviceloginconfirmok': {
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          return this.respond(req, errorAnswer(400, Ret.BadRequest, 'request body is not valid JSON'));
        }
        if (!isObj(json)) return this.respond(req, errorAnswer(400, Ret.BadRequest, 'request body must be a JSON object'));
        // The phone's API: its BaseRequest names it (cookies name web sessions, which do not confirm logins).
        const caller: Caller = { kind: 'http', base: json['BaseRequest'], checkSkey: true };
        const kind = endpoint === 'extdeviceloginconfirmget' ? 'scan' : 'confirm';
        return this.phone(kind, caller, json, now, this.host.submit, (reply) => this.respond(req, jsonAnswer(reply)));
      }
    }
  }

  /** The client of a held login poll went away. */
  aborted(req: number): boolean {
    return this.polls.remove(req) !== undefined;
  }

  private jslogin(req: number, params: Record<string, string>, remote: string, now: number): void {
    const refuse = (code: number, error: string): void =>
      this.respond(req, scriptAnswer(`window.QRLogin.code = ${code}; window.QRLogin.error = ${JSON.stringify(error)};`));
    const appid = params['appid'] ?? '';
    if (appid === '' || appid.length > MAX_PARAM) return refuse(400, `appid is required (1-${MAX_PARAM} characters)`);
    if (params['fun'] !== undefined && params['fun'] !== 'new') return refuse(400, 'fun must be new');
    const made = this.logins.create(remote, now);
    if (!made) return refuse(503, 'too many QR logins under way; retry later');
    if (made.evicted) this.gone(made.evicted);
    this.respond(req, scriptAnswer(`window.QRLogin.code = 200; window.QRLogin.uuid = "${made.login.uuid}";`));
  }

  private qrcode(req: number, uuid: string, now: number): void {
    const l = this.logins.get(uuid, now);
    if (!l) return this.respond(req, errorAnswer(404, QR_LOGIN_REFUSED, 'QR login unknown or expired'));
    l.matrix ??= qrMatrix(this.loginUrl(l.uuid));
    this.respond(req, { status: 200, contentType: 'image/png', body: '', bytes: qrPng(l.matrix), headers: { 'Cache-Control': 'no-store' } });
  }

  /** What the QR code holds, and what the phone sends back as LoginUrl. */
  private loginUrl(uuid: string): string {
    return `${this.base}/l/${uuid}`;
  }

  private loginPoll(req: number, query: Record<string, string>, remote: string, now: number): void {
    const uuid = query['uuid'] ?? '';
    if (uuid === '' || uuid.length > MAX_PARAM) return this.respond(req, scriptAnswer(`window.code=400;window.error="uuid parameter is required";`));
    const l = this.logins.get(uuid, now);
    if (!l) return this.respond(req, pollAnswer(400));
    if (l.state === 'confirmed') return this.respond(req, this.confirmedAnswer(l));
    // A scan is told once to a poll that waits (tip=0); a poll that says it has not seen it yet (tip=1) hears it again.
    if (l.state === 'scanned' && (query['tip'] !== '0' || !l.scanTold)) {
      l.scanTold = true;
      return this.respond(req, scannedAnswer());
    }
    const added = this.polls.add(req, uuid, remote, now + this.host.config.loginHoldMs);
    if (added.kind === 'full') return this.respond(req, pollAnswer(503));
    for (const p of added.evicted) this.respond(p.req, pollAnswer(408));
  }

  private newLoginPage(req: number, query: Record<string, string>, now: number): void {
    const ticket = query['ticket'] ?? '';
    const uuid = query['uuid'] ?? '';
    if (ticket === '' || uuid === '') return this.respond(req, xmlAnswer(200, Ret.BadRequest, 'ticket and uuid parameters are required'));
    const l = this.logins.useTicket(ticket, uuid, now);
    if (typeof l === 'string') return this.respond(req, xmlAnswer(200, TICKET_REFUSED, l));
    this.host.submit(this.host.core.webLogin(l.uin, now), (r) => {
      if (!('Sid' in r)) return this.respond(req, xmlAnswer(200, r.BaseResponse.Ret, r.BaseResponse.ErrMsg));
      const fields: Array<[string, string]> = [
        ['skey', r.Skey],
        ['wxsid', r.Sid],
        ['wxuin', String(r.Uin)],
        ['pass_ticket', r.PassTicket],
        ['isgrayscale', '1'],
      ];
      const answer = xmlAnswer(301, Ret.Ok, '', fields);
      answer.setCookies = [
        cookie('wxuin', String(r.Uin)),
        cookie('wxsid', r.Sid),
        cookie('webwx_data_ticket', r.DataTicket),
        cookie('pass_ticket', r.PassTicket),
      ];
      this.respond(req, answer);
    });
  }

  // ---- the phone: HTTP or long link ----

  /**
   * extdeviceloginconfirmget (`scan`) or ...ok (`confirm`) of `{LoginUrl}`:
   * the caller's account is looked up by a command, then the uuid's state
   * moves (or refuses, Ret 1204) when that answer comes.
   */
  phone(kind: 'scan' | 'confirm', caller: Caller, body: unknown, now: number, submit: Submit, answer: (reply: PhoneAnswer) => void): void {
    const url = isObj(body) ? body['LoginUrl'] : undefined;
    const m = typeof url === 'string' && url.length <= MAX_LOGIN_URL ? LOGIN_URL.exec(url) : null;
    if (!m) return answer(refusal(Ret.BadRequest, 'LoginUrl must be the URL of the QR code: <public-url>/l/<uuid>'));
    const uuid = m[1]!;
    if (!this.logins.get(uuid, now)) return answer(refusal(QR_LOGIN_REFUSED, 'QR login unknown or expired: refresh the QR code'));
    submit(this.host.core.webLoginPhone(caller, now), (reply) => {
      if (!('Uin' in reply)) return answer(reply);
      const l = kind === 'scan' ? this.logins.scan(uuid, reply.Uin, now) : this.logins.confirm(uuid, reply.Uin, now);
      if (typeof l === 'string') return answer(refusal(QR_LOGIN_REFUSED, l));
      const poll = this.polls.take(uuid);
      if (poll && kind === 'scan') l.scanTold = true;
      if (poll) this.respond(poll.req, kind === 'scan' ? scannedAnswer() : this.confirmedAnswer(l));
      answer({ BaseResponse: OK });
    });
  }

  // ---- time ----

  tick(now: number): void {
    for (const l of this.logins.expire(now)) this.gone(l);
    for (const p of this.polls.expire(now)) this.respond(p.req, pollAnswer(408));
  }

  nextWakeAt(): number {
    return Math.min(this.logins.nextWakeAt(), this.polls.nextWakeAt());
  }

  /** A login that expired or was replaced: its waiting poll hears 400. */
  private gone(l: QrLogin): void {
    const p = this.polls.take(l.uuid);
    if (p) this.respond(p.req, pollAnswer(400));
  }

  private confirmedAnswer(l: QrLogin): HttpAnswer {
    const uri = `${this.base}/cgi-bin/mmwebwx-bin/webwxnewloginpage?ticket=${l.ticket}&uuid=${l.uuid}&lang=zh_CN&scan=${Math.floor(l.scannedAt / 1000)}`;
    return scriptAnswer(`window.code=200;\nwindow.redirect_uri="${uri}";`);
  }

  private respond(req: number, answer: HttpAnswer): void {
    this.host.respond(req, answer);
  }
}

/**
 * A request without a BaseRequest names its session by query (or form)
 * parameters `uin`, `sid`, `skey`, or by the cookies the web login set;
 * parameters win. Undefined when it names none.
 */
export function webIdentity(params: Record<string, string>, cookies: Record<string, string>, skeyRequired: boolean): WebIdentity | undefined {
  const uin = params['uin'] ?? cookies['wxuin'];
  const sid = params['sid'] ?? cookies['wxsid'];
  if (uin === undefined && sid === undefined) return undefined;
  return { uin, sid, skey: params['skey'], skeyRequired };
}

/** synccheck names its session by the wxuin and wxsid cookies when it has them and its query names no other `sid`. */
export function cookieSession(query: Record<string, string>, cookies: Record<string, string>): { uin: string; sid: string } | undefined {
  const sid = cookies['wxsid'];
  const uin = query['uin'] ?? cookies['wxuin'];
  if (sid === undefined || uin === undefined || (query['sid'] !== undefined && query['sid'] !== sid)) return undefined;
  return { uin, sid };
}

/**
 * An HTTP command's body: a JSON object; where `formOk` (webwxlogout) also a
 * form (`a=1&b=2`) or nothing, whose fields may name the session.
 */
export function requestBody(body: string, formOk: boolean): { json: Obj; form: Record<string, string> } | { error: string } {
  let json: unknown;
  try {
    json = body === '' ? undefined : JSON.parse(body);
  } catch {
    return formOk ? { json: {}, form: formParams(body) } : { error: 'request body is not valid JSON' };
  }
  if (isObj(json)) return { json, form: {} };
  if (formOk && body === '') return { json: {}, form: {} };
  return { error: 'request body must be a JSON object' };
}

/** A form body's fields, the first of a repeated name; bodies are small (maxHttpBody). */
function formParams(body: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of new URLSearchParams(body)) if (!(k in out)) out[k] = v;
  return out;
}

function pollAnswer(code: number): HttpAnswer {
  return scriptAnswer(`window.code=${code};`);
}

/** The 201 of a scan. This server keeps no avatars: the image is empty. */
function scannedAnswer(): HttpAnswer {
  return scriptAnswer(`window.code=201;window.userAvatar='data:img/jpg;base64,';`);
}

function refusal(ret: number, errMsg: string): PhoneAnswer {
  return { BaseResponse: { Ret: ret, ErrMsg: errMsg } };
}

/** webwxnewloginpage's answer: `<error>` with each element on a line of its own. */
function xmlAnswer(status: number, ret: number, message: string, fields: Array<[string, string]> = []): HttpAnswer {
  const lines = ['<error>', `<ret>${ret}</ret>`, `<message>${escapeXml(message)}</message>`, ...fields.map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`), '</error>'];
  return { status, contentType: 'text/xml; charset=utf-8', body: lines.join('\n') };
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cookie(name: string, value: string): string {
  return `${name}=${value}; SameSite=Lax; Path=/`;
}
