// webwxupdatechatroom: addmember, invitemember, delmember and modtopic reach
// every member's devices through key 2 (the room's ModContactList entry,
// each member's own remark kept; DelContactList for who was taken out); only
// members change a room, only the owner adds or removes others; bounds and
// quotas; bad input gets a stable code and stores nothing.
import { memberNamesOf } from '../harness/core-harness.ts';
import { describe, expect, it } from 'vitest';
import type { Harness } from '../harness/core-harness.ts';
import { STORES } from '../harness/crash-store.ts';
import { OK, type Dev } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';
import { WEB_MEMBER_FIELDS, allContacts, batchGet, updateRoom } from './web-calls.ts';

/** The room's entries among what a device syncs: ModContactList and DelContactList, in order. */
function roomNews(h: Harness, d: Dev, room: string): { mods: any[]; dels: any[] } {
  const mods: any[] = [];
  const dels: any[] = [];
  for (;;) {
    const r = h.sync(d);
    expect(r.BaseResponse).toEqual(OK);
    expect(r.DelContactCount).toBe(r.DelContactList.length);
    mods.push(...r.ModContactList.filter((c: any) => c.UserName === room).map(memberNamesOf));
    dels.push(...r.DelContactList.filter((c: any) => c.UserName === room));
    if (r.ContinueFlag === 0) return { mods, dels };
  }
}

function world(h: Harness): { alice: Dev; bob: Dev; carol: Dev; dave: Dev; mallory: Dev; room: string } {
  const alice = h.user('alice');
  const bob = h.user('bob');
  const carol = h.user('carol');
  const dave = h.user('dave');
  const mallory = h.user('mallory');
  const room = h.createRoom(alice, ['bob'], 'team').ChatRoomName;
  for (const d of [alice, bob, carol, dave, mallory]) h.drain(d);
  return { alice, bob, carol, dave, mallory, room };
}

