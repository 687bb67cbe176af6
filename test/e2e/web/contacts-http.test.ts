// The endpoints a web client calls right after its QR login, over real
// sockets and by its cookies alone: webwxstatusnotify (Code 3),
// webwxgetcontact as a GET without a body, webwxbatchgetcontact for a room's
// members, webwxupdatechatroom reaching another member's waiting synccheck
// and its sync; a non-member is refused; a wrong method names the right one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDb, type TestServer } from '../fixture.ts';
import { register } from '../raw-client/http.ts';
import { HttpDevice } from '../raw-client/http-device.ts';
import { until } from '../raw-client/wait.ts';
import { CookieJar, MICRO, WEB, jslogin, loginPoll, web, xmlField } from '../web-login/web-client.ts';

const PASSWORD = 'correct horse';
const OK = { Ret: 0, ErrMsg: '' };

describe('after the QR login, over real sockets', () => {
  const dir = tempDb('web-contacts');
  let t: TestServer;
  let phone: HttpDevice;
  let carol: HttpDevice;
  let mallory: HttpDevice;
  const jar = new CookieJar();
  let skey = '';
  let passTicket = '';

  beforeAll(async () => {
    t = await startTestServer(dir.db, { node: { holdMs: 20_000 } });
    for (const n of ['alice', 'bob', 'carol', 'mallory']) await register(t.base, n, PASSWORD);
    phone = new HttpDevice(t.base, 'alice', PASSWORD, 'alice-phone');
    await phone.login();
    carol = new HttpDevice(t.base, 'carol', PASSWORD, 'carol-web');
    await carol.login();
    mallory = new HttpDevice(t.base, 'mallory', PASSWORD, 'mallory-web');
    await mallory.login();
    const uuid = await jslogin(t.base);
    for (const what of ['confirmget', 'confirmok']) {
      const r = await web(`${t.base}${MICRO}extdevicelogin${what}`, { method: 'POST', body: JSON.stringify({ BaseRequest: phone.baseRequest, LoginUrl: `${t.base}/l/${uuid}` }) });
      expect(r.json.BaseResponse).toEqual(OK);
    }
    const page = await web((await loginPoll(t.base, uuid, 0)).redirectUri!, { jar });
    expect(page.status).toBe(301);
    skey = encodeURIComponent(xmlField(page.text, 'skey')!);
    passTicket = xmlField(page.text, 'pass_ticket')!;
  });
  afterAll(async () => {
    await t.srv.close();
    dir.cleanup();
  });

  const post = (path: string, body: unknown) => web(`${t.base}${WEB}${path}`, { method: 'POST', body: JSON.stringify(body), jar });

  it('statusnotify, getcontact by GET, batchgetcontact and updatechatroom, by cookies', async () => {
    const room = (await phone.post('webwxcreatechatroom', { MemberCount: 1, MemberList: [{ UserName: 'bob' }], Topic: 'team' })).json.ChatRoomName;
    await phone.send('bob', 'hi bob', 'phone-1');
    expect((await post(`webwxinit?r=1&pass_ticket=${passTicket}`, {})).json.BaseResponse).toEqual(OK);
    const notify = await post(`webwxstatusnotify?lang=zh_CN&pass_ticket=${passTicket}`, { Code: 3, FromUserName: 'alice', ToUserName: 'alice', ClientMsgId: '16094567890120123' });
    expect(notify.json).toEqual({ BaseResponse: OK, MsgID: '0' });

    const list = await web(`${t.base}${WEB}webwxgetcontact?lang=zh_CN&pass_ticket=${passTicket}&r=1&seq=0&skey=${skey}`, { jar });
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toMatch(/^application\/json/);
    expect(list.json).toMatchObject({ BaseResponse: OK, MemberCount: 2, Seq: 0 });
    expect(list.json.MemberList.map((c: any) => [c.UserName, c.ContactFlag, c.MemberCount])).toEqual([[room, 3, 2], ['bob', 1, 0]]);

    const batch = await post(`webwxbatchgetcontact?type=ex&r=1&pass_ticket=${passTicket}`, { Count: 2, List: [{ UserName: room, EncryChatRoomId: '' }, { UserName: 'nobody', EncryChatRoomId: '' }] });
    expect(batch.json.Count).toBe(1);
    expect(batch.json.ContactList[0].MemberList.map((m: any) => m.UserName)).toEqual(['alice', 'bob']);

    // Carol's synccheck waits; alice adds her from the browser; the poll hears contacts (4) and her sync has the room.
    await carol.syncOnce();
    const waiting = carol.synccheck();
    await until(() => t.srv.node.stats().polls === 1, 5000, 'carol\'s synccheck held');
    const added = await post('webwxupdatechatroom?fun=addmember', { ChatRoomName: room, AddMemberList: 'carol' });
    expect(added.json).toMatchObject({ BaseResponse: OK, MemberCount: 1, MemberList: [{ UserName: 'carol' }] });
    expect(await waiting).toMatchObject({ retcode: '0', selector: '4' });
    const got = await carol.syncOnce();
    const member = (name: string) => ({ UserName: name, NickName: '', DisplayName: '', AttrStatus: 0 });
    expect(got.ModContactList).toEqual([{ UserName: room, NickName: 'team', RemarkName: '', MemberList: [member('alice'), member('bob'), member('carol')], MemberCount: 3 }]);

    // Mallory is no member: refused, nothing changes.
    expect((await mallory.post('webwxupdatechatroom', { ChatRoomName: room, NewTopic: 'mine' }, '?fun=modtopic')).json.BaseResponse.Ret).toBe(1107);
    expect((await mallory.post('webwxbatchgetcontact', { Count: 1, List: [{ UserName: room }] }, '?type=ex')).json.Count).toBe(0);
  });

  it('a wrong method is 405 naming the right one; a body that is not JSON is 400', async () => {
    const get = await web(`${t.base}${WEB}webwxbatchgetcontact`, { jar });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await web(`${t.base}${WEB}webwxupdatechatroom?fun=modtopic`, { method: 'POST', body: 'x=1', jar })).status).toBe(400);
  });
});
