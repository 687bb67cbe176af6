// Over real sockets, as a web client speaks: a waiting synccheck ends with
// retcode 1101 at once when its session logs out (webwxlogout by a form body
// `sid=…&uin=…`, no cookie, no BaseRequest) or is replaced by a newer login
// of its device; webwxsendmsg takes the web client's 17-digit ids as digit
// strings and refuses them as JSON numbers (ID_UNSAFE_INTEGER); webwxsync
// carries the real service's envelope; webwxoplog pins.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDb, type TestServer } from '../fixture.ts';
import { WEB, httpCall, register } from '../raw-client/http.ts';
import { HttpDevice } from '../raw-client/http-device.ts';
import { until } from '../raw-client/wait.ts';

const PASSWORD = 'correct horse';
const OK = { Ret: 0, ErrMsg: '' };

describe('after login, over real sockets', () => {
  const dir = tempDb('web-after-login');
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer(dir.db, { node: { holdMs: 20_000 } });
    await register(t.base, 'alice', PASSWORD);
    await register(t.base, 'bob', PASSWORD);
  });
  afterAll(async () => {
    await t.srv.close();
    dir.cleanup();
  });

  it('a logout by form body ends the waiting synccheck with 1101 at once', async () => {
    const web = new HttpDevice(t.base, 'alice', PASSWORD, 'e100000000000001');
    await web.login();
    const waiting = web.synccheck();
    await until(() => t.srv.node.stats().polls === 1, 5000, 'the synccheck held');
    const res = await fetch(`${t.base}${WEB}webwxlogout?redirect=1&type=0&skey=${encodeURIComponent(web.skey)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ sid: web.sid, uin: String(web.uin) }).toString(),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { BaseResponse: unknown }).BaseResponse).toEqual(OK);
    const answer = await waiting;
    expect({ retcode: answer.retcode, selector: answer.selector }).toEqual({ retcode: '1101', selector: '0' });
    expect((await web.syncOnce()).BaseResponse.Ret).toBe(1101);
    expect((await web.synccheck()).retcode).toBe('1101');
  });

  it('a newer login of the same device ends the old session\'s waiting synccheck with 1101 at once', async () => {
    const old = new HttpDevice(t.base, 'bob', PASSWORD, 'e100000000000002');
    await old.login();
    const waiting = old.synccheck();
    await until(() => t.srv.node.stats().polls === 1, 5000, 'the synccheck held');
    const newer = new HttpDevice(t.base, 'bob', PASSWORD, 'e100000000000002');
    await newer.login();
    const answer = await waiting;
    expect({ retcode: answer.retcode, selector: answer.selector }).toEqual({ retcode: '1101', selector: '0' });
    expect((await newer.syncOnce()).BaseResponse).toEqual(OK);
  });

  it('webwxsendmsg: 17-digit ids as digit strings are kept, as JSON numbers refused with ID_UNSAFE_INTEGER', async () => {
    const alice = new HttpDevice(t.base, 'alice', PASSWORD, 'e100000000000003');
    await alice.login();
    const bob = new HttpDevice(t.base, 'bob', PASSWORD, 'e100000000000004');
    await bob.login();
    const base = JSON.stringify(alice.baseRequest);
    const raw = (id: string): Promise<any> =>
      httpCall(t.base, 'POST', `${WEB}webwxsendmsg`, `{"BaseRequest":${base},"Msg":{"ClientMsgId":${id},"LocalID":${id},"FromUserName":"alice","ToUserName":"bob","Type":1,"Content":"hello"},"Scene":0}`).then((r) => r.json);
    const refused = await raw('16094567890120123');
    expect(refused.BaseResponse.Ret).toBe(1102);
    expect(refused.BaseResponse.ErrMsg).toMatch(/^ID_UNSAFE_INTEGER: ClientMsgId /);
    const sent = await raw('"16094567890120123"');
    expect(sent.BaseResponse).toEqual(OK);
    expect(sent.LocalID).toBe('16094567890120123');
    const got = await bob.syncOnce();
    expect(got.AddMsgList.map((m: any) => m.ClientMsgId)).toEqual(['16094567890120123']);
    expect(got).toMatchObject({ AddMsgCount: 1, ModContactCount: 0, DelContactCount: 0, ModChatRoomMemberCount: 0, ModChatRoomMemberList: [], Profile: { BitFlag: 0 } });
  });

  it('webwxoplog pins (CmdId 3) and the other device syncs ContactFlag 2049', async () => {
    const phone = new HttpDevice(t.base, 'alice', PASSWORD, 'e100000000000005');
    await phone.login();
    const web = new HttpDevice(t.base, 'alice', PASSWORD, 'e100000000000006');
    await web.login();
    await web.init();
    const pinned = await phone.post('webwxoplog', { CmdId: 3, OP: 1, RemarkName: '', UserName: 'bob' });
    expect(pinned.json).toEqual({ BaseResponse: OK });
    let contacts: any[] = [];
    for (let i = 0; i < 5 && contacts.length === 0; i++) contacts = (await web.syncOnce()).ModContactList;
    expect(contacts).toEqual([expect.objectContaining({ UserName: 'bob', ContactFlag: 2049 })]);
  });
});
