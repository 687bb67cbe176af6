// The HTTP surface of docs/protocol.md section 5: which path is which command,
// and how answers are written. Transports stay thin: they hand the node a
// method, a URL, a body and the Cookie header, and write back what it answers.
import type { Caller } from '../core/auth.ts';
import type { Plan } from '../core/plan.ts';
import type { ProtocolCore } from '../core/protocol-core.ts';
import { Ret, type BaseResponse, type RetCode } from '../core/ret.ts';
import { isObj } from '../core/validate.ts';
import type { Step } from '../store/store-ops.ts';

export type Endpoint =
  | 'register'
  | 'manualauth'
  | 'webwxinit'
  | 'synccheck'
  | 'webwxsync'
  | 'webwxsendmsg'
  | 'webwxcreatechatroom'
  | 'webwxoplog'
  | 'webwxlogout';

const WEB = '/cgi-bin/mmwebwx-bin/';
const MICRO = '/cgi-bin/micromsg-bin/';

export const ROUTES: ReadonlyMap<string, { endpoint: Endpoint; method: 'GET' | 'POST' }> = new Map([
  [`${MICRO}register`, { endpoint: 'register', method: 'POST' }],
  [`${MICRO}manualauth`, { endpoint: 'manualauth', method: 'POST' }],
  [`${WEB}webwxinit`, { endpoint: 'webwxinit', method: 'POST' }],
  [`${WEB}synccheck`, { endpoint: 'synccheck', method: 'GET' }],
  [`${WEB}webwxsync`, { endpoint: 'webwxsync', method: 'POST' }],
  [`${WEB}webwxsendmsg`, { endpoint: 'webwxsendmsg', method: 'POST' }],
  [`${WEB}webwxcreatechatroom`, { endpoint: 'webwxcreatechatroom', method: 'POST' }],
  [`${WEB}webwxoplog`, { endpoint: 'webwxoplog', method: 'POST' }],
  [`${WEB}webwxlogout`, { endpoint: 'webwxlogout', method: 'POST' }],
] as const);

/**
 * The media endpoints (docs/protocol.md 5.14), routed apart from ROUTES by
 * server/node/media-api.ts: a fetch answers bytes, not JSON; the upload's
 * body is streamed by the transport (server/transport/upload-transport.ts).
 */
export type MediaEndpoint =
  | 'webwxuploadmedia'
  | 'webwxsendmsgimg'
  | 'webwxsendappmsg'
  | 'webwxsendvideomsg'
  | 'webwxsendemoticon'
  | 'webwxgetmsgimg'
  | 'webwxgetmedia'
  | 'webwxgetvideo'
  | 'webwxgetvoice'
  | 'webwxgeticon'
  | 'webwxgetheadimg';

export const MEDIA_ROUTES: ReadonlyMap<string, { endpoint: MediaEndpoint; method: 'GET' | 'POST' }> = new Map([
  [`${WEB}webwxuploadmedia`, { endpoint: 'webwxuploadmedia', method: 'POST' }],
  [`${WEB}webwxsendmsgimg`, { endpoint: 'webwxsendmsgimg', method: 'POST' }],
  [`${WEB}webwxsendappmsg`, { endpoint: 'webwxsendappmsg', method: 'POST' }],
  [`${WEB}webwxgetmsgimg`, { endpoint: 'webwxgetmsgimg', method: 'GET' }],
  [`${WEB}webwxgetmedia`, { endpoint: 'webwxgetmedia', method: 'GET' }],
  [`${WEB}webwxsendvideomsg`, { endpoint: 'webwxsendvideomsg', method: 'POST' }],
  [`${WEB}webwxsendemoticon`, { endpoint: 'webwxsendemoticon', method: 'POST' }],
  [`${WEB}webwxgetvideo`, { endpoint: 'webwxgetvideo', method: 'GET' }],
  [`${WEB}webwxgetvoice`, { endpoint: 'webwxgetvoice', method: 'GET' }],
  [`${WEB}webwxgeticon`, { endpoint: 'webwxgeticon', method: 'GET' }],
  [`${WEB}webwxgetheadimg`, { endpoint: 'webwxgetheadimg', method: 'GET' }],
] as const);

export const UPLOAD_PATH = `${WEB}webwxuploadmedia`;

