// Bad sessions: an unknown Sid, a replaced or logged-out session, another
// account's Sid (answered exactly like an unknown one), a malformed
// BaseRequest. Each gets its documented Ret and changes nothing in the store.
import { describe, expect, it } from 'vitest';
import { Op } from '../../server/wire/packet.ts';
import type { Harness } from '../harness/core-harness.ts';
import { STORES } from '../harness/crash-store.ts';
import { OK, type Dev } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';

const UNKNOWN = { Ret: 1100, ErrMsg: 'unknown or expired session' };

/** Every authenticated HTTP command with this BaseRequest; their answers. */
function everyCommand(h: Harness, base: unknown, key: unknown): Record<string, any> {
  return {
    webwxinit: h.call('webwxinit', { BaseRequest: base }),
    webwxsync: h.call('webwxsync', { BaseRequest: base, SyncKey: key, rr: 1 }),
    webwxsendmsg: h.call('webwxsendmsg', {
      BaseRequest: base,
      Msg: { ClientMsgId: '99', LocalID: '99', FromUserName: '', ToUserName: 'bob', Type: 1, Content: 'x' },
      Scene: 0,
    }),
    webwxcreatechatroom: h.call('webwxcreatechatroom', { BaseRequest: base, MemberCount: 1, MemberList: [{ UserName: 'bob' }], Topic: 't' }),
    webwxoplog: h.call('webwxoplog', { BaseRequest: base, CmdId: 2, UserName: 'bob', RemarkName: 'r' }),
    webwxlogout: h.call('webwxlogout', { BaseRequest: base }),
  };
}

function expectAll(answers: Record<string, any>, base: { Ret: number; ErrMsg?: string }): void {
  for (const [endpoint, r] of Object.entries(answers)) {
    if (base.ErrMsg === undefined) expect(r.BaseResponse.Ret, endpoint).toBe(base.Ret);
    else expect(r, endpoint).toEqual({ BaseResponse: base });
  }
}

function setup(h: Harness): { alice: Dev; bob: Dev } {
  const alice = h.user('alice');
  const bob = h.user('bob');
  h.sendOk(bob, 'alice', 'for alice only');
  h.oplog(bob, 'alice', 'secret remark');
  return { alice, bob };
}

