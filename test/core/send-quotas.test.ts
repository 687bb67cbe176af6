// Sending is bounded for hostile users (issue 11, findings 1 and 2): a quota
// per sending account (messages and bytes, Ret 1111 with a retry-after hint),
// limits on what strangers may send one recipient (a rate, 1111, and a share
// of its log, 1110), and only the message types a user may send.
import { describe, expect, it } from 'vitest';
import { coreConfig } from '../../server/core/config.ts';
import { TokenBuckets } from '../../server/core/rate-limits.ts';
import { STORES } from '../harness/crash-store.ts';
import { OK } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';

const MAILBOX_FULL = 1110;
const RATE_LIMITED = 1111;

describe.each(STORES)('send quotas (%s)', (store) => {
  const harness = useHarness();

  it('an account sending faster than its quota gets 1111 with a retry-after hint, and nothing is stored', () => {
    const h = harness({ store, core: { sendMessagesPerSec: 2, sendMessageBurst: 3 } });
    const alice = h.user('alice');
    h.user('bob');
    const first = h.newClientMsgId();
    const id = h.sendOk(alice, 'bob', 'one', first);
    h.sendOk(alice, 'bob', 'two');
    h.sendOk(alice, 'bob', 'three');
    const r = h.unchanged(() => h.send(alice, 'bob', 'four'));
    expect(r.BaseResponse).toEqual({ Ret: RATE_LIMITED, ErrMsg: 'too many messages sent: retry after 500 ms' });
    // A retry of a stored message costs nothing: it gets its first answer.
    expect(h.send(alice, 'bob', 'one', first)).toMatchObject({ BaseResponse: OK, MsgID: id });
    h.advance(500);
    expect(h.send(alice, 'bob', 'four').BaseResponse).toEqual(OK);
    expect(h.send(alice, 'bob', 'five').BaseResponse.Ret).toBe(RATE_LIMITED);
  });

  it('a chat-room message costs its fan-out: past the deliveries quota it gets 1111, and nothing is stored', () => {
    const h = harness({ store, core: { maxGroupMembers: 4, sendDeliveriesPerSec: 4, sendDeliveryBurst: 12 } });
    const alice = h.user('alice');
    h.user('bob');
    h.user('carol');
    h.user('dave');
    const room = h.createRoom(alice, ['bob', 'carol', 'dave']).ChatRoomName as string; // 4 log items
    h.sendOk(alice, room, 'one'); // 8
    h.sendOk(alice, room, 'two'); // 12: the burst is spent
    const r = h.unchanged(() => h.send(alice, room, 'three'));
    expect(r.BaseResponse).toEqual({ Ret: RATE_LIMITED, ErrMsg: 'messages reach too many recipients: retry after 1000 ms' });
    // A direct message appends no room fan-out: it still goes.
    h.sendOk(alice, 'bob', 'direct');
    h.advance(1000);
    h.sendOk(alice, room, 'three');
  });

  it('creating a room spends the fan-out quota too, and a refused creation reads and writes nothing', () => {
    const h = harness({ store, core: { maxGroupMembers: 4, sendDeliveriesPerSec: 4, sendDeliveryBurst: 8 } });
    const alice = h.user('alice');
    h.user('bob');
    h.user('carol');
    h.user('dave');
    const room = h.createRoom(alice, ['bob', 'carol', 'dave']).ChatRoomName as string; // 4
    h.sendOk(alice, room, 'one'); // 8: spent
    // Even a room of unknown users is refused by the quota, before any member is looked up.
    const r = h.unchanged(() => h.createRoom(alice, ['nobody', 'noone']));
    // Three members' worth (the creator counts) at 4 a second.
    expect(r.BaseResponse).toEqual({ Ret: RATE_LIMITED, ErrMsg: 'too many chat rooms created: retry after 750 ms' });
    h.advance(750);
    expect(h.createRoom(alice, ['bob', 'nobody']).BaseResponse.Ret).toBe(1106);
  });

  it('the byte quota counts Content in UTF-8 bytes', () => {
    const h = harness({ store, core: { maxContentBytes: 100, sendBytesPerSec: 10, sendByteBurst: 100 } });
    const alice = h.user('alice');
    h.user('bob');
    h.sendOk(alice, 'bob', 'é'.repeat(30)); // 60 bytes
    const r = h.unchanged(() => h.send(alice, 'bob', 'é'.repeat(30)));
    expect(r.BaseResponse).toEqual({ Ret: RATE_LIMITED, ErrMsg: 'too many messages sent: retry after 2000 ms' });
    h.advance(2_000);
    h.sendOk(alice, 'bob', 'é'.repeat(30));
  });

  it("messages from strangers to one recipient share a rate; a reply, or a room the recipient created, makes the sender no stranger", () => {
    const h = harness({ store, core: { strangerMessagesPerSec: 1, strangerMessageBurst: 2 } });
    const alice = h.user('alice');
    const bob = h.user('bob');
    const carol = h.user('carol');
    const dave = h.user('dave');
    h.sendOk(alice, 'bob', 'hi');
    h.sendOk(carol, 'bob', 'hello');
    const r = h.unchanged(() => h.send(alice, 'bob', 'hi again'));
    expect(r.BaseResponse).toEqual({ Ret: RATE_LIMITED, ErrMsg: 'bob gets too many messages from new contacts: retry after 1000 ms' });
    expect(h.send(carol, 'bob', 'me too').BaseResponse.Ret).toBe(RATE_LIMITED);
    // bob answers alice: she is no stranger to him any more.
    h.sendOk(bob, 'alice', 'hi alice');
    h.sendOk(alice, 'bob', 'hi again');
    h.sendOk(alice, 'bob', 'and again');
    // A room carol creates with bob in it changes nothing: anyone may put anyone in a room.
    expect(h.createRoom(carol, ['bob']).BaseResponse).toEqual(OK);
    expect(h.send(carol, 'bob', 'still me').BaseResponse.Ret).toBe(RATE_LIMITED);
    // bob puts dave in a room: dave is no stranger to him.
    expect(h.createRoom(bob, ['dave']).BaseResponse).toEqual(OK);
    h.sendOk(dave, 'bob', 'from the room');
    // Strangers are per recipient: carol may write to dave.
    h.sendOk(carol, 'dave', 'hello dave');
  });

  it('strangers may fill only maxStrangerBacklog of a log: past it their messages get 1110, contacts still get through', () => {
    const h = harness({ store, core: { maxStrangerBacklog: 3 } });
    const alice = h.user('alice');
    const bob = h.user('bob');
    const carol = h.user('carol');
    h.sendOk(bob, 'carol', 'carol is a contact of bob'); // bob's echo: the first of his three
    h.sendOk(alice, 'bob', 's1');
    h.sendOk(alice, 'bob', 's2');
    const r = h.unchanged(() => h.send(alice, 'bob', 's3'));
    expect(r.BaseResponse).toEqual({ Ret: MAILBOX_FULL, ErrMsg: 'bob takes no more messages from new contacts for now; try again later' });
    h.sendOk(carol, 'bob', 'from a contact');
    expect(h.messages(bob.uin).map((m) => m.Content)).toEqual(['carol is a contact of bob', 's1', 's2', 'from a contact']);
  });

  it('a user may not send system notices (MsgType 10000): 1102, nothing stored', () => {
    const h = harness({ store });
    const alice = h.user('alice');
    h.user('bob');
    const r = h.unchanged(() => h.sendMsg(alice, { ...h.msg(alice, 'bob', 'you have won'), Type: 10000 }));
    expect(r.BaseResponse).toEqual({ Ret: 1102, ErrMsg: 'Type 10000 (a system notice) is sent by the server only' });
    for (const type of [1, 3, 34, 42, 43, 47, 49]) {
      expect(h.sendMsg(alice, { ...h.msg(alice, 'bob', `type ${type}`), Type: type }).BaseResponse, `type ${type}`).toEqual(OK);
    }
  });
});

