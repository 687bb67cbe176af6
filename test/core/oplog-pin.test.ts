// webwxoplog CmdId 3 (pin, OP 1 or 0) beside CmdId 2 (remark): each keeps
// what the other set; the pin syncs to the user's own devices as ContactFlag
// (bit 2048 while pinned), shows in webwxinit, webwxgetcontact and
// webwxbatchgetcontact, and never reaches another account.
import { describe, expect, it } from 'vitest';
import type { Harness } from '../harness/core-harness.ts';
import { STORES } from '../harness/crash-store.ts';
import { OK, type Dev } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';
import { allContacts, batchGet } from './web-calls.ts';

function pin(h: Harness, d: Dev, target: string, op: unknown, extra: Record<string, unknown> = { RemarkName: '' }): any {
  return h.call('webwxoplog', { BaseRequest: h.base(d), CmdId: 3, OP: op, UserName: target, ...extra });
}

describe.each(STORES)('webwxoplog pin (%s)', (store) => {
  const harness = useHarness();

  it('a pin and an unpin reach the other device as ContactFlag; the remark stays; a remark after keeps the pin', () => {
    const h = harness({ store });
    h.register('alice');
    const phone = h.login('alice');
    const web = h.login('alice');
    h.register('bob', undefined, 'Bobby');
    h.oplog(phone, 'bob', 'Bob');
    h.drain(web);
    expect(pin(h, phone, 'bob', 1)).toEqual({ BaseResponse: OK });
    expect(h.drain(web).contacts).toEqual([{ UserName: 'bob', NickName: 'Bobby', RemarkName: 'Bob', MemberList: [], MemberCount: 0, ContactFlag: 2049 }]);
    h.oplog(phone, 'bob', 'B.');
    expect(h.drain(web).contacts).toEqual([{ UserName: 'bob', NickName: 'Bobby', RemarkName: 'B.', MemberList: [], MemberCount: 0, ContactFlag: 2049 }]);
    expect(pin(h, phone, 'bob', 0)).toEqual({ BaseResponse: OK });
    expect(h.drain(web).contacts.map((c) => [c.RemarkName, c.ContactFlag])).toEqual([['B.', 1]]);
    // Unpinned again, a remark's item has the five fields of a contact never pinned.
    h.oplog(phone, 'bob', 'Bob');
    expect(h.drain(web).contacts).toEqual([{ UserName: 'bob', NickName: 'Bobby', RemarkName: 'Bob', MemberList: [], MemberCount: 0 }]);
  });

  it('a pinned room shows in webwxinit, webwxgetcontact and webwxbatchgetcontact; the pin is the pinner\'s alone', () => {
    const h = harness({ store });
    const alice = h.user('alice');
    const bob = h.user('bob');
    const room = h.createRoom(alice, ['bob'], 'team').ChatRoomName;
    expect(pin(h, alice, room, 1)).toEqual({ BaseResponse: OK });
    expect(pin(h, alice, 'bob', 1)).toEqual({ BaseResponse: OK });
    const init = h.init(alice);
    expect(init.ContactList).toEqual(expect.arrayContaining([
      expect.objectContaining({ UserName: room, ContactFlag: 2051, MemberList: [expect.objectContaining({ UserName: 'alice' }), expect.objectContaining({ UserName: 'bob' })] }),
      expect.objectContaining({ UserName: 'bob', ContactFlag: 2049, RemarkName: '' }),
    ]));
    expect(allContacts(h, alice).contacts.map((c) => [c.UserName, c.ContactFlag])).toEqual([[room, 2051], ['bob', 2049]]);
    expect(batchGet(h, alice, [room, 'bob']).ContactList.map((c: any) => c.ContactFlag)).toEqual([2051, 2049]);
    // Bob: nothing of it.
    expect(h.drain(bob).contacts.every((c) => c.ContactFlag === undefined)).toBe(true);
    expect(allContacts(h, bob).contacts.map((c) => [c.UserName, c.ContactFlag])).toEqual([[room, 3]]);
    expect(h.init(bob).ContactList.every((c: any) => c.ContactFlag === undefined)).toBe(true);
    expect(batchGet(h, bob, ['alice']).ContactList[0].ContactFlag).toBe(0);
  });

  it('bad pins are 1102, an unknown target or a room one is not in 1106: nothing is stored', () => {
    const h = harness({ store });
    const alice = h.user('alice');
    h.user('bob');
    const carol = h.user('carol');
    const room = h.createRoom(carol, ['bob'], 'not alice\'s').ChatRoomName;
    for (const [what, op] of [['missing', undefined], ['2', 2], ['-1', -1], ['a string', '1'], ['a fraction', 0.5]] as const) {
      expect(h.unchanged(() => pin(h, alice, 'bob', op)).BaseResponse.Ret, `OP ${what}`).toBe(1102);
    }
    expect(h.unchanged(() => pin(h, alice, 'nobody', 1)).BaseResponse.Ret).toBe(1106);
    expect(h.unchanged(() => pin(h, alice, room, 1)).BaseResponse.Ret).toBe(1106);
    expect(h.unchanged(() => h.call('webwxoplog', { BaseRequest: h.base(alice), CmdId: 4, UserName: 'bob', OP: 1 })).BaseResponse.Ret).toBe(1102);
    // A pin's RemarkName, whatever it holds, is not a remark.
    h.oplog(alice, 'bob', 'kept');
    expect(pin(h, alice, 'bob', 1, { RemarkName: 'not a remark' })).toEqual({ BaseResponse: OK });
    expect(batchGet(h, alice, ['bob']).ContactList[0]).toMatchObject({ RemarkName: 'kept', ContactFlag: 2049 });
  });
});
