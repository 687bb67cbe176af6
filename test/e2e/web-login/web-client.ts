// The browser's side of the QR web login (docs/protocol.md 5.11), written
// from the contract alone like raw-client/: fetch over real sockets, a
// cookie jar, and parsers for the JavaScript and XML answers.

export const WEB = '/cgi-bin/mmwebwx-bin/';
export const MICRO = '/cgi-bin/micromsg-bin/';
/** The phone's long-link ops (docs/protocol.md 6.2). */
export const PHONE_OP = { ConfirmGet: 30, ConfirmGetReply: 31, ConfirmOk: 32, ConfirmOkReply: 33 } as const;

export interface WebResult {
  status: number;
  headers: Headers;
  text: string;
  bytes: Buffer;
  json: any;
}

/** Cookies by name, as a browser keeps them for one site. */
export class CookieJar {
  readonly values = new Map<string, string>();

  take(headers: Headers): void {
    for (const c of headers.getSetCookie()) {
      const first = c.split(';')[0]!;
      const eq = first.indexOf('=');
      this.values.set(first.slice(0, eq).trim(), first.slice(eq + 1).trim());
    }
  }

  header(): string {
    return [...this.values].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** One request; a redirect is not followed; the jar sends and keeps cookies. */
export async function web(url: string, o: { method?: string; body?: string; jar?: CookieJar; signal?: AbortSignal } = {}): Promise<WebResult> {
  const headers: Record<string, string> = {};
  if (o.jar && o.jar.values.size > 0) headers['cookie'] = o.jar.header();
  if (o.body !== undefined) headers['content-type'] = o.body.startsWith('{') ? 'application/json' : 'application/x-www-form-urlencoded';
  const init: RequestInit = { method: o.method ?? 'GET', headers, redirect: 'manual' };
  if (o.body !== undefined) init.body = o.body;
  if (o.signal) init.signal = o.signal;
  const res = await fetch(url, init);
  const bytes = Buffer.from(await res.arrayBuffer());
  o.jar?.take(res.headers);
  const text = bytes.toString('utf8');
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, bytes, json };
}

export async function jslogin(base: string): Promise<string> {
  const r = await web(`${base}/jslogin?appid=wx782c26e4c19acffb&redirect_uri=${encodeURIComponent(`${base}${WEB}webwxnewloginpage`)}&fun=new&lang=zh_CN&_=1`);
  const m = /^window\.QRLogin\.code = 200; window\.QRLogin\.uuid = "([^"]+)";$/.exec(r.text);
  if (!m) throw new Error(`jslogin: ${r.text}`);
  return m[1]!;
}

export interface LoginAnswer {
  code: number;
  redirectUri?: string;
  avatar?: string;
}

/** The login long poll: `window.code=...;` and what comes with it. */
export async function loginPoll(base: string, uuid: string, tip: 0 | 1): Promise<LoginAnswer> {
  const r = await web(`${base}${WEB}login?loginicon=true&uuid=${uuid}&tip=${tip}&r=${~Date.now()}&_=${Date.now()}`);
  const m = /^window\.code=(\d+);/.exec(r.text);
  if (!m) throw new Error(`login poll: ${r.text}`);
  const out: LoginAnswer = { code: Number(m[1]) };
  const uri = /\nwindow\.redirect_uri="([^"]+)";$/.exec(r.text);
  if (uri) out.redirectUri = uri[1]!;
  const avatar = /window\.userAvatar='([^']*)';/.exec(r.text);
  if (avatar) out.avatar = avatar[1]!;
  return out;
}

/** A tag of webwxnewloginpage's XML, each on a line of its own. */
export function xmlField(text: string, tag: string): string | undefined {
  return new RegExp(`^<${tag}>(.*)</${tag}>$`, 'm').exec(text)?.[1];
}
