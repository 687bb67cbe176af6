// Acknowledged means stored (issue 11, finding 1): a log at
// maxLogItemsPerCategory refuses new items with Ret 1110 instead of dropping
// what senders were told is stored; it drops its oldest item only once every
// live device has consumed it, and that drop is recorded like a prune, so a
// device that acknowledged nothing hears 1200 rather than a silent gap.
import { describe, expect, it } from 'vitest';
import { STORES } from '../harness/crash-store.ts';
import { OK } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';

const MAILBOX_FULL = 1110;

describe.each(STORES)('a full mailbox (%s)', (store) => {
  const harness = useHarness();

  it('refuses new sends with 1110 and keeps what other senders were told is stored', () => {
    const h = harness({ store, core: { maxLogItemsPerCategory: 3 } });
    const alice = h.user('alice');
    const carol = h.user('carol');
    const bob = h.user('bob');
    h.sendOk(carol, 'bob', 'from carol');
    h.sendOk(alice, 'bob', 'a1');
    h.sendOk(alice, 'bob', 'a2');
    const refused = h.unchanged(() => h.send(alice, 'bob', 'a3', 'a3-id'));
    expect(refused.BaseResponse.Ret).toBe(MAILBOX_FULL);
    expect(refused.BaseResponse.ErrMsg).toBe('the mailbox of bob is full; try again later');
    expect(h.messages(bob.uin).map((m) => m.Content)).toEqual(['from carol', 'a1', 'a2']);

    // bob syncs and presents the key of what he got: now the oldest may go, and the retry is stored.
    expect(h.drain(bob).messages.map((m: any) => m.Content)).toEqual(['from carol', 'a1', 'a2']);
    expect(h.sync(bob).BaseResponse).toEqual(OK);
    expect(h.send(alice, 'bob', 'a3', 'a3-id').BaseResponse).toEqual(OK);
    expect(h.messages(bob.uin).map((m) => m.Content)).toEqual(['a1', 'a2', 'a3']);
    expect(h.drain(bob).messages.map((m: any) => m.Content)).toEqual(['a3']);
  });

  it('holds for every live device: one that has not synced keeps the log from making room', () => {
    const h = harness({ store, core: { maxLogItemsPerCategory: 2 } });
    const alice = h.user('alice');
    h.register('bob');
    const phone = h.login('bob');
    h.login('bob'); // a tablet, live, never syncs
    h.sendOk(alice, 'bob', 'm1');
    h.sendOk(alice, 'bob', 'm2');
    h.drain(phone);
    h.sync(phone);
    expect(h.send(alice, 'bob', 'm3').BaseResponse.Ret).toBe(MAILBOX_FULL);
    expect(h.messages(phone.uin).map((m) => m.Content)).toEqual(['m1', 'm2']);
  });

  it('a group send with a member whose mailbox is full stores nothing for anyone', () => {
    const h = harness({ store, core: { maxLogItemsPerCategory: 2 } });
    const alice = h.user('alice');
    const bob = h.user('bob');
    const carol = h.user('carol');
    const room = h.createRoom(alice, ['bob', 'carol']).ChatRoomName as string;
    h.sendOk(carol, 'bob', 'c1');
    h.sendOk(carol, 'bob', 'c2');
    const r = h.unchanged(() => h.send(alice, room, 'to the room'));
    expect(r.BaseResponse).toEqual({ Ret: MAILBOX_FULL, ErrMsg: `the mailbox of a member of ${room} is full; try again later` });
    expect(h.messages(alice.uin)).toEqual([]);
    expect(h.messages(bob.uin).map((m) => m.Content)).toEqual(['c1', 'c2']);
  });

  it("a sender whose own log is full of items its devices have not synced is told so", () => {
    const h = harness({ store, core: { maxLogItemsPerCategory: 2 } });
    const alice = h.user('alice');
    h.user('bob');
    h.user('carol');
    h.sendOk(alice, 'bob', 'one');
    h.sendOk(alice, 'carol', 'two');
    const r = h.unchanged(() => h.send(alice, 'bob', 'three'));
    expect(r.BaseResponse.Ret).toBe(MAILBOX_FULL);
    expect(r.BaseResponse.ErrMsg).toMatch(/^your own message log is full/);
  });

  it('an account with no live device holds nothing back: its full log drops its oldest item, and a device coming back hears 1200', () => {
    const h = harness({ store, core: { maxLogItemsPerCategory: 2 } });
    const alice = h.user('alice');
    const carol = h.user('carol');
    h.register('bob');
    const gone = h.login('bob');
    h.logout(gone); // bob has no live device
    h.advance(1);
    h.sendOk(carol, 'bob', 'm1');
    h.sendOk(carol, 'bob', 'm2');
    h.sendOk(alice, 'bob', 'm3');
    expect(h.messages(gone.uin).map((m) => m.Content)).toEqual(['m2', 'm3']);
    const back = h.login('bob', gone.deviceId);
    expect(h.sync(back, { Count: 0, List: [] }).BaseResponse.Ret).toBe(1200);
  });

  it('the bound dropping a consumed item is recorded: a device that existed and acknowledged nothing gets 1200 at key 0', () => {
    const h = harness({ store, core: { maxLogItemsPerCategory: 2 } });
    const alice = h.user('alice');
    h.register('bob');
    const phone = h.login('bob');
    const tablet = h.login('bob');
    expect(h.logout(tablet).BaseResponse).toEqual(OK); // not live: it holds nothing back
    h.advance(1);
    h.sendOk(alice, 'bob', 'm1');
    h.sendOk(alice, 'bob', 'm2');
    h.drain(phone);
    h.sync(phone);
    h.drain(alice); // alice's own log (the echoes) is bounded too
    h.sync(alice);
    h.sendOk(alice, 'bob', 'm3'); // m1 goes: the phone consumed it
    expect(h.messages(phone.uin).map((m) => m.Content)).toEqual(['m2', 'm3']);
    expect(h.account(phone.uin)!.lastEvictedAt).toBe(h.now);
    h.advance(1);
    const back = h.login('bob', tablet.deviceId); // the same device, back: it existed when m1 went
    const r = h.sync(back, { Count: 0, List: [] });
    expect(r.BaseResponse.Ret).toBe(1200);
    h.init(back);
    expect(h.drain(back).messages.map((m: any) => m.Content)).toEqual(['m2', 'm3']);
  });
});