/** Each media endpoint's path. */
export const MEDIA_PATHS: Readonly<Record<MediaEndpoint, string>> = Object.fromEntries(
  [...MEDIA_ROUTES].map(([path, r]) => [r.endpoint, path]),
) as Record<MediaEndpoint, string>;

export const PATHS: Readonly<Record<Endpoint, string>> = Object.fromEntries(
  [...ROUTES].map(([path, r]) => [r.endpoint, path]),
) as Record<Endpoint, string>;

/**
 * What a web client calls right after login besides webwxinit and sync
 * (docs/protocol.md 5.15 to 5.18): JSON commands like those of ROUTES, routed
 * apart by contactRequest. webwxgetcontact comes as GET or as POST, with or
 * without a body; it and webwxupdatechatroom read the query (`seq`, `fun`).
 */
export type ContactEndpoint = 'webwxgetcontact' | 'webwxbatchgetcontact' | 'webwxstatusnotify' | 'webwxupdatechatroom';

export const CONTACT_ROUTES: ReadonlyMap<string, { endpoint: ContactEndpoint; methods: readonly ('GET' | 'POST')[] }> = new Map([
  [`${WEB}webwxgetcontact`, { endpoint: 'webwxgetcontact', methods: ['GET', 'POST'] }],
  [`${WEB}webwxbatchgetcontact`, { endpoint: 'webwxbatchgetcontact', methods: ['POST'] }],
  [`${WEB}webwxstatusnotify`, { endpoint: 'webwxstatusnotify', methods: ['POST'] }],
  [`${WEB}webwxupdatechatroom`, { endpoint: 'webwxupdatechatroom', methods: ['POST'] }],
] as const);

export const CONTACT_PATHS: Readonly<Record<ContactEndpoint, string>> = Object.fromEntries(
  [...CONTACT_ROUTES].map(([path, r]) => [r.endpoint, path]),
) as Record<ContactEndpoint, string>;

/** A contact endpoint's request: answered at once (bad method or body), or a command to run in `client`'s lane (undefined: the address's). */
export type ContactRequest = { answer: HttpAnswer } | { step: Step<Plan<{ BaseResponse: BaseResponse }>>; client: string | undefined };

/**
 * The command of a request to a contact endpoint, or undefined for any other
 * path. The session is named as on every JSON endpoint (docs/protocol.md
 * 2.1): by the body's BaseRequest, else by `uin`/`sid` parameters or the web
 * login's cookies, with `skey` checked when given.
 */
export function contactRequest(core: ProtocolCore, path: string, method: string, query: Record<string, string>, body: string, cookie: string | undefined, now: number): ContactRequest | undefined {
  const route = CONTACT_ROUTES.get(path);
  if (!route) return undefined;
  const { endpoint, methods } = route;
  if (!(methods as readonly string[]).includes(method)) {
    return { answer: errorAnswer(405, Ret.BadRequest, `${endpoint} takes ${methods.join(' or ')}`, { Allow: methods.join(', ') }) };
  }
  let json: unknown = {};
  // webwxgetcontact's parameters are all in its query: a GET, or a POST, may come without a body.
  if (body !== '' || endpoint !== 'webwxgetcontact') {
    try {
      json = JSON.parse(body);
    } catch {
      return { answer: errorAnswer(400, Ret.BadRequest, 'request body is not valid JSON') };
    }
    if (!isObj(json)) return { answer: errorAnswer(400, Ret.BadRequest, 'request body must be a JSON object') };
  }
  const base = (json as Record<string, unknown>)['BaseRequest'];
  const cookies = parseCookies(cookie);
  const uin = query['uin'] ?? cookies['wxuin'];
  const sid = query['sid'] ?? cookies['wxsid'];
  const web = uin === undefined && sid === undefined ? undefined : { uin, sid, skey: query['skey'], skeyRequired: false };
  const caller: Caller = { kind: 'http', base, checkSkey: true, web };
  const client = isObj(base) && typeof base['Uin'] === 'number' ? `u${base['Uin']}` : undefined;
  switch (endpoint) {
    case 'webwxgetcontact':
      return { step: core.getContact(caller, query['seq'], now), client };
    case 'webwxbatchgetcontact':
      return { step: core.batchGetContact(caller, json, now), client };
    case 'webwxstatusnotify':
      return { step: core.statusNotify(caller, json, now), client };
    case 'webwxupdatechatroom':
      return { step: core.updateChatRoom(caller, query['fun'], json, now), client };
  }
}