describe.each(STORES)('webwxupdatechatroom (%s)', (store) => {
  const harness = useHarness();

  it('addmember: every member\'s devices get the room with its new members, each with its own remark; waiting polls hear it', () => {
    const h = harness({ store });
    const { alice, bob, carol, dave, room } = world(h);
    h.oplog(bob, room, 'the team');
    h.drain(bob);
    const poll = h.synccheck(bob);
    expect(h.syncCheckResult(poll)).toBeUndefined();
    const r = updateRoom(h, alice, 'addmember', room, { AddMemberList: 'carol,dave,carol' });
    expect(r.BaseResponse).toEqual(OK);
    expect(r.MemberCount).toBe(2);
    expect(r.MemberList.map((m: any) => m.UserName)).toEqual(['carol', 'dave']);
    for (const m of r.MemberList) expect(Object.keys(m).sort()).toEqual(WEB_MEMBER_FIELDS);
    expect(h.syncCheckResult(poll)).toEqual({ retcode: '0', selector: '4' });
    const members = ['alice', 'bob', 'carol', 'dave'];
    for (const d of [alice, bob, carol, dave]) {
      const { mods, dels } = roomNews(h, d, room);
      expect(dels).toEqual([]);
      expect(mods).toEqual([{ UserName: room, NickName: 'team', RemarkName: d === bob ? 'the team' : '', MemberList: members, MemberCount: 4 }]);
    }
    // The new members see the room in their contacts and may send to it.
    expect(allContacts(h, carol).contacts.map((c) => c.UserName)).toEqual([room]);
    expect(h.send(dave, room, 'hello all').BaseResponse).toEqual(OK);
    // Adding them again changes nothing.
    const again = h.unchanged(() => updateRoom(h, alice, 'invitemember', room, { InviteMemberList: 'carol' }));
    expect(again).toEqual({ BaseResponse: OK, MemberCount: 0, MemberList: [] });
  });

  it('invitemember adds as addmember does', () => {
    const h = harness({ store });
    const { alice, carol, room } = world(h);
    expect(updateRoom(h, alice, 'invitemember', room, { InviteMemberList: 'carol' }).MemberCount).toBe(1);
    expect(roomNews(h, carol, room).mods.map((c) => c.MemberList)).toEqual([['alice', 'bob', 'carol']]);
  });

  it('delmember by the owner: the removed member gets DelContactList and loses the room; the others see it go', () => {
    const h = harness({ store });
    const { alice, bob, carol, room } = world(h);
    updateRoom(h, alice, 'addmember', room, { AddMemberList: 'carol' });
    for (const d of [alice, bob, carol]) h.drain(d);
    const r = updateRoom(h, alice, 'delmember', room, { DelMemberList: 'bob' });
    expect(r.BaseResponse).toEqual(OK);
    expect(r.MemberList.map((m: any) => m.UserName)).toEqual(['bob']);
    expect(roomNews(h, bob, room)).toEqual({ mods: [], dels: [{ UserName: room, ContactFlag: 0 }] });
    for (const d of [alice, carol]) expect(roomNews(h, d, room)).toEqual({ mods: [expect.objectContaining({ MemberList: ['alice', 'carol'], MemberCount: 2 })], dels: [] });
    // Bob is no longer in it: no sends, no members, no contact, no init entry.
    expect(h.send(bob, room, 'still here?').BaseResponse.Ret).toBe(1107);
    expect(batchGet(h, bob, [room]).Count).toBe(0);
    expect(allContacts(h, bob).contacts).toEqual([]);
    expect(h.init(bob).ContactList).toEqual([]);
    // Bob's later messages to the room's owner go as a stranger's: nothing else of the room is left to him.
    expect(h.unchanged(() => updateRoom(h, bob, 'modtopic', room, { NewTopic: 'mine now' })).BaseResponse.Ret).toBe(1107);
  });

  it('a member leaves by naming itself; the owner cannot leave; only the owner adds or removes others', () => {
    const h = harness({ store });
    const { alice, bob, carol, room } = world(h);
    updateRoom(h, alice, 'addmember', room, { AddMemberList: 'carol' });
    const notOwner = h.unchanged(() => updateRoom(h, bob, 'delmember', room, { DelMemberList: 'carol' }));
    expect(notOwner.BaseResponse.Ret).toBe(1102);
    expect(notOwner.BaseResponse.ErrMsg).toMatch(/^ROOM_OWNER_ONLY: /);
    // The name is not even looked up: a member learns nothing of it.
    expect(h.unchanged(() => updateRoom(h, bob, 'delmember', room, { DelMemberList: 'nobody' })).BaseResponse.ErrMsg).toMatch(/^ROOM_OWNER_ONLY: /);
    expect(h.unchanged(() => updateRoom(h, bob, 'addmember', room, { AddMemberList: 'dave' })).BaseResponse.ErrMsg).toMatch(/^ROOM_OWNER_ONLY: /);
    const stays = h.unchanged(() => updateRoom(h, alice, 'delmember', room, { DelMemberList: 'alice' }));
    expect(stays.BaseResponse.ErrMsg).toMatch(/^ROOM_OWNER_STAYS: /);
    h.drain(carol);
    expect(updateRoom(h, carol, 'delmember', room, { DelMemberList: 'carol' }).MemberList.map((m: any) => m.UserName)).toEqual(['carol']);
    expect(roomNews(h, carol, room).dels).toEqual([{ UserName: room, ContactFlag: 0 }]);
    expect(roomNews(h, bob, room).mods.at(-1).MemberList).toEqual(['alice', 'bob']);
  });

  it('modtopic by any member reaches everyone; the same topic again changes nothing', () => {
    const h = harness({ store });
    const { alice, bob, room } = world(h);
    expect(updateRoom(h, bob, 'modtopic', room, { NewTopic: 'dinner' })).toEqual({ BaseResponse: OK });
    for (const d of [alice, bob]) expect(roomNews(h, d, room).mods.map((c) => c.NickName)).toEqual(['dinner']);
    expect(h.unchanged(() => updateRoom(h, alice, 'modtopic', room, { NewTopic: 'dinner' }))).toEqual({ BaseResponse: OK });
    expect(updateRoom(h, alice, 'modtopic', room, { NewTopic: '' })).toEqual({ BaseResponse: OK });
    expect(roomNews(h, bob, room).mods.map((c) => c.NickName)).toEqual(['']);
  });

  it('a non-member changes nothing (1107); an unknown room or a user\'s name is 1106', () => {
    const h = harness({ store });
    const { mallory, room } = world(h);
    for (const [fun, fields] of [
      ['addmember', { AddMemberList: 'mallory' }],
      ['invitemember', { InviteMemberList: 'mallory' }],
      ['delmember', { DelMemberList: 'bob' }],
      ['modtopic', { NewTopic: 'pwned' }],
    ] as const) {
      expect(h.unchanged(() => updateRoom(h, mallory, fun, room, fields)).BaseResponse.Ret, fun).toBe(1107);
    }
    expect(h.unchanged(() => updateRoom(h, mallory, 'modtopic', '@@999', { NewTopic: 'x' })).BaseResponse.Ret).toBe(1106);
    expect(h.unchanged(() => updateRoom(h, mallory, 'modtopic', 'bob', { NewTopic: 'x' })).BaseResponse.Ret).toBe(1106);
  });

  it('bad input gets 1102 with its code, an unknown user 1106, a room past maxGroupMembers 1108: nothing is stored', () => {
    const h = harness({ store, core: { maxGroupMembers: 3 } });
    const { alice, room } = world(h);
    const code = (fun: string, fields: Record<string, unknown>): string => {
      const r = h.unchanged(() => updateRoom(h, alice, fun, room, fields));
      expect(r.BaseResponse.Ret, `${fun} ${JSON.stringify(fields)}`).toBe(1102);
      return String(r.BaseResponse.ErrMsg).split(':')[0]!;
    };
    expect(code('', { AddMemberList: 'carol' })).toBe('ROOM_BAD_FUN');
    expect(code('quitchatroom', { AddMemberList: 'carol' })).toBe('ROOM_BAD_FUN');
    for (const list of [undefined, '', 'carol,,dave', 'carol, dave', 'ca rol', 5, ['carol']]) {
      expect(code('addmember', list === undefined ? {} : { AddMemberList: list })).toBe('ROOM_BAD_LIST');
    }
    expect(code('delmember', { AddMemberList: 'carol' })).toBe('ROOM_BAD_LIST');
    code('modtopic', { NewTopic: 'x'.repeat(65) });
    code('modtopic', {});
    expect(h.unchanged(() => updateRoom(h, alice, 'addmember', room, { AddMemberList: 'carol,nobody' })).BaseResponse.Ret).toBe(1106);
    expect(h.unchanged(() => updateRoom(h, alice, 'addmember', room, { AddMemberList: 'carol,dave' })).BaseResponse.Ret).toBe(1108);
    expect(h.unchanged(() => updateRoom(h, alice, 'addmember', room, { AddMemberList: 'a,b,c,d' })).BaseResponse.Ret).toBe(1108);
    expect(updateRoom(h, alice, 'addmember', room, { AddMemberList: 'carol' }).BaseResponse).toEqual(OK);
  });

  it('a change spends the room fan-out quota: past it, 1111 with a retry hint and nothing changed', () => {
    const h = harness({ store, core: { maxGroupMembers: 3, sendDeliveryBurst: 4, sendDeliveriesPerSec: 1 } });
    const alice = h.user('alice');
    h.register('bob');
    const room = h.createRoom(alice, ['bob'], 'team').ChatRoomName;
    expect(updateRoom(h, alice, 'modtopic', room, { NewTopic: 'one' })).toEqual({ BaseResponse: OK });
    const r = h.unchanged(() => updateRoom(h, alice, 'modtopic', room, { NewTopic: 'two' }));
    expect(r.BaseResponse.Ret).toBe(1111);
    expect(r.BaseResponse.ErrMsg).toMatch(/retry after \d+ ms$/);
    h.advance(2_000);
    expect(updateRoom(h, alice, 'modtopic', room, { NewTopic: 'two' })).toEqual({ BaseResponse: OK });
  });

  it('a member whose contact log is full makes the change fail with 1110, and nothing changes', () => {
    const h = harness({ store, core: { maxLogItemsPerCategory: 2 } });
    const alice = h.user('alice');
    const bob = h.user('bob');
    const room = h.createRoom(alice, ['bob'], 'team').ChatRoomName;
    h.oplog(bob, 'alice', 'fills the log');
    h.drain(alice);
    const r = h.unchanged(() => updateRoom(h, alice, 'modtopic', room, { NewTopic: 'x' }));
    expect(r.BaseResponse.Ret).toBe(1110);
    // Once bob's device has acknowledged its log (presenting the key after it), there is room.
    h.drain(bob);
    h.sync(bob);
    expect(updateRoom(h, alice, 'modtopic', room, { NewTopic: 'x' })).toEqual({ BaseResponse: OK });
  });
});
