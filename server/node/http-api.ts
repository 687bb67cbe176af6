// The HTTP surface of docs/protocol.md section 5: which path is which command,
// and how answers are written. Transports stay thin: they hand the node a
// method, a URL and a body, and write back what it answers.
import type { RetCode } from '../core/ret.ts';

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

export const PATHS: Readonly<Record<Endpoint, string>> = Object.fromEntries(
  [...ROUTES].map(([path, r]) => [r.endpoint, path]),
) as Record<Endpoint, string>;

export interface HttpAnswer {
  status: number;
  contentType: string;
  body: string;
  /** Extra headers (Allow on 405). */
  headers?: Record<string, string>;
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
