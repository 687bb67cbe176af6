// webwxbatchgetcontact: named contacts in the real web format, a room with
// its members; only what the caller may see (a room it is not in, or a name
// that does not exist, is left out, and the two look alike); Count bounded
// with a stable code; the reply bounded in bytes.
import { describe, expect, it } from 'vitest';
import { STORES } from '../harness/crash-store.ts';
import { OK } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';
import { WEB_CONTACT_FIELDS, WEB_MEMBER_FIELDS, batchGet, postAs } from './web-calls.ts';

describe.each(STORES)('webwxbatchgetcontact (%s)', (store) => {
  const harness = useHarness();

  it('answers rooms with their members and users with the caller\'s remark, in the order asked', () => {
    const h = harness({ store });
    const alice = h.user('alice');
    h.register('bob', undefined, 'Bobby');
    h.register('carol', undefined, 'Caro');
    const room = h.createRoom(alice, ['bob', 'carol'], 'team').ChatRoomName;
    h.sendOk(alice, 'bob', 'hi');
    h.oplog(alice, 'bob', 'Bob B.');
    const r = batchGet(h, alice, ['carol', room, 'bob', { UserName: 'carol', EncryChatRoomId: room }]);
    expect(r.BaseResponse).toEqual(OK);
    expect(r.Count).toBe(3);
    expect(r.ContactList.map((c: any) => c.UserName)).toEqual(['carol', room, 'bob']);
    for (const c of r.ContactList) expect(Object.keys(c).sort()).toEqual(WEB_CONTACT_FIELDS);
    const [carol, team, bob] = r.ContactList;
    expect(carol).toMatchObject({ NickName: 'Caro', RemarkName: '', ContactFlag: 0, MemberCount: 0, MemberList: [] });
    expect(bob).toMatchObject({ NickName: 'Bobby', RemarkName: 'Bob B.', ContactFlag: 1 });
    expect(team).toMatchObject({ NickName: 'team', MemberCount: 3, IsOwner: 1, ContactFlag: 3, EncryChatRoomId: room });
    expect(team.MemberList.map((m: any) => [m.UserName, m.NickName])).toEqual([['alice', 'alice'], ['bob', 'Bobby'], ['carol', 'Caro']]);
    for (const m of team.MemberList) {
      expect(Object.keys(m).sort()).toEqual(WEB_MEMBER_FIELDS);
      expect(m).toMatchObject({ Uin: 0, AttrStatus: 0, DisplayName: '', MemberStatus: 0 });
    }
  });

  it('leaves out a room the caller is not in exactly as one that does not exist, and shows no one else\'s remarks', () => {
    const h = harness({ store });
    const alice = h.user('alice');
    h.register('bob');
    const mallory = h.user('mallory');
    const room = h.createRoom(alice, ['bob'], 'private').ChatRoomName;
    h.oplog(alice, 'bob', 'secret');
    const notIn = h.unchanged(() => batchGet(h, mallory, [room]));
    const none = h.unchanged(() => batchGet(h, mallory, ['@@999']));
    expect(notIn).toEqual({ BaseResponse: OK, Count: 0, ContactList: [] });
    expect(none).toEqual(notIn);
    expect(batchGet(h, mallory, ['nobody'])).toEqual(notIn);
    // Mallory's view of bob: the public fields, her own (empty) remark, not alice's.
    const bob = batchGet(h, mallory, ['bob']).ContactList[0];
    expect(bob).toMatchObject({ UserName: 'bob', RemarkName: '', ContactFlag: 0 });
    // Naming the room as EncryChatRoomId does not open it either.
    expect(batchGet(h, mallory, [{ UserName: room, EncryChatRoomId: room }]).Count).toBe(0);
  });

  it('more names than maxBatchContacts is 1102 CONTACT_BATCH_TOO_LARGE; bad entries are 1102; nothing is stored', () => {
    const h = harness({ store, core: { maxBatchContacts: 3 } });
    const alice = h.user('alice');
    h.register('bob');
    const many = h.unchanged(() => batchGet(h, alice, ['bob', 'bob', 'bob', 'bob']));
    expect(many.BaseResponse.Ret).toBe(1102);
    expect(many.BaseResponse.ErrMsg).toMatch(/^CONTACT_BATCH_TOO_LARGE: at most 3 names/);
    expect(batchGet(h, alice, ['bob', 'bob', 'bob']).Count).toBe(1);
    const bad: Array<[string, Record<string, unknown>]> = [
      ['List missing', { Count: 0 }],
      ['List not an array', { Count: 1, List: 'bob' }],
      ['Count wrong', { Count: 2, List: [{ UserName: 'bob' }] }],
      ['an entry not an object', { List: ['bob'] }],
      ['UserName missing', { List: [{ EncryChatRoomId: '' }] }],
      ['UserName too long', { List: [{ UserName: 'b'.repeat(41) }] }],
      ['EncryChatRoomId a number', { List: [{ UserName: 'bob', EncryChatRoomId: 5 }] }],
    ];
    for (const [what, body] of bad) {
      const r = h.unchanged(() => postAs(h, alice, 'webwxbatchgetcontact', body, 'type=ex'));
      expect(r.BaseResponse.Ret, what).toBe(1102);
    }
    expect(postAs(h, alice, 'webwxbatchgetcontact', { List: [] }, 'type=ex')).toEqual({ BaseResponse: OK, Count: 0, ContactList: [] });
  });

  it('the list ends before the first entry past maxContactReplyBytes', () => {
    const world = (maxContactReplyBytes?: number): { h: ReturnType<typeof harness>; ask: () => any } => {
      const h = harness({ store, core: maxContactReplyBytes === undefined ? {} : { maxContactReplyBytes } });
      const alice = h.user('alice');
      for (const n of ['b1', 'b2', 'b3']) h.register(n);
      const room = h.createRoom(alice, ['b1', 'b2', 'b3'], 'big').ChatRoomName;
      return { h, ask: () => batchGet(h, alice, ['b1', room, 'b2']) };
    };
    const whole = world().ask();
    expect(whole.Count).toBe(3);
    // Each entry's JSON and its comma, as the bound counts them.
    const [b1, room] = whole.ContactList.map((c: any) => JSON.stringify(c).length + 1);
    expect(world(b1 + room - 1).ask().ContactList.map((c: any) => c.UserName)).toEqual(['b1']);
    const two = world(b1 + room).ask();
    expect(two.Count).toBe(2);
    expect(two.ContactList.map((c: any) => c.UserName)).toEqual(['b1', '@@1']);
  });

  it('a session that logged out is 1101, an unknown one 1100', () => {
    const h = harness({ store });
    const alice = h.user('alice');
    h.logout(alice);
    expect(batchGet(h, alice, ['alice']).BaseResponse.Ret).toBe(1101);
    expect(batchGet(h, { ...alice, sid: 'AAAAAAAAAAAAAAAAAAAAAA' }, ['alice']).BaseResponse.Ret).toBe(1100);
  });
});
