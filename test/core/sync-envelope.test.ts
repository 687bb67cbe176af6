// What webwxinit and webwxsync answer besides their items, as the real web
// service does: webwxsync's ModChatRoomMemberCount, ModChatRoomMemberList and
// Profile (HTTP only: the long link's op 11 goes without them), every count
// matching its list; webwxinit's SyncCheckKey, ChatSet and client settings.
import { describe, expect, it } from 'vitest';
import { STORES } from '../harness/crash-store.ts';
import { OK } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';
import { updateRoom } from './web-calls.ts';

const PROFILE_FIELDS = ['Alias', 'BindEmail', 'BindMobile', 'BindUin', 'BitFlag', 'HeadImgUpdateFlag', 'HeadImgUrl', 'NickName', 'PersonalCard', 'Sex', 'Signature', 'Status', 'UserName'];

describe.each(STORES)('init and sync envelopes (%s)', (store) => {
  const harness = useHarness();

  it('webwxsync carries every count with its list, ModChatRoomMember* empty and a Profile without change', () => {
    const h = harness({ store });
    const alice = h.user('alice');
    const bob = h.user('bob');
    const room = h.createRoom(alice, ['bob'], 'team').ChatRoomName;
    h.sendOk(alice, 'bob', 'hi');
    updateRoom(h, alice, 'delmember', room, { DelMemberList: 'bob' });
    const r = h.sync(bob);
    expect(r.BaseResponse).toEqual(OK);
    expect(r).toMatchObject({ AddMsgCount: 1, ModContactCount: 1, DelContactCount: 1, ModChatRoomMemberCount: 0, ModChatRoomMemberList: [] });
    expect(r.AddMsgList).toHaveLength(1);
    expect(r.ModContactList.map((c: any) => c.UserName)).toEqual([room]);
    expect(r.DelContactList).toEqual([{ UserName: room, ContactFlag: 0 }]);
    expect(Object.keys(r.Profile).sort()).toEqual(PROFILE_FIELDS);
    expect(r.Profile).toMatchObject({ BitFlag: 0, UserName: { Buff: '' }, NickName: { Buff: '' }, HeadImgUrl: '' });
    expect(r.SyncCheckKey).toEqual(r.SyncKey);
  });

  it('the long link\'s sync reply (op 11) has the same items and counts, without ModChatRoomMember* and Profile', () => {
    const h = harness({ store });
    const alice = h.user('alice');
    const bob = h.user('bob');
    const room = h.createRoom(alice, ['bob'], 'team').ChatRoomName;
    updateRoom(h, alice, 'delmember', room, { DelMemberList: 'bob' });
    const link = h.link(bob);
    const r = link.sync(bob.key, 3);
    expect(r).toMatchObject({ ModContactCount: 1, DelContactCount: 1, DelContactList: [{ UserName: room, ContactFlag: 0 }] });
    expect(r.Profile).toBeUndefined();
    expect(r.ModChatRoomMemberCount).toBeUndefined();
  });

  it('webwxinit answers SyncCheckKey, ChatSet of its contacts and the web client\'s settings', () => {
    const h = harness({ store });
    const alice = h.user('alice');
    h.register('bob');
    const room = h.createRoom(alice, ['bob'], 'team').ChatRoomName;
    h.oplog(alice, 'bob', 'Bob');
    const r = h.init(alice);
    expect(r.BaseResponse).toEqual(OK);
    expect(r.SyncCheckKey).toEqual(r.SyncKey);
    expect(r.ChatSet).toBe(`${room},bob`);
    expect(r).toMatchObject({ Count: 2, ClientVersion: 0, GrayScale: 1, InviteStartCount: 40, MPSubscribeMsgCount: 0, MPSubscribeMsgList: [], ClickReportInterval: 600000 });
    expect(r.SystemTime).toBe(Math.floor(h.now / 1000));
  });
});
