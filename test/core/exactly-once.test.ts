// Guarantee 3 (exactly once): one MsgID per (sender, ClientMsgId) however
// often a send is retried or duplicated in flight, and one stored item.
import { describe, expect, it } from 'vitest';
import { Op } from '../../server/wire/packet.ts';
import type { Harness } from '../harness/core-harness.ts';
import { STORES } from '../harness/crash-store.ts';
import { OK } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';

/** Items in every log carrying this MsgId. */
function copies(h: Harness, uins: number[], msgId: number): number {
  let n = 0;
  for (const uin of uins) n += h.messages(uin).filter((m) => m.MsgId === msgId).length;
  return n;
}

describe.each(STORES)('exactly once (%s)', (store) => {
  const harness = useHarness();

  it('a retried send gets the same MsgID and is stored once per log', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    const msg = h.msg(a, 'bob', 'hello', '4242');
    const first = h.sendMsg(a, msg);
    expect(first.BaseResponse).toEqual(OK);
    const writes = h.store.writes.length;
    const again = h.sendMsg(a, msg);
    expect(again).toEqual(first);
    // The retry appends nothing (at most a device touch).
    expect(h.writesSince(writes).filter((w) => w.kind !== 'putDevice')).toEqual([]);
    expect(copies(h, [a.uin], first.MsgID)).toBe(1);
    expect(copies(h, [b.uin], first.MsgID)).toBe(1);
    const got = h.drain(b).messages;
    expect(got.map((m) => m.MsgId)).toEqual([first.MsgID]);
  });

  it('a retry with other content still answers the first MsgID and keeps the first content', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    const first = h.send(a, 'bob', 'original', '77');
    const retry = h.send(a, 'bob', 'changed in flight', '77');
    expect(retry.MsgID).toBe(first.MsgID);
    expect(h.drain(b).messages.map((m) => m.Content)).toEqual(['original']);
  });

  it('numeric and string ClientMsgId of the same digits are one id', () => {
    const h = harness({ store });
    const a = h.user('alice');
    h.user('bob');
    const first = h.sendMsg(a, { ...h.msg(a, 'bob', 'x'), ClientMsgId: 900 });
    const second = h.sendMsg(a, { ...h.msg(a, 'bob', 'x'), ClientMsgId: '900' });
    expect(second.MsgID).toBe(first.MsgID);
  });

  it('a request duplicated in flight (both copies in one batch) is stored once and both copies get the same MsgID', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    const body = { BaseRequest: h.base(a), Msg: h.msg(a, 'bob', 'dup', '555'), Scene: 0 };
    const [r1, r2] = h.batch(() => [h.post('webwxsendmsg', body), h.post('webwxsendmsg', body)]);
    expect(h.answer(r1!)).toBeUndefined();
    h.flush();
    const j1 = h.json(r1!);
    const j2 = h.json(r2!);
    expect(j1.BaseResponse).toEqual(OK);
    expect(j2).toEqual(j1);
    expect(copies(h, [b.uin], j1.MsgID)).toBe(1);
    expect(copies(h, [a.uin], j1.MsgID)).toBe(1);
  });

  it('a lost response then a retry: the retry answers the stored MsgID, the recipient sees it once', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    const body = { BaseRequest: h.base(a), Msg: h.msg(a, 'bob', 'are you there', '31337'), Scene: 0 };
    const lost = h.post('webwxsendmsg', body); // the answer never reaches the client
    const stored = h.json(lost).MsgID as number;
    h.advance(5_000);
    const retry = h.call('webwxsendmsg', body);
    expect(retry.MsgID).toBe(stored);
    expect(h.drain(b).messages.map((m) => m.MsgId)).toEqual([stored]);
  });

  it('a lost response, a crash, then a retry: still the same MsgID', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    const msg = h.msg(a, 'bob', 'before the crash', '8080');
    const stored = h.sendMsg(a, msg).MsgID as number;
    h.restart();
    const retry = h.sendMsg(a, msg);
    expect(retry).toEqual({ BaseResponse: OK, MsgID: stored, LocalID: '8080' });
    expect(h.drain(b).messages.map((m) => m.MsgId)).toEqual([stored]);
  });

  it('a retry over the long link after an HTTP send answers the same MsgID', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    const msg = h.msg(a, 'bob', 'two paths', '12');
    const viaHttp = h.sendMsg(a, msg);
    const link = h.link(a);
    const viaLink = link.sendMsg(msg, 9);
    expect(viaLink).toEqual(viaHttp);
    link.sendMsg(msg, 10);
    expect(link.reply(Op.SendReply, 10)).toEqual(viaHttp);
    expect(h.drain(b).messages).toHaveLength(1);
  });

  it('the same ClientMsgId from two senders is two messages', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    const c = h.user('carol');
    const m1 = h.sendOk(a, 'carol', 'from alice', '1');
    const m2 = h.sendOk(b, 'carol', 'from bob', '1');
    expect(m1).not.toBe(m2);
    expect(h.drain(c).messages.map((m) => m.Content)).toEqual(['from alice', 'from bob']);
  });

  it('many retries interleaved with other sends: one MsgID per ClientMsgId, MsgIDs distinct', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    const ids = new Map<string, number>();
    for (let round = 0; round < 3; round++) {
      h.batch(() => {
        for (let i = 0; i < 6; i++) h.sendReq(a, 'bob', `m${i}`, `c${i}`);
      });
      h.flush();
      for (let i = 0; i < 6; i++) {
        const r = h.send(a, 'bob', `m${i}`, `c${i}`);
        const prev = ids.get(`c${i}`);
        if (prev === undefined) ids.set(`c${i}`, r.MsgID);
        else expect(r.MsgID).toBe(prev);
      }
    }
    expect(new Set(ids.values()).size).toBe(6);
    const got = h.drain(b).messages;
    expect(got.map((m) => m.ClientMsgId)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5']);
    expect(got.map((m) => m.Content)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
  });
});
