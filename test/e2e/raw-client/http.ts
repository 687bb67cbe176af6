// The HTTP JSON calls (docs/protocol.md section 5): one request, and the
// account calls that need no session. Part of the protocol-only client: see
// packets.ts.
import type { SyncKey } from './sync-key.ts';

export const MICRO = '/cgi-bin/micromsg-bin/';
export const WEB = '/cgi-bin/mmwebwx-bin/';

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  text: string;
  json: T;
}

export async function httpCall<T = any>(base: string, method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<HttpResult<T>> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = typeof body === 'string' || Buffer.isBuffer(body) ? (body as string) : JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  if (signal) init.signal = signal;
  const res = await fetch(base + path, init);
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export async function register(base: string, userName: string, password: string): Promise<number> {
  const r = await httpCall(base, 'POST', `${MICRO}register`, { UserName: userName, Password: password, NickName: userName.toUpperCase() });
  if (r.json?.BaseResponse?.Ret !== 0) throw new Error(`register ${userName}: ${r.text}`);
  return r.json.Uin;
}

export interface Login {
  Uin: number;
  Sid: string;
  Skey: string;
  SyncKey: SyncKey;
}

export async function manualAuth(base: string, userName: string, password: string, deviceId: string): Promise<Login> {
  const r = await httpCall(base, 'POST', `${MICRO}manualauth`, { UserName: userName, Password: password, DeviceID: deviceId });
  if (r.json?.BaseResponse?.Ret !== 0) throw new Error(`manualauth ${userName}: ${r.text}`);
  return r.json;
}

export interface SyncCheck {
  retcode: string;
  selector: string;
  ms: number;
}

export function parseSyncCheck(text: string): { retcode: string; selector: string } {
  const m = /^window\.synccheck=\{retcode:"(\d+)",selector:"(\d+)"\}$/.exec(text);
  if (!m) throw new Error(`not a synccheck answer: ${text.slice(0, 100)}`);
  return { retcode: m[1]!, selector: m[2]! };
}
