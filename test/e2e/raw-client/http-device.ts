// A web device over HTTP (docs/protocol.md section 5). Part of the
// protocol-only client: see packets.ts.
import { WEB, httpCall, manualAuth, parseSyncCheck, type HttpResult, type Login, type SyncCheck } from './http.ts';
import { EMPTY_KEY, keyQuery, type SyncKey } from './sync-key.ts';

/** A web device: BaseRequest on every call, synccheck long polls, webwxsync. */
export class HttpDevice {
  uin = 0;
  sid = '';
  skey = '';
  key: SyncKey = EMPTY_KEY;

  constructor(
    public base: string,
    readonly userName: string,
    readonly password: string,
    readonly deviceId: string,
  ) {}

  get baseRequest(): { Uin: number; Sid: string; Skey: string; DeviceID: string } {
    return { Uin: this.uin, Sid: this.sid, Skey: this.skey, DeviceID: this.deviceId };
  }

  async login(): Promise<Login> {
    const l = await manualAuth(this.base, this.userName, this.password, this.deviceId);
    this.uin = l.Uin;
    this.sid = l.Sid;
    this.skey = l.Skey;
    this.key = l.SyncKey;
    return l;
  }

  async init(): Promise<any> {
    const r = await this.post('webwxinit', {});
    if (r.json?.BaseResponse?.Ret === 0) {
      this.key = r.json.SyncKey;
      this.skey = r.json.SKey;
    }
    return r.json;
  }

  post(endpoint: string, body: Record<string, unknown>, query = ''): Promise<HttpResult> {
    return httpCall(this.base, 'POST', `${WEB}${endpoint}${query}`, { BaseRequest: this.baseRequest, ...body });
  }

  async send(to: string, content: string, clientMsgId: string): Promise<any> {
    const r = await this.post('webwxsendmsg', {
      Msg: { ClientMsgId: clientMsgId, LocalID: clientMsgId, FromUserName: this.userName, ToUserName: to, Type: 1, Content: content },
      Scene: 0,
    });
    return r.json;
  }

  /** One webwxsync with the current key; the key advances only on success. */
  async syncOnce(): Promise<any> {
    const q = `?sid=${encodeURIComponent(this.sid)}&skey=${encodeURIComponent(this.skey)}`;
    const r = await this.post('webwxsync', { SyncKey: this.key, rr: ~Date.now() }, q);
    const j = r.json;
    if (j?.BaseResponse?.Ret === 0) {
      this.key = j.SyncKey;
      if (j.SKey) this.skey = j.SKey;
    }
    return j;
  }

  async synccheck(signal?: AbortSignal, key = this.key): Promise<SyncCheck> {
    const t0 = Date.now();
    const q = new URLSearchParams({
      sid: this.sid,
      uin: String(this.uin),
      skey: this.skey,
      deviceid: this.deviceId,
      synckey: keyQuery(key),
      r: String(Date.now()),
      _: String(Date.now()),
    });
    const r = await httpCall(this.base, 'GET', `${WEB}synccheck?${q}`, undefined, signal);
    return { ...parseSyncCheck(r.text), ms: Date.now() - t0 };
  }
}
