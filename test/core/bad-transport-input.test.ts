// What the node itself rejects before the core: unknown paths, wrong
// methods, bodies that are not JSON objects, malformed long-link packets.
// Each gets its documented answer and changes nothing; other links carry on.
import { describe, expect, it } from 'vitest';
import { PATHS } from '../../server/node/http-api.ts';
import { Op, encodeJsonPacket, encodePacket } from '../../server/wire/packet.ts';
import { STORES } from '../harness/crash-store.ts';
import { OK } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';

describe.each(STORES)('bad HTTP and long-link input (%s)', (store) => {
  const harness = useHarness();

  it('unknown path 404, wrong method 405 with Allow, non-JSON or non-object bodies 400; all Ret 1102', () => {
    const h = harness({ store });
    h.user('alice');
    const cases: Array<[string, string, string, number]> = [
      ['POST', '/cgi-bin/mmwebwx-bin/nothing', '{}', 404],
      ['GET', '/', '', 404],
      ['GET', PATHS.webwxsync, '', 405],
      ['POST', PATHS.synccheck, '', 405],
      ['POST', PATHS.webwxsync, '{not json', 400],
      ['POST', PATHS.webwxsync, '', 400],
      ['POST', PATHS.register, '[1,2]', 400],
      ['POST', PATHS.register, '"alice"', 400],
      ['POST', PATHS.register, 'null', 400],
      ['POST', PATHS.register, '42', 400],
    ];
    for (const [method, url, body, status] of cases) {
      const a = h.unchanged(() => h.answer(h.request(method, url, body)));
      expect(a?.status, `${method} ${url} ${body}`).toBe(status);
      expect(JSON.parse(a!.body).BaseResponse.Ret).toBe(1102);
      if (status === 405) expect(a!.headers?.['Allow']).toBeDefined();
    }
  });

  it('malformed long-link input gets a disconnect with a clear ErrMsg, changes nothing, and other links carry on', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    const good = h.link(b);
    const header = (packLen: number, headerLen: number, version: number, op: number) => {
      const buf = Buffer.alloc(16);
      buf.writeUInt32BE(packLen, 0);
      buf.writeUInt16BE(headerLen, 4);
      buf.writeUInt16BE(version, 6);
      buf.writeUInt32BE(op, 8);
      return buf;
    };
    const inputs: Array<[string, Uint8Array]> = [
      ['packLen below 16', header(8, 16, 1, Op.Heartbeat)],
      ['headerLen 15', header(16, 15, 1, Op.Heartbeat)],
      ['version 2', header(16, 16, 2, Op.Heartbeat)],
      ['oversized packet', header(16 + 64 * 1024 + 1, 16, 1, Op.Send)],
      ['unknown op', encodePacket(99, 1)],
      ['bad JSON on auth', encodePacket(Op.Auth, 1, '{oops')],
      ['invalid UTF-8 on auth', encodePacket(Op.Auth, 1, new Uint8Array([0x7b, 0xff, 0x7d]))],
      ['a server-only op', encodePacket(Op.Notify, 1)],
    ];
    for (const [what, bytes] of inputs) {
      const l = h.openLink();
      h.unchanged(() => l.raw(bytes));
      const bye = l.last(Op.Disconnect);
      expect(bye, what).toBeDefined();
      expect(bye!.body.Ret, what).toBe(1102);
      expect(bye!.body.ErrMsg.length, what).toBeGreaterThan(0);
      expect(l.closed, what).toBe(true);
    }
    // An authenticated link that sends garbage is closed too, changing nothing.
    const la = h.link(a);
    h.unchanged(() => la.raw(encodePacket(Op.Send, 3, '{"ToUserName":')));
    expect(la.last(Op.Disconnect)!.body.Ret).toBe(1102);
    expect(la.closed).toBe(true);
    // The other link carries on.
    good.take();
    h.sendOk(a, 'bob', 'still here');
    expect(good.take().map((p) => p.op)).toEqual([Op.Notify]);
    expect(good.sync(b.key, 5).BaseResponse).toEqual(OK);
  });

  it('a second auth on an authenticated link is refused and changes nothing', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const l = h.link(a);
    h.unchanged(() => l.send(Op.Auth, 2, { Uin: a.uin, Sid: a.sid, DeviceID: a.deviceId }));
    expect(l.last(Op.Disconnect)!.body.Ret).toBe(1102);
    expect(l.closed).toBe(true);
  });

  it('heartbeats are answered before and after auth; several packets in one write and split packets work', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const l = h.openLink();
    l.send(Op.Heartbeat, 4);
    expect(l.last(Op.HeartbeatReply, 4)).toBeDefined();
    const auth = encodeJsonPacket(Op.Auth, 1, { Uin: a.uin, Sid: a.sid, DeviceID: a.deviceId });
    const both = Buffer.concat([auth, encodePacket(Op.Heartbeat, 5)]);
    l.raw(both.subarray(0, 7));
    l.raw(both.subarray(7));
    expect(l.reply(Op.AuthReply, 1).BaseResponse).toEqual(OK);
    expect(l.last(Op.HeartbeatReply, 5)).toBeDefined();
  });

  it('an unauthenticated link is closed at the auth timeout, an idle one after 2.5 heartbeats', () => {
    const h = harness({ store, node: { authTimeoutMs: 1_000, heartbeatSec: 4 } });
    const a = h.user('alice');
    const idle = h.openLink();
    h.advance(999);
    expect(idle.closed).toBe(false);
    h.advance(1);
    expect(idle.closed).toBe(true);
    const l = h.link(a);
    h.advance(9_999);
    expect(l.closed).toBe(false);
    l.send(Op.Heartbeat, 9);
    h.advance(9_999);
    expect(l.closed).toBe(false);
    h.advance(1);
    expect(l.closed).toBe(true);
    expect(l.last(Op.Disconnect)!.body.Ret).toBe(1100);
  });
});
