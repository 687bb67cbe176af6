// The core tests' harness: the protocol spoken to a hand-driven node (see
// NodeDriver) as a client would speak it. HTTP calls return parsed JSON,
// devices keep their session and SyncKey, long links speak real packets, and
// the store can be read back as data to check that bad input changed nothing.
import { expect } from 'vitest';
import type { Account, CategoryId, Device as DeviceRecord, LogItem, MessageItem } from '../../server/core/model.ts';
import { PATHS, type Endpoint } from '../../server/node/http-api.ts';
import type { Write } from '../../server/store/store-ops.ts';
import type { SyncKeyJson } from '../../server/wire/synckey.ts';
import type { Dev } from './dev.ts';
import type { LinkClient } from './link-client.ts';
import { NodeDriver } from './node-driver.ts';
import { snapshotStore, type StoreSnapshot } from './store-snapshot.ts';

export const PASSWORD = 'correct horse';

export interface SyncCheckResult {
  retcode: string;
  selector: string;
}

/** DeviceIDs of the web client's shape: `e` and fifteen digits. */
const DEVICE_ID_BASE = 100_000_000_000_000;
const CLIENT_MSG_ID_BASE = 1_000_000;

export class Harness extends NodeDriver {
  private nextDevice = 1;
  private nextClientMsgId = 1;
  private readonly sids = new Set<string>();
  private readonly clientMsgIds = new Set<string>();

  /** POST a JSON body to an endpoint (a string body goes as is). */
  post(endpoint: Endpoint, body: unknown): number {
    this.noteBody(body);
    return this.request('POST', PATHS[endpoint], typeof body === 'string' ? body : JSON.stringify(body));
  }

  /** POST and return the parsed answer. */
  call(endpoint: Endpoint, body: unknown): any {
    return this.json(this.post(endpoint, body));
  }

  // ---- accounts and sessions

  register(userName: string, password = PASSWORD, nickName?: string): number {
    const r = this.call('register', { UserName: userName, Password: password, ...(nickName ? { NickName: nickName } : {}) });
    expect(r.BaseResponse, `register ${userName}`).toEqual({ Ret: 0, ErrMsg: '' });
    return r.Uin as number;
  }

  newDeviceId(): string {
    return `e${String(DEVICE_ID_BASE + this.nextDevice++).slice(0, 15)}`;
  }

  manualauth(userName: string, deviceId: string, password = PASSWORD): any {
    return this.call('manualauth', { UserName: userName, Password: password, DeviceID: deviceId });
  }

  /** A device login that must succeed. */
  login(userName: string, deviceId = this.newDeviceId(), password = PASSWORD): Dev {
    const r = this.manualauth(userName, deviceId, password);
    expect(r.BaseResponse, `login ${userName}`).toEqual({ Ret: 0, ErrMsg: '' });
    this.sids.add(r.Sid);
    return { userName, uin: r.Uin, deviceId, sid: r.Sid, skey: r.Skey, key: r.SyncKey };
  }

  /** Register and log in one device. */
  user(userName: string): Dev {
    this.register(userName);
    return this.login(userName);
  }

  base(d: Dev): { Uin: number; Sid: string; Skey: string; DeviceID: string } {
    return { Uin: d.uin, Sid: d.sid, Skey: d.skey, DeviceID: d.deviceId };
  }

  init(d: Dev): any {
    const r = this.call('webwxinit', { BaseRequest: this.base(d) });
    if (r.BaseResponse.Ret === 0) {
      d.key = r.SyncKey;
      d.skey = r.SKey;
    }
    return r;
  }

  logout(d: Dev): any {
    return this.call('webwxlogout', { BaseRequest: this.base(d) });
  }

  // ---- sync

  /** webwxsync with the device's key (or another); on success the device adopts the new key and Skey. */
  sync(d: Dev, key: unknown = d.key): any {
    const r = this.call('webwxsync', { BaseRequest: this.base(d), SyncKey: key, rr: -1 });
    if (r.BaseResponse.Ret === 0) {
      d.key = r.SyncKey;
      d.skey = r.SKey;
    }
    return r;
  }

  /** Sync until ContinueFlag is 0; every page's items, in order. */
  drain(d: Dev, maxPages = 1000): { messages: any[]; contacts: any[]; pages: number } {
    const messages: any[] = [];
    const contacts: any[] = [];
    for (let pages = 1; pages <= maxPages; pages++) {
      const r = this.sync(d);
      expect(r.BaseResponse).toEqual({ Ret: 0, ErrMsg: '' });
      messages.push(...r.AddMsgList);
      // Rooms' members by name, as the reference client keeps them; the wire's member objects are checked in test/core/web-member-list.test.ts.
      contacts.push(...r.ModContactList.map(memberNamesOf));
      if (r.ContinueFlag === 0) return { messages, contacts, pages };
    }
    throw new Error(`still ContinueFlag 1 after ${maxPages} pages`);
  }

  // ---- sending, groups, contacts

  newClientMsgId(): string {
    return String(CLIENT_MSG_ID_BASE + this.nextClientMsgId++);
  }

  msg(d: Dev, to: string, content: string, clientMsgId = this.newClientMsgId()): Record<string, unknown> {
    return { ClientMsgId: clientMsgId, LocalID: clientMsgId, FromUserName: d.userName, ToUserName: to, Type: 1, Content: content };
  }

