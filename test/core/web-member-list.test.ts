// A room's MemberList on the wire: member objects in webwxinit's ContactList
// and webwxsync's ModContactList, as the real web service sends them (third-
// party web clients index them as objects), and user names on the long link
// (op 11), this server's own protocol; the reference client keeps names from
// either (client/core/replies.ts).
import { describe, expect, it } from 'vitest';
import { parseInitReply, parseSyncReply } from '../../client/core/replies.ts';
import { STORES } from '../harness/crash-store.ts';
import { OK } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';

const MEMBER = { UserName: expect.any(String), NickName: '', DisplayName: '', AttrStatus: 0 };

describe.each(STORES)("a room's members on the wire (%s)", (store) => {
  const harness = useHarness();

  it('are objects over HTTP (webwxinit, webwxsync) and names on the long link; the client reads both as names', () => {
    const h = harness({ store });
    const alice = h.user('alice');
    h.user('bob');
    expect(h.createRoom(alice, ['bob'], 'lunch').BaseResponse).toEqual(OK);

    const init = h.init(alice);
    const room = init.ContactList.find((c: any) => c.UserName === '@@1');
    expect(room.MemberList).toEqual([
      { ...MEMBER, UserName: 'alice' },
      { ...MEMBER, UserName: 'bob' },
    ]);
    expect(parseInitReply(init)!.contacts.find((c) => c.UserName === '@@1')!.MemberList).toEqual(['alice', 'bob']);

    const sync = h.sync(alice);
    const item = sync.ModContactList.find((c: any) => c.UserName === '@@1');
    expect(item.MemberList).toEqual([
      { ...MEMBER, UserName: 'alice' },
      { ...MEMBER, UserName: 'bob' },
    ]);
    expect(item.MemberCount).toBe(2);
    expect(parseSyncReply(sync)!.contacts.find((c) => c.UserName === '@@1')!.MemberList).toEqual(['alice', 'bob']);

    const bobPhone = h.login('bob');
    const link = h.link(bobPhone);
    const op11 = link.sync(bobPhone.key, 2);
    expect(op11.ModContactList.find((c: any) => c.UserName === '@@1').MemberList).toEqual(['alice', 'bob']);
  });
});