describe.each(STORES)('bad sessions (%s)', (store) => {
  const harness = useHarness();

  it('an unknown Sid gets 1100 on every endpoint, synccheck and the long link, and changes nothing', () => {
    const h = harness({ store });
    const { alice } = setup(h);
    const fake = { ...alice, sid: 'AAAAAAAAAAAAAAAAAAAAAA' };
    const answers = h.unchanged(() => everyCommand(h, h.base(fake), alice.key));
    expectAll(answers, UNKNOWN);
    expect(h.unchanged(() => h.syncCheckResult(h.synccheck(fake)))).toEqual({ retcode: '1100', selector: '0' });
    const link = h.openLink();
    const r = h.unchanged(() => link.resume(fake));
    expect(r).toEqual({ BaseResponse: UNKNOWN });
    expect(link.last(Op.Disconnect)!.body.Ret).toBe(1100);
    expect(link.closed).toBe(true);
  });

  it('another account\'s Sid answers exactly like an unknown one, in every combination, and changes nothing', () => {
    const h = harness({ store });
    const { alice, bob } = setup(h);
    const unknown = h.unchanged(() => everyCommand(h, { ...h.base(alice), Sid: 'AAAAAAAAAAAAAAAAAAAAAA' }, alice.key));
    const mixes: Array<[string, Dev]> = [
      ['alice\'s Uin with bob\'s Sid', { ...alice, sid: bob.sid }],
      ['alice\'s Uin with bob\'s Sid and Skey', { ...alice, sid: bob.sid, skey: bob.skey }],
      ['alice\'s Uin with bob\'s Sid, Skey and DeviceID', { ...bob, uin: alice.uin }],
      ['bob\'s Uin and Sid with alice\'s Skey', { ...bob, skey: alice.skey }],
    ];
    for (const [what, dev] of mixes) {
      const answers = h.unchanged(() => everyCommand(h, h.base(dev), alice.key));
      expect(answers, what).toEqual(unknown);
      expectAll(answers, UNKNOWN);
      expect(h.unchanged(() => h.syncCheckResult(h.synccheck(dev))), what).toEqual({ retcode: '1100', selector: '0' });
      // The long link authenticates by {Uin, Sid, DeviceID} only: no Skey.
      if (dev.uin === bob.uin && dev.sid === bob.sid && dev.deviceId === bob.deviceId) continue;
      const link = h.openLink();
      expect(h.unchanged(() => link.resume(dev)), what).toEqual({ BaseResponse: UNKNOWN });
    }
    // Bob's Uin and Sid with alice's DeviceID: over HTTP that is bob (a web-shaped device is named by its Sid,
    // docs/protocol.md 2.1), so only the long link, which checks the DeviceID, is asked.
    const link = h.openLink();
    expect(h.unchanged(() => link.resume({ ...bob, deviceId: alice.deviceId }))).toEqual({ BaseResponse: UNKNOWN });
    // Nothing of bob's reached anyone through alice, nor the other way round.
    expect(h.drain(alice).messages.map((m) => m.Content)).toEqual(['for alice only']);
  });

  it('another account\'s replaced session answers like an unknown one, not 1101', () => {
    const h = harness({ store });
    const { alice, bob } = setup(h);
    h.login('bob', bob.deviceId); // bob's old session is now replaced
    const answers = h.unchanged(() => everyCommand(h, h.base({ ...alice, sid: bob.sid }), alice.key));
    expectAll(answers, UNKNOWN);
    expect(h.sync(bob).BaseResponse.Ret).toBe(1101); // to bob himself it is 1101
  });

  it('a replaced session gets 1101 on every endpoint and changes nothing', () => {
    const h = harness({ store });
    const { alice } = setup(h);
    h.login('alice', alice.deviceId);
    const answers = h.unchanged(() => everyCommand(h, h.base(alice), alice.key));
    expectAll(answers, { Ret: 1101 });
    expect(h.unchanged(() => h.syncCheckResult(h.synccheck(alice)))).toEqual({ retcode: '1101', selector: '0' });
  });

  it('a logged-out session gets 1101 on every endpoint and changes nothing', () => {
    const h = harness({ store });
    const { alice } = setup(h);
    expect(h.logout(alice).BaseResponse).toEqual(OK);
    const answers = h.unchanged(() => everyCommand(h, h.base(alice), alice.key));
    expectAll(answers, { Ret: 1101 });
  });

  it('a wrong or missing Skey is 1100 and changes nothing', () => {
    const h = harness({ store });
    const { alice } = setup(h);
    for (const skey of ['WRONG', '', undefined]) {
      const base = { ...h.base(alice), Skey: skey };
      expectAll(h.unchanged(() => everyCommand(h, base, alice.key)), UNKNOWN);
    }
    expect(h.unchanged(() => h.syncCheckResult(h.synccheck(alice, alice.key, { skey: 'WRONG' })))).toEqual({ retcode: '1100', selector: '0' });
  });

  it('a malformed BaseRequest (missing, wrong types) is 1102 on every endpoint and changes nothing', () => {
    const h = harness({ store });
    const { alice } = setup(h);
    const b = h.base(alice);
    const bases: Array<[string, unknown]> = [
      ['missing', undefined],
      ['null', null],
      ['an array', [b.Uin, b.Sid, b.Skey, b.DeviceID]],
      ['a string', 'uin=1'],
      ['Uin as a string', { ...b, Uin: String(b.Uin) }],
      ['Sid as a number', { ...b, Sid: 12345 }],
      ['DeviceID missing', { Uin: b.Uin, Sid: b.Sid, Skey: b.Skey }],
      ['Uin missing', { Sid: b.Sid, Skey: b.Skey, DeviceID: b.DeviceID }],
    ];
    for (const [what, base] of bases) {
      const answers = h.unchanged(() => everyCommand(h, base, alice.key));
      for (const [endpoint, r] of Object.entries(answers)) expect(r.BaseResponse.Ret, `${what}: ${endpoint}`).toBe(1102);
    }
  });

  it('synccheck with missing or malformed parameters is 1102 and changes nothing', () => {
    const h = harness({ store });
    const { alice } = setup(h);
    const cases: Array<Record<string, string | undefined>> = [
      { sid: undefined },
      { uin: undefined },
      { uin: 'abc' },
      { uin: '-1' },
      { uin: '99999999999' },
      { deviceid: undefined },
      { skey: undefined },
      { synckey: undefined },
    ];
    for (const over of cases) {
      expect(h.unchanged(() => h.syncCheckResult(h.synccheck(alice, alice.key, over))), JSON.stringify(over)).toEqual({ retcode: '1102', selector: '0' });
    }
  });

  it('an expired session is 1100 and changes nothing', () => {
    const h = harness({ store, core: { sessionTtlMs: 1_000 } });
    const { alice } = setup(h);
    h.advance(1_001);
    expectAll(h.unchanged(() => everyCommand(h, h.base(alice), alice.key)), UNKNOWN);
  });

  it('a long link that sends before auth is closed with 1100 and changes nothing', () => {
    const h = harness({ store });
    const { alice } = setup(h);
    for (const op of [Op.Send, Op.Sync]) {
      const link = h.openLink();
      h.unchanged(() => link.send(op, 1, op === Op.Sync ? { SyncKey: alice.key } : h.msg(alice, 'bob', 'x')));
      expect(link.last(Op.Disconnect)!.body.Ret).toBe(1100);
      expect(link.closed).toBe(true);
    }
  });
});
