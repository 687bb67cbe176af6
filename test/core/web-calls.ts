// Calls of the endpoints a web client makes right after login
// (webwxgetcontact, webwxbatchgetcontact, webwxstatusnotify,
// webwxupdatechatroom: server/node/http-api.ts CONTACT_ROUTES) on a core
// test's node, with a Cookie header when asked. While the node does not route
// them yet (it answers 404 "no endpoint"), the call runs the request's
// command as the node would: contactRequest builds it, a runner commits it on
// the node's store, and the node applies its effects (notifications).
import { expect } from 'vitest';
import type { CoreEffect } from '../../server/core/plan.ts';
import { CommandRunner } from '../../server/node/command-runner.ts';
import { CONTACT_PATHS, contactRequest, splitUrl, type ContactEndpoint } from '../../server/node/http-api.ts';
import type { Harness } from '../harness/core-harness.ts';
import type { Dev } from '../harness/dev.ts';

export interface WebAnswer {
  status: number;
  json: any;
}

let nextReq = 1_000_000_000;

/** `url`: a contact endpoint's path with its query; `body`: JSON (an object) or raw text. */
export function webCall(h: Harness, method: 'GET' | 'POST', url: string, body: unknown = '', cookie?: string): WebAnswer {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const req = nextReq++;
  h.node.httpRequest(req, method, url, text, `web-call-${req}`, h.now, cookie === undefined ? {} : { cookie });
  h.flush();
  const a = h.answers.get(req);
  expect(a, `${url} answered`).toBeDefined();
  const json = JSON.parse(a!.body);
  if (!(a!.status === 404 && String(json.BaseResponse?.ErrMsg).startsWith('no endpoint at'))) return { status: a!.status, json };
  h.answers.delete(req);
  return direct(h, method, url, text, cookie);
}

function direct(h: Harness, method: string, url: string, body: string, cookie: string | undefined): WebAnswer {
  const { path, query } = splitUrl(url);
  const r = contactRequest(h.node.core, path, method, query, body, cookie, h.now);
  if (!r) throw new Error(`${path} is no contact endpoint`);
  if ('answer' in r) return { status: r.answer.status, json: JSON.parse(r.answer.body) };
  const runner = new CommandRunner(h.store);
  let reply: unknown;
  runner.submit(r.step, (x) => (reply = x));
  const effects = runner.flush();
  (h.node as unknown as { applyEffects(e: CoreEffect[]): void }).applyEffects(effects);
  return { status: 200, json: JSON.parse(JSON.stringify(reply)) };
}

/** POST a JSON body with the device's BaseRequest to a contact endpoint (`query` after `?`). */
export function postAs(h: Harness, d: Dev, endpoint: ContactEndpoint, body: Record<string, unknown>, query = ''): any {
  return webCall(h, 'POST', `${CONTACT_PATHS[endpoint]}${query ? `?${query}` : ''}`, { BaseRequest: h.base(d), ...body }).json;
}

/** webwxgetcontact by BaseRequest, one page. */
export function getContact(h: Harness, d: Dev, seq: number | string = 0): any {
  return postAs(h, d, 'webwxgetcontact', {}, `lang=zh_CN&seq=${seq}&r=1`);
}

/** Every page of webwxgetcontact: the contacts in order, and how many pages. */
export function allContacts(h: Harness, d: Dev, maxPages = 100): { contacts: any[]; pages: number } {
  const contacts: any[] = [];
  let seq = 0;
  for (let pages = 1; pages <= maxPages; pages++) {
    const r = getContact(h, d, seq);
    expect(r.BaseResponse, `page ${pages}`).toEqual({ Ret: 0, ErrMsg: '' });
    expect(r.MemberCount).toBe(r.MemberList.length);
    contacts.push(...r.MemberList);
    seq = r.Seq;
    if (seq === 0) return { contacts, pages };
  }
  throw new Error(`still a Seq after ${maxPages} pages`);
}

export function batchGet(h: Harness, d: Dev, names: Array<string | { UserName: string; EncryChatRoomId: string }>): any {
  const List = names.map((n) => (typeof n === 'string' ? { UserName: n, EncryChatRoomId: '' } : n));
  return postAs(h, d, 'webwxbatchgetcontact', { Count: List.length, List }, 'type=ex&r=1');
}

/** webwxupdatechatroom?fun=…; `list`: the comma-separated names of AddMemberList, InviteMemberList or DelMemberList. */
export function updateRoom(h: Harness, d: Dev, fun: string, room: string, fields: Record<string, unknown>): any {
  return postAs(h, d, 'webwxupdatechatroom', { ChatRoomName: room, ...fields }, `fun=${fun}`);
}

/** The real web service's contact fields, every one of them (webwxgetcontact, webwxbatchgetcontact). */
export const WEB_CONTACT_FIELDS = [
  'Uin', 'UserName', 'NickName', 'HeadImgUrl', 'ContactFlag', 'MemberCount', 'MemberList', 'RemarkName', 'HideInputBarFlag', 'Sex',
  'Signature', 'VerifyFlag', 'OwnerUin', 'PYInitial', 'PYQuanPin', 'RemarkPYInitial', 'RemarkPYQuanPin', 'StarFriend', 'AppAccountFlag',
  'Statues', 'AttrStatus', 'Province', 'City', 'Alias', 'SnsFlag', 'UniFriend', 'DisplayName', 'ChatRoomId', 'KeyWord', 'EncryChatRoomId', 'IsOwner',
].sort();

export const WEB_MEMBER_FIELDS = [
  'Uin', 'UserName', 'NickName', 'AttrStatus', 'PYInitial', 'PYQuanPin', 'RemarkPYInitial', 'RemarkPYQuanPin', 'MemberStatus', 'DisplayName', 'KeyWord',
].sort();