  sendMsg(d: Dev, msg: unknown): any {
    return this.call('webwxsendmsg', { BaseRequest: this.base(d), Msg: msg, Scene: 0 });
  }

  /** Submit a send without waiting for its answer; returns the request id. */
  sendReq(d: Dev, to: string, content: string, clientMsgId?: string): number {
    return this.post('webwxsendmsg', { BaseRequest: this.base(d), Msg: this.msg(d, to, content, clientMsgId), Scene: 0 });
  }

  /** Send a text; returns the reply. */
  send(d: Dev, to: string, content: string, clientMsgId?: string): any {
    return this.sendMsg(d, this.msg(d, to, content, clientMsgId));
  }

  /** A send that must succeed; returns its MsgID. */
  sendOk(d: Dev, to: string, content: string, clientMsgId?: string): number {
    const r = this.send(d, to, content, clientMsgId);
    expect(r.BaseResponse, `send ${content}`).toEqual({ Ret: 0, ErrMsg: '' });
    return r.MsgID as number;
  }

  createRoom(d: Dev, members: string[], topic = 'room'): any {
    return this.call('webwxcreatechatroom', {
      BaseRequest: this.base(d),
      MemberCount: members.length,
      MemberList: members.map((UserName) => ({ UserName })),
      Topic: topic,
    });
  }

  oplog(d: Dev, target: string, remarkName: string): any {
    return this.call('webwxoplog', { BaseRequest: this.base(d), CmdId: 2, UserName: target, RemarkName: remarkName });
  }

  // ---- synccheck

  syncCheckUrl(d: Dev, key: SyncKeyJson | string = d.key, over: Record<string, string | undefined> = {}): string {
    const synckey = typeof key === 'string' ? key : key.List.map((p) => `${p.Key}_${p.Val}`).join('|');
    const q: Record<string, string | undefined> = {
      r: String(this.now),
      sid: d.sid,
      uin: String(d.uin),
      skey: d.skey,
      deviceid: d.deviceId,
      synckey,
      _: String(this.now),
      ...over,
    };
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined) params.set(k, v);
    return `${PATHS.synccheck}?${params.toString()}`;
  }

  /** Start a synccheck; returns the request id (it may be held). */
  synccheck(d: Dev, key: SyncKeyJson | string = d.key, over: Record<string, string | undefined> = {}): number {
    return this.request('GET', this.syncCheckUrl(d, key, over));
  }

  /** The synccheck answer of a request, or undefined while it is held. */
  syncCheckResult(req: number): SyncCheckResult | undefined {
    const a = this.answers.get(req);
    if (!a) return undefined;
    expect(a.contentType).toMatch(/^text\/javascript/);
    const m = /^window\.synccheck=\{retcode:"(\d+)",selector:"(\d+)"\}$/.exec(a.body);
    if (!m) throw new Error(`not a synccheck answer: ${a.body}`);
    return { retcode: m[1]!, selector: m[2]! };
  }

  /** A long link authenticated by the device's session. */
  link(d: Dev): LinkClient {
    const l = this.openLink();
    const r = l.resume(d);
    expect(r.BaseResponse).toEqual({ Ret: 0, ErrMsg: '' });
    return l;
  }

  // ---- the store as data

  private noteBody(body: unknown): void {
    if (typeof body !== 'object' || body === null) return;
    const msg = (body as Record<string, unknown>)['Msg'];
    const id = typeof msg === 'object' && msg !== null ? (msg as Record<string, unknown>)['ClientMsgId'] : undefined;
    if (typeof id === 'string' || typeof id === 'number') this.clientMsgIds.add(String(id));
  }

  /** Every record reachable through the store's reads, for before/after comparisons. */
  snapshot(): StoreSnapshot {
    return snapshotStore(this.store, this.sids, this.clientMsgIds);
  }

  /** Writes applied since a mark (`store.writes.length`). */
  writesSince(mark: number): Write[] {
    return this.store.writes.slice(mark);
  }

  /**
   * Run bad input: it must write nothing and leave every record as it was.
   * Returns what `f` returned.
   */
  unchanged<T>(f: () => T): T {
    const before = this.snapshot();
    const mark = this.store.writes.length;
    const result = f();
    this.flush();
    expect(this.writesSince(mark), 'writes of a rejected request').toEqual([]);
    expect(this.snapshot(), 'store after a rejected request').toEqual(before);
    return result;
  }

  /** Items of one account's log (what is retained). */
  items(uin: number, category: CategoryId): LogItem[] {
    return this.store.read({ kind: 'items', uin, category, afterSeq: 0, limit: 1e9 });
  }

  /** The messages retained in an account's log. */
  messages(uin: number): MessageItem[] {
    return this.items(uin, 1).flatMap((i) => (i.category === 1 ? [i.data] : []));
  }

  deviceRecord(d: Dev): DeviceRecord | undefined {
    return this.store.read({ kind: 'device', uin: d.uin, deviceId: d.deviceId });
  }

  account(uin: number): Account | undefined {
    return this.store.read({ kind: 'account', uin });
  }
}

/** A contact item with its MemberList as user names (the web answers carry member objects). */
export function memberNamesOf<C extends { MemberList?: unknown }>(c: C): C {
  if (!Array.isArray(c.MemberList)) return c;
  return { ...c, MemberList: c.MemberList.map((m: unknown) => (typeof m === 'string' ? m : (m as { UserName: string }).UserName)) };
}
