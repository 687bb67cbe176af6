// webwxgetcontact: the account's contacts in the real web format (rooms it
// is in, then users it wrote to or remarked), paged by Seq; by BaseRequest,
// or by the login's cookies on a GET without a body; only the caller's own
// contacts and its own remarks; bad input gets a stable code and stores nothing.
import { describe, expect, it } from 'vitest';
import { CONTACT_PATHS } from '../../server/node/http-api.ts';
import { STORES } from '../harness/crash-store.ts';
import { OK } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';
import { WEB_CONTACT_FIELDS, allContacts, getContact, webCall } from './web-calls.ts';

const PATH = CONTACT_PATHS.webwxgetcontact;

describe.each(STORES)('webwxgetcontact (%s)', (store) => {
  const harness = useHarness();

  it('lists the rooms the account is in, then the users it wrote to or remarked, in the real format', () => {
    const h = harness({ store });
    const alice = h.user('alice');
    const bob = h.user('bob');
    const carol = h.user('carol');
    h.register('dave', undefined, 'Dave D');
    const eve = h.user('eve');
    const room = h.createRoom(alice, ['bob'], 'lunch').ChatRoomName;
    h.sendOk(alice, 'carol', 'hi');
    h.oplog(alice, 'dave', 'Dave from work');
    h.sendOk(alice, 'alice', 'a note to myself');
    h.oplog(alice, 'alice', 'me');
    h.sendOk(eve, 'alice', 'a stranger writes');
    void bob;
    void carol;

    const r = getContact(h, alice);
    expect(r.BaseResponse).toEqual(OK);
    expect(r.Seq).toBe(0);
    expect(r.MemberCount).toBe(3);
    expect(r.MemberList.map((c: any) => c.UserName)).toEqual([room, 'carol', 'dave']);
    for (const c of r.MemberList) expect(Object.keys(c).sort()).toEqual(WEB_CONTACT_FIELDS);
    const [roomEntry, carolEntry, daveEntry] = r.MemberList;
    expect(roomEntry).toMatchObject({ Uin: 0, NickName: 'lunch', ContactFlag: 3, MemberCount: 2, MemberList: [], IsOwner: 1, EncryChatRoomId: room, VerifyFlag: 0 });
    expect(roomEntry.HeadImgUrl).toBe(`/cgi-bin/mmwebwx-bin/webwxgetheadimg?seq=0&username=${room}&skey=`);
    expect(carolEntry).toMatchObject({ Uin: 0, NickName: 'carol', RemarkName: '', ContactFlag: 1, MemberCount: 0, MemberList: [], IsOwner: 0 });
    expect(carolEntry.HeadImgUrl).toBe('/cgi-bin/mmwebwx-bin/webwxgeticon?seq=0&username=carol&skey=');
    expect(daveEntry).toMatchObject({ NickName: 'Dave D', RemarkName: 'Dave from work', ContactFlag: 1 });

    // Bob sees his own contacts only: the room (not its owner's), none of alice's remarks.
    const b = getContact(h, bob);
    expect(b.MemberList.map((c: any) => c.UserName)).toEqual([room]);
    expect(b.MemberList[0]).toMatchObject({ IsOwner: 0, RemarkName: '' });
    // Eve wrote to alice: alice is eve's contact, not the other way round.
    expect(getContact(h, eve).MemberList.map((c: any) => c.UserName)).toEqual(['alice']);
  });

  it('pages by Seq: rooms by id, then users by uin, each once, Seq 0 on the last page', () => {
    const h = harness({ store, core: { contactPageSize: 2 } });
    const alice = h.user('alice');
    for (const n of ['u1', 'u2', 'u3']) h.user(n);
    const rooms = [1, 2, 3].map((i) => h.createRoom(alice, ['u1'], `r${i}`).ChatRoomName);
    h.sendOk(alice, 'u3', 'x');
    h.sendOk(alice, 'u1', 'x');
    h.oplog(alice, 'u2', 'two');
    const first = getContact(h, alice);
    expect(first.MemberList.map((c: any) => c.UserName)).toEqual(rooms.slice(0, 2));
    expect(first.Seq).not.toBe(0);
    const { contacts, pages } = allContacts(h, alice);
    expect(pages).toBe(3);
    expect(contacts.map((c) => c.UserName)).toEqual([...rooms, 'u1', 'u2', 'u3']);
    expect(contacts.map((c) => c.RemarkName)).toEqual(['', '', '', '', 'two', '']);
  });

  it('a page that the rooms fill exactly ends the list when no user follows', () => {
    const h = harness({ store, core: { contactPageSize: 2 } });
    const alice = h.user('alice');
    h.register('bob');
    h.createRoom(alice, ['bob'], 'a');
    h.createRoom(alice, ['bob'], 'b');
    expect(allContacts(h, alice)).toMatchObject({ pages: 1 });
    h.sendOk(alice, 'bob', 'now bob is a contact');
    const { contacts, pages } = allContacts(h, alice);
    expect(pages).toBe(2);
    expect(contacts.map((c) => c.UserName)).toEqual(['@@1', '@@2', 'bob']);
  });

  it('a GET without a body names its session by the cookies (skey checked when given)', () => {
    const h = harness({ store });
    const alice = h.user('alice');
    h.user('bob');
    h.sendOk(alice, 'bob', 'hi');
    const cookie = `wxuin=${alice.uin}; wxsid=${alice.sid}; webwx_data_ticket=x; pass_ticket=y`;
    const ok = webCall(h, 'GET', `${PATH}?lang=zh_CN&pass_ticket=y&r=1&seq=0&skey=${encodeURIComponent(alice.skey)}`, '', cookie);
    expect(ok.status).toBe(200);
    expect(ok.json.MemberList.map((c: any) => c.UserName)).toEqual(['bob']);
    expect(webCall(h, 'GET', `${PATH}?seq=0`, '', cookie).json.BaseResponse).toEqual(OK);
    expect(webCall(h, 'GET', `${PATH}?seq=0&skey=wrong`, '', cookie).json.BaseResponse.Ret).toBe(1100);
    expect(webCall(h, 'GET', `${PATH}?seq=0`).json.BaseResponse.Ret).toBe(1102);
    // Another account's Sid under alice's uin is unknown.
    const bob = h.login('bob');
    expect(webCall(h, 'GET', `${PATH}?seq=0`, '', `wxuin=${alice.uin}; wxsid=${bob.sid}`).json.BaseResponse.Ret).toBe(1100);
    h.logout(alice);
    expect(webCall(h, 'GET', `${PATH}?seq=0`, '', cookie).json.BaseResponse.Ret).toBe(1101);
  });

  it('a seq it never answered is 1102 CONTACT_BAD_SEQ; a bad method or body is refused; nothing is stored', () => {
    const h = harness({ store });
    const alice = h.user('alice');
    h.user('bob');
    h.sendOk(alice, 'bob', 'hi');
    for (const seq of ['abc', '5', '-1', '1.5', String(2 ** 34), '99999999999999999']) {
      const r = h.unchanged(() => getContact(h, alice, seq));
      expect(r.BaseResponse.Ret, seq).toBe(1102);
      expect(r.BaseResponse.ErrMsg, seq).toMatch(/^CONTACT_BAD_SEQ: /);
    }
    const put = webCall(h, 'PUT' as 'GET', `${PATH}?seq=0`);
    expect(put.status).toBe(405);
    expect(webCall(h, 'POST', `${PATH}?seq=0`, 'not json').status).toBe(400);
    expect(webCall(h, 'POST', `${PATH}?seq=0`, '[1]').status).toBe(400);
    expect(h.unchanged(() => webCall(h, 'POST', `${PATH}?seq=0`, { BaseRequest: { Uin: 'x' } })).json.BaseResponse.Ret).toBe(1102);
  });
});