/**
 * The QR web login's endpoints (docs/protocol.md 5.11), routed apart from
 * ROUTES: their answers are JavaScript, XML or PNG, not JSON with a Ret.
 */
export type WebLoginEndpoint = 'jslogin' | 'qrcode' | 'login' | 'webwxnewloginpage' | 'extdeviceloginconfirmget' | 'extdeviceloginconfirmok';

/** Paths of the web login; `qrcode` is a prefix: the uuid follows it. */
export const WEB_LOGIN_PATHS: Readonly<Record<WebLoginEndpoint, string>> = {
  jslogin: '/jslogin',
  qrcode: '/qrcode/',
  login: `${WEB}login`,
  webwxnewloginpage: `${WEB}webwxnewloginpage`,
  extdeviceloginconfirmget: `${MICRO}extdeviceloginconfirmget`,
  extdeviceloginconfirmok: `${MICRO}extdeviceloginconfirmok`,
};

/** What each web-login endpoint takes; jslogin takes both. */
export const WEB_LOGIN_METHODS: Readonly<Record<WebLoginEndpoint, readonly string[]>> = {
  jslogin: ['GET', 'POST'],
  qrcode: ['GET'],
  login: ['GET'],
  webwxnewloginpage: ['GET'],
  extdeviceloginconfirmget: ['POST'],
  extdeviceloginconfirmok: ['POST'],
};

/** The web-login endpoint at `path`, if any. */
export function webLoginRoute(path: string): WebLoginEndpoint | undefined {
  if (path.startsWith(WEB_LOGIN_PATHS.qrcode)) return 'qrcode';
  for (const [e, p] of Object.entries(WEB_LOGIN_PATHS) as Array<[WebLoginEndpoint, string]>) if (p === path) return e;
  return undefined;
}

/** Request headers the node reads (the transport passes nothing else). */
export interface HttpRequestHeaders {
  cookie?: string | undefined;
  /** A media fetch's Range (server/media/range.ts). */
  range?: string | undefined;
}

export interface HttpAnswer {
  status: number;
  contentType: string;
  /** The body as text; ignored when `bytes` is set. */
  body: string;
  /** A binary body (a PNG): written instead of `body`. */
  bytes?: Uint8Array;
  /**
   * Stored media content to stream as the body (bytes start..end of the file
   * with this SHA-256): the node decides, the transport reads the file.
   */
  media?: { sha256: string; start: number; end: number };
  /** Extra headers (Allow on 405). */
  headers?: Record<string, string>;
  /** `Set-Cookie` values, one header each. */
  setCookies?: string[];
  /**
   * Close the connection after this answer (`Connection: close`): a client
   * refused for hammering must open a new connection to try again, which
   * the per-address connection rate meters.
   */
  close?: boolean;
}

export function jsonAnswer(value: unknown, status = 200): HttpAnswer {
  return { status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(value) };
}

export function errorAnswer(status: number, ret: number, errMsg: string, headers?: Record<string, string>): HttpAnswer {
  const a = jsonAnswer({ BaseResponse: { Ret: ret, ErrMsg: errMsg } }, status);
  return headers ? { ...a, headers } : a;
}

/** `selector`: Selector bits (server/core/model.ts). */
export function syncCheckAnswer(retcode: RetCode, selector: number): HttpAnswer {
  return {
    status: 200,
    contentType: 'text/javascript; charset=utf-8',
    body: `window.synccheck={retcode:"${retcode}",selector:"${selector}"}`,
  };
}

/** A JavaScript assignment answer (jslogin, login), as the real service gives them: not JSON. */
export function scriptAnswer(body: string): HttpAnswer {
  return { status: 200, contentType: 'text/javascript; charset=utf-8', body };
}

/** Cookies of a Cookie header by name, the first of a repeated name; bounded by the transport's header limit. */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (name !== '' && !(name in out)) out[name] = value;
  }
  return out;
}

/** Path and query of a request target, without trusting it. */
export function splitUrl(url: string): { path: string; query: Record<string, string> } {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query: Record<string, string> = Object.create(null);
  if (q >= 0) {
    for (const [k, v] of new URLSearchParams(url.slice(q + 1))) if (!(k in query)) query[k] = v;
  }
  return { path, query };
}
