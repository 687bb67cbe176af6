// Two devices of one account: the sender's other device receives the
// sender's messages (echo) under the same MsgId, and both devices converge
// on the server's log (guarantees 2, 3 and 6).
import { describe, expect, it } from 'vitest';
import { STORES } from '../harness/crash-store.ts';
import { OK } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';

describe.each(STORES)('multi-device (%s)', (store) => {
  const harness = useHarness();

  it('the echo reaches the sender\'s other device under the same MsgId, byte for byte', () => {
    const h = harness({ store });
    h.register('alice');
    const phone = h.login('alice');
    const web = h.login('alice');
    const bob = h.user('bob');
    const content = 'héllo 👋 \u0000 "quoted" \\ <b>';
    const id = h.sendOk(phone, 'bob', content);
    const echoed = h.drain(web).messages;
    expect(echoed).toHaveLength(1);
    expect(echoed[0]).toMatchObject({ MsgId: id, NewMsgId: id, FromUserName: 'alice', ToUserName: 'bob', MsgType: 1, Content: content, Status: 3 });
    const received = h.drain(bob).messages;
    expect(received).toEqual(echoed);
  });

  it('both devices converge on the same messages in the same order', () => {
    const h = harness({ store });
    h.register('alice');
    const phone = h.login('alice');
    const web = h.login('alice');
    const bob = h.user('bob');
    const sent: number[] = [];
    for (let i = 0; i < 5; i++) {
      sent.push(h.sendOk(i % 2 ? phone : web, 'bob', `a${i}`));
      sent.push(h.sendOk(bob, 'alice', `b${i}`));
      // The phone syncs now and then; the web device only at the end.
      if (i % 2 === 0) h.drain(phone);
    }
    const phoneAll = h.sync(phone, { Count: 0, List: [] }).AddMsgList;
    const webAll = h.drain(web).messages;
    const bobAll = h.drain(bob).messages;
    expect(webAll.map((m: any) => m.MsgId)).toEqual(sent);
    expect(phoneAll).toEqual(webAll);
    expect(bobAll).toEqual(webAll);
    // Each device ends at the same position.
    h.drain(phone);
    expect(web.key).toEqual(phone.key);
  });

  it('a message to oneself appears once on each of one\'s devices', () => {
    const h = harness({ store });
    h.register('alice');
    const phone = h.login('alice');
    const web = h.login('alice');
    const id = h.sendOk(phone, 'alice', 'note to self');
    expect(h.drain(web).messages.map((m) => m.MsgId)).toEqual([id]);
    expect(h.drain(phone).messages.map((m) => m.MsgId)).toEqual([id]);
  });

  it('a new device of the account gets what was retained, and devices do not share positions', () => {
    const h = harness({ store });
    h.register('alice');
    const phone = h.login('alice');
    const bob = h.user('bob');
    const m1 = h.sendOk(bob, 'alice', 'one');
    h.drain(phone);
    h.sync(phone); // acknowledge
    const web = h.login('alice');
    expect(web.key.List.every((p) => p.Val === 0)).toBe(true);
    expect(h.drain(web).messages.map((m) => m.MsgId)).toEqual([m1]);
    expect(h.sync(phone).AddMsgList).toEqual([]);
  });

  it('the long link sends carry no SyncKey and the sender\'s HTTP device still gets its echo', () => {
    const h = harness({ store });
    h.register('alice');
    const phone = h.login('alice');
    const web = h.login('alice');
    h.user('bob');
    const link = h.link(phone);
    const r = link.sendMsg(h.msg(phone, 'bob', 'over tcp'), 3);
    expect(r.BaseResponse).toEqual(OK);
    expect(Object.keys(r).sort()).toEqual(['BaseResponse', 'LocalID', 'MsgID']);
    expect(h.drain(web).messages.map((m) => m.MsgId)).toEqual([r.MsgID]);
  });
});
