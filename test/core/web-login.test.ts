// The QR web login on a hand-driven node: the uuid's states (waiting,
// scanned by one account, confirmed by that account, its ticket used once),
// every refusal on the way, the deadlines (uuid, ticket, poll hold), the
// bounds of the in-memory tables, the phone's long-link ops, and a crash
// that loses pending logins.
import { describe, expect, it } from 'vitest';
import { PATHS, WEB_LOGIN_PATHS, type HttpAnswer } from '../../server/node/http-api.ts';
import { Op, WebLoginOp } from '../../server/wire/packet.ts';
import type { Harness } from '../harness/core-harness.ts';
import type { Dev } from '../harness/dev.ts';
import { OK } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';

const HOLD = 5_000;
const UUID_TTL = 60_000;
const TICKET_TTL = 10_000;
const NODE = { loginHoldMs: HOLD, qrLoginTtlMs: UUID_TTL, qrTicketTtlMs: TICKET_TTL };

function jslogin(h: Harness): string {
  const a = h.answer(h.request('GET', `${WEB_LOGIN_PATHS.jslogin}?appid=wx782c26e4c19acffb&fun=new&lang=zh_CN&_=1`))!;
  expect(a.contentType).toMatch(/^text\/javascript/);
  const m = /^window\.QRLogin\.code = 200; window\.QRLogin\.uuid = "([A-Za-z0-9_-]{22})";$/.exec(a.body);
  expect(m, a.body).not.toBeNull();
  return m![1]!;
}

function poll(h: Harness, uuid: string, tip = '1'): number {
  return h.request('GET', `${WEB_LOGIN_PATHS.login}?loginicon=true&uuid=${encodeURIComponent(uuid)}&tip=${tip}&r=1&_=2`);
}

/** The poll's `window.code`, or undefined while it is held. */
function code(h: Harness, req: number): number | undefined {
  const a = h.answer(req);
  if (!a) return undefined;
  expect(a.contentType).toMatch(/^text\/javascript/);
  return Number(/^window\.code=(\d+);/.exec(a.body)![1]);
}

function phone(h: Harness, kind: 'get' | 'ok', d: Dev, uuid: string, loginUrl = `${h.node.publicUrl}/l/${uuid}`): { Ret: number; ErrMsg: string } {
  const path = kind === 'get' ? WEB_LOGIN_PATHS.extdeviceloginconfirmget : WEB_LOGIN_PATHS.extdeviceloginconfirmok;
  return JSON.parse(h.answer(h.request('POST', path, JSON.stringify({ BaseRequest: h.base(d), LoginUrl: loginUrl })))!.body).BaseResponse;
}

/** The redirect of a confirmed login, as the 200 poll answer gives it. */
function redirect(h: Harness, req: number): URL {
  const m = /^window\.code=200;\nwindow\.redirect_uri="([^"]+)";$/.exec(h.answer(req)!.body);
  expect(m, h.answer(req)!.body).not.toBeNull();
  return new URL(m![1]!);
}

function loginPage(h: Harness, url: URL): HttpAnswer {
  return h.answer(h.request('GET', url.pathname + url.search))!;
}

function xml(a: HttpAnswer, tag: string): string | undefined {
  return new RegExp(`^<${tag}>(.*)</${tag}>$`, 'm').exec(a.body)?.[1];
}

/** jslogin, a scan and a confirm by `d`: the redirect of the 200. */
function confirmed(h: Harness, d: Dev): { uuid: string; url: URL } {
  const uuid = jslogin(h);
  expect(phone(h, 'get', d, uuid)).toEqual(OK);
  expect(phone(h, 'ok', d, uuid)).toEqual(OK);
  const req = poll(h, uuid, '0');
  expect(code(h, req)).toBe(200);
  return { uuid, url: redirect(h, req) };
}

