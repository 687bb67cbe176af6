// webwxoplog CmdId 2: a remark syncs to the user's other devices in
// ModContactList (key 2), and webwxinit lists it.
import { describe, expect, it } from 'vitest';
import { STORES } from '../harness/crash-store.ts';
import { OK, keyVal } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';

describe.each(STORES)('remark oplog (%s)', (store) => {
  const harness = useHarness();

  it('a remark set on one device reaches another device in ModContactList (key 2)', () => {
    const h = harness({ store });
    h.register('alice');
    const phone = h.login('alice');
    const web = h.login('alice');
    h.register('bob', 'pw', 'Bobby');
    const before = web.key;
    expect(h.oplog(phone, 'bob', 'Bob from work')).toEqual({ BaseResponse: OK });
    const r = h.sync(web);
    expect(r.AddMsgCount).toBe(0);
    expect(r.ModContactList).toEqual([{ UserName: 'bob', NickName: 'Bobby', RemarkName: 'Bob from work', MemberList: [], MemberCount: 0 }]);
    expect(keyVal(r.SyncKey, 2)).toBeGreaterThan(keyVal(before, 2));
    expect(keyVal(r.SyncKey, 1)).toBe(keyVal(before, 1));
    // The device that set it gets it too, and a later change supersedes it in order.
    h.oplog(phone, 'bob', 'B.');
    const both = h.drain(phone).contacts.map((c) => c.RemarkName);
    expect(both).toEqual(['Bob from work', 'B.']);
    expect(h.sync(web).ModContactList.map((c: any) => c.RemarkName)).toEqual(['B.']);
  });

  it('webwxinit lists remarks and groups; the remark does not reach the target account', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    h.oplog(a, 'bob', 'Bob');
    const room = h.createRoom(a, ['bob'], 'team').ChatRoomName;
    h.oplog(a, room, 'my team');
    const init = h.init(a);
    expect(init.Count).toBe(init.ContactList.length);
    expect(init.ContactList).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ UserName: 'bob', RemarkName: 'Bob' }),
        expect.objectContaining({ UserName: room, RemarkName: 'my team', MemberList: [expect.objectContaining({ UserName: 'alice' }), expect.objectContaining({ UserName: 'bob' })] }),
      ]),
    );
    expect(init.User).toMatchObject({ Uin: a.uin, UserName: 'alice', NickName: 'alice', ContactFlag: 0, HeadImgUrl: expect.stringContaining('webwxgeticon') });
    const bobSees = h.drain(b).contacts;
    expect(bobSees.map((c) => c.UserName)).toEqual([room]);
    expect(bobSees.every((c) => c.RemarkName === '')).toBe(true);
  });

  it('a remark for an unknown user or a group one is not in is 1106 and changes nothing', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    h.user('carol');
    const room = h.createRoom(b, ['carol']).ChatRoomName;
    expect(h.unchanged(() => h.oplog(a, 'nobody', 'x')).BaseResponse.Ret).toBe(1106);
    expect(h.unchanged(() => h.oplog(a, room, 'x')).BaseResponse.Ret).toBe(1106);
    expect(h.unchanged(() => h.oplog(a, '@@999', 'x')).BaseResponse.Ret).toBe(1106);
  });

  it('a remark reaches a device over the long link as a notify with selector 4', () => {
    const h = harness({ store });
    h.register('alice');
    const phone = h.login('alice');
    const web = h.login('alice');
    h.register('bob');
    const link = h.link(web);
    link.take();
    h.oplog(phone, 'bob', 'B');
    expect(link.take()).toEqual([{ op: 122, seq: 0, body: { Selector: 4 } }]);
    const r = link.sync(web.key, 2);
    expect(r.ModContactList.map((c: any) => c.RemarkName)).toEqual(['B']);
  });
});