describe('the quota tables', () => {
  it('refill at their rate, up to the burst, and answer how long until enough is there', () => {
    const b = new TokenBuckets(2, 4, 10);
    expect(b.wait(1, 4, 0)).toBe(0);
    b.take(1, 4, 0);
    expect(b.wait(1, 1, 0)).toBe(500);
    expect(b.wait(1, 1, 400)).toBe(100);
    expect(b.wait(1, 4, 10_000)).toBe(0);
    expect(b.wait(1, 5, 10_000)).toBe(500); // never more than the burst
  });

  it('hold at most rateLimitEntries buckets, dropping the oldest (which refills it)', () => {
    const b = new TokenBuckets(1, 1, 2);
    b.take(1, 1, 0);
    b.take(2, 1, 0);
    b.take(3, 1, 0);
    expect(b.size).toBe(2);
    expect(b.wait(1, 1, 0)).toBe(0);
    expect(b.wait(2, 1, 0)).toBeGreaterThan(0);
    expect(b.wait(3, 1, 0)).toBeGreaterThan(0);
  });

  it('the byte burst must hold the largest message', () => {
    expect(() => coreConfig({ maxContentBytes: 100, sendByteBurst: 99 })).toThrow(/sendByteBurst/);
    expect(() => coreConfig({ maxContentBytes: 100, sendByteBurst: 100 })).not.toThrow();
  });
});