describe('QR web login (node)', () => {
  const harness = useHarness();

  it('scan, confirm: the poll hears 201 then 200, and the ticket opens a web session of a new device once', () => {
    const h = harness({ node: NODE });
    const alice = h.user('alice');
    const uuid = jslogin(h);
    const waiting = poll(h, uuid, '1');
    expect(code(h, waiting)).toBeUndefined();
    expect(phone(h, 'get', alice, uuid)).toEqual(OK);
    expect(h.answer(waiting)!.body).toBe(`window.code=201;window.userAvatar='data:img/jpg;base64,';`);
    const after = poll(h, uuid, '0');
    expect(code(h, after)).toBeUndefined();
    h.advance(1_000);
    expect(phone(h, 'ok', alice, uuid)).toEqual(OK);
    const url = redirect(h, after);
    expect(`${url.origin}${url.pathname}`).toBe(`${h.node.publicUrl}${PATHS.webwxinit.replace('webwxinit', 'webwxnewloginpage')}`);
    expect(url.searchParams.get('uuid')).toBe(uuid);
    expect(url.searchParams.get('lang')).toBe('zh_CN');
    expect(url.searchParams.get('ticket')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Number(url.searchParams.get('scan'))).toBe(Math.floor((h.now - 1_000) / 1000));

    const devicesBefore = h.store.read({ kind: 'devicesOf', uin: alice.uin }).length;
    const page = loginPage(h, url);
    expect(page.status).toBe(301);
    expect(xml(page, 'ret')).toBe('0');
    expect(xml(page, 'wxuin')).toBe(String(alice.uin));
    expect(xml(page, 'skey')).toMatch(/^@crypt_[0-9a-f]{8}_[0-9a-f]{32}$/);
    expect(page.setCookies?.map((c) => c.split('=')[0])).toEqual(['wxuin', 'wxsid', 'webwx_data_ticket', 'pass_ticket']);
    const devices = h.store.read({ kind: 'devicesOf', uin: alice.uin });
    expect(devices.length).toBe(devicesBefore + 1);
    const web = devices.find((d) => d.sid === xml(page, 'wxsid'))!;
    expect(web.deviceId).toMatch(/^e[0-9]{15}$/);
    // The session works by its query parameters (no BaseRequest, no DeviceID).
    const init = JSON.parse(h.answer(h.request('POST', `${PATHS.webwxinit}?uin=${alice.uin}&sid=${xml(page, 'wxsid')}`, '{}'))!.body);
    expect(init.BaseResponse).toEqual(OK);
    expect(init.User.UserName).toBe('alice');

    // The ticket works once; the uuid is gone after it.
    const again = h.unchanged(() => loginPage(h, url));
    expect(again.status).toBe(200);
    expect(xml(again, 'ret')).toBe('1203');
    expect(again.setCookies).toBeUndefined();
    expect(code(h, poll(h, uuid))).toBe(400);
  });

  it('a uuid is scanned and confirmed by one account: another is refused (1204), a confirm twice too', () => {
    const h = harness({ node: NODE });
    const alice = h.user('alice');
    const bob = h.user('bob');
    const uuid = jslogin(h);
    expect(phone(h, 'ok', alice, uuid).Ret).toBe(1204); // not scanned yet
    expect(phone(h, 'get', alice, uuid)).toEqual(OK);
    expect(phone(h, 'get', alice, uuid)).toEqual(OK); // a retried scan
    expect(phone(h, 'get', bob, uuid)).toEqual({ Ret: 1204, ErrMsg: 'QR login already scanned by another account' });
    expect(phone(h, 'ok', bob, uuid)).toEqual({ Ret: 1204, ErrMsg: 'QR login already scanned by another account' });
    expect(phone(h, 'ok', alice, uuid)).toEqual(OK);
    expect(phone(h, 'ok', alice, uuid)).toEqual({ Ret: 1204, ErrMsg: 'QR login already confirmed' });
    expect(phone(h, 'get', bob, uuid).Ret).toBe(1204);
    // The ticket is alice's: the web session is hers.
    const req = poll(h, uuid);
    expect(xml(loginPage(h, redirect(h, req)), 'wxuin')).toBe(String(alice.uin));
  });

  it('unknown uuids and bad input: poll 400, qrcode 404, phone 1204 or 1102, jslogin 400, page 1102; nothing is written', () => {
    const h = harness({ node: NODE });
    const alice = h.user('alice');
    h.unchanged(() => {
      expect(code(h, poll(h, 'AAAAAAAAAAAAAAAAAAAAAA'))).toBe(400);
      expect(code(h, h.request('GET', WEB_LOGIN_PATHS.login))).toBe(400);
      expect(h.answer(h.request('GET', `${WEB_LOGIN_PATHS.qrcode}nope`))!.status).toBe(404);
      expect(phone(h, 'get', alice, 'AAAAAAAAAAAAAAAAAAAAAA').Ret).toBe(1204);
      expect(phone(h, 'get', alice, 'x', 'not a url').Ret).toBe(1102);
      expect(phone(h, 'ok', alice, 'x', 'http://h/l/bad uuid').Ret).toBe(1102);
      const noAppid = h.answer(h.request('GET', `${WEB_LOGIN_PATHS.jslogin}?fun=new`))!;
      expect(noAppid.body).toMatch(/^window\.QRLogin\.code = 400; window\.QRLogin\.error = ".*appid/);
      expect(h.answer(h.request('GET', `${WEB_LOGIN_PATHS.jslogin}?appid=a&fun=old`))!.body).toMatch(/code = 400/);
      expect(xml(h.answer(h.request('GET', WEB_LOGIN_PATHS.webwxnewloginpage))!, 'ret')).toBe('1102');
      expect(xml(h.answer(h.request('GET', `${WEB_LOGIN_PATHS.webwxnewloginpage}?ticket=t&uuid=u`))!, 'ret')).toBe('1203');
      expect(h.answer(h.request('POST', WEB_LOGIN_PATHS.login))!.status).toBe(405);
      expect(h.answer(h.request('POST', WEB_LOGIN_PATHS.extdeviceloginconfirmok, '{oops'))!.status).toBe(400);
    });
    // A phone without a valid session is refused as any command is.
    const uuid = jslogin(h);
    expect(phone(h, 'get', { ...alice, sid: 'forged' }, uuid).Ret).toBe(1100);
  });

  it('a uuid expires: its held poll hears 400, the phone is refused, the QR code is gone', () => {
    const h = harness({ node: NODE });
    const alice = h.user('alice');
    const uuid = jslogin(h);
    h.advance(UUID_TTL - HOLD);
    const held = poll(h, uuid);
    h.advance(HOLD - 1);
    expect(code(h, held)).toBeUndefined();
    h.advance(1);
    expect(code(h, held)).toBe(400);
    expect(phone(h, 'get', alice, uuid).Ret).toBe(1204);
    expect(h.answer(h.request('GET', `${WEB_LOGIN_PATHS.qrcode}${uuid}`))!.status).toBe(404);
  });

  it('a ticket expires qrTicketTtlMs after the confirm: 1203 and no session', () => {
    const h = harness({ node: NODE });
    const alice = h.user('alice');
    const { url } = confirmed(h, alice);
    h.advance(TICKET_TTL);
    const page = h.unchanged(() => loginPage(h, url));
    expect(xml(page, 'ret')).toBe('1203');
    expect(page.setCookies).toBeUndefined();
  });

  it('a ticket belongs to its uuid; a page with another uuid is refused and the ticket still works', () => {
    const h = harness({ node: NODE });
    const alice = h.user('alice');
    const { url } = confirmed(h, alice);
    const other = new URL(url);
    other.searchParams.set('uuid', jslogin(h));
    expect(xml(h.unchanged(() => loginPage(h, other)), 'ret')).toBe('1203');
    expect(loginPage(h, url).status).toBe(301);
  });

  it('a login poll is held loginHoldMs, then 408; a newer poll of the uuid replaces it (408)', () => {
    const h = harness({ node: NODE });
    const uuid = jslogin(h);
    const first = poll(h, uuid);
    const second = poll(h, uuid);
    expect(code(h, first)).toBe(408);
    h.advance(HOLD - 1);
    expect(code(h, second)).toBeUndefined();
    h.advance(1);
    expect(code(h, second)).toBe(408);
    expect(h.node.stats().loginPolls).toBe(0);
  });

  it('bounds: an address keeps maxQrLoginsPerAddress (its oldest goes, its poll hears 400); maxQrLogins in all, then 503', () => {
    const h = harness({ node: { ...NODE, maxQrLoginsPerAddress: 2, maxQrLogins: 3 } });
    h.remote = '198.51.100.1';
    const oldest = jslogin(h);
    const held = poll(h, oldest);
    jslogin(h);
    jslogin(h);
    expect(code(h, held)).toBe(400);
    expect(h.node.stats().qrLogins).toBe(2);
    h.remote = '198.51.100.2';
    jslogin(h);
    const over = h.answer(h.request('GET', `${WEB_LOGIN_PATHS.jslogin}?appid=a`))!;
    expect(over.body).toMatch(/^window\.QRLogin\.code = 503; /);
    expect(h.node.stats().qrLogins).toBe(3);
  });

  it('bounds: login polls per address (the oldest hears 408) and in all (503)', () => {
    const h = harness({ node: { ...NODE, maxLoginPollsPerAddress: 2, maxLoginPolls: 3 } });
    h.remote = '198.51.100.1';
    const uuids = [jslogin(h), jslogin(h), jslogin(h), jslogin(h)];
    const a = poll(h, uuids[0]!);
    const b = poll(h, uuids[1]!);
    const c = poll(h, uuids[2]!);
    expect([code(h, a), code(h, b), code(h, c)]).toEqual([408, undefined, undefined]);
    h.remote = '198.51.100.2';
    const d = poll(h, uuids[3]!);
    expect(code(h, d)).toBeUndefined();
    const e = poll(h, uuids[0]!);
    expect(code(h, e)).toBe(503);
    expect(h.node.stats().loginPolls).toBe(3);
  });

  it('the phone scans and confirms over its long link (ops 30 and 32)', () => {
    const h = harness({ node: NODE });
    const alice = h.user('alice');
    const link = h.link(alice);
    const uuid = jslogin(h);
    const held = poll(h, uuid);
    link.send(WebLoginOp.ExtDeviceLoginConfirmGet, 5, { LoginUrl: `${h.node.publicUrl}/l/${uuid}` });
    expect(link.reply(WebLoginOp.ExtDeviceLoginConfirmGetReply, 5)).toEqual({ BaseResponse: OK });
    expect(code(h, held)).toBe(201);
    const waiting = poll(h, uuid, '0');
    link.send(WebLoginOp.ExtDeviceLoginConfirmOk, 6, { LoginUrl: `${h.node.publicUrl}/l/${uuid}` });
    expect(link.reply(WebLoginOp.ExtDeviceLoginConfirmOkReply, 6)).toEqual({ BaseResponse: OK });
    expect(code(h, waiting)).toBe(200);
    link.send(WebLoginOp.ExtDeviceLoginConfirmOk, 7, { LoginUrl: `${h.node.publicUrl}/l/${uuid}` });
    expect(link.reply(WebLoginOp.ExtDeviceLoginConfirmOkReply, 7).BaseResponse.Ret).toBe(1204);
    link.send(WebLoginOp.ExtDeviceLoginConfirmGet, 8, { LoginUrl: 42 });
    expect(link.reply(WebLoginOp.ExtDeviceLoginConfirmGetReply, 8).BaseResponse.Ret).toBe(1102);
    expect(link.closed).toBe(false);
    // Before auth the ops are refused like a send.
    const early = h.openLink();
    early.send(WebLoginOp.ExtDeviceLoginConfirmGet, 1, { LoginUrl: `${h.node.publicUrl}/l/${uuid}` });
    expect(early.last(Op.Disconnect)!.body.Ret).toBe(1100);
  });

  it('a crash loses pending QR logins: the uuid answers 400 and the user scans a new one', () => {
    const h = harness({ node: NODE });
    const alice = h.user('alice');
    const uuid = jslogin(h);
    expect(phone(h, 'get', alice, uuid)).toEqual(OK);
    h.restart();
    expect(code(h, poll(h, uuid))).toBe(400);
    expect(phone(h, 'ok', alice, uuid).Ret).toBe(1204);
    expect(confirmed(h, alice).url.searchParams.get('ticket')).toBeTruthy();
  });

  it('without a BaseRequest: webwxsync needs the skey parameter; a wrong one is 1100; logout takes a form body', () => {
    const h = harness({ node: NODE });
    const alice = h.user('alice');
    const page = loginPage(h, confirmed(h, alice).url);
    const uin = xml(page, 'wxuin')!;
    const sid = xml(page, 'wxsid')!;
    const skey = xml(page, 'skey')!;
    const sync = (q: string): number =>
      JSON.parse(h.answer(h.request('POST', `${PATHS.webwxsync}?${q}`, JSON.stringify({ SyncKey: { Count: 0, List: [] } })))!.body).BaseResponse.Ret;
    expect(sync(`uin=${uin}&sid=${sid}`)).toBe(1102);
    expect(sync(`uin=${uin}&sid=${sid}&skey=wrong`)).toBe(1100);
    expect(sync(`uin=${uin}&sid=${sid}&skey=${encodeURIComponent(skey)}`)).toBe(0);
    expect(sync(`uin=${alice.uin + 1}&sid=${sid}&skey=${encodeURIComponent(skey)}`)).toBe(1100);
    const logout = h.request('POST', `${PATHS.webwxlogout}?redirect=1&type=0&skey=${encodeURIComponent(skey)}`, `sid=${sid}&uin=${uin}`);
    expect(JSON.parse(h.answer(logout)!.body).BaseResponse).toEqual(OK);
    expect(sync(`uin=${uin}&sid=${sid}&skey=${encodeURIComponent(skey)}`)).toBe(1101);
    // The phone's session is untouched.
    expect(h.sync(alice).BaseResponse).toEqual(OK);
  });
});
