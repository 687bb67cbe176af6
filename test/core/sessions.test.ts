// Sessions: a second login of the same DeviceID replaces the old session
// (1101 on HTTP, op 6 with Ret 1101 on its long link), logout ends it the same
// way, and Skey rotation accepts the current and the previous key only.
import { describe, expect, it } from 'vitest';
import { Op } from '../../server/wire/packet.ts';
import { STORES } from '../harness/crash-store.ts';
import { OK } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';

describe.each(STORES)('sessions (%s)', (store) => {
  const harness = useHarness();

  it('a second login of the same DeviceID: the old Sid gets 1101 on HTTP and its long link op 6 with Ret 1101', () => {
    const h = harness({ store });
    h.register('alice');
    const old = h.login('alice', 'e100000000000001');
    const link = h.link(old);
    const poll = h.synccheck(old);
    expect(h.syncCheckResult(poll)).toBeUndefined();
    const fresh = h.login('alice', 'e100000000000001');
    expect(fresh.sid).not.toBe(old.sid);

    const bye = link.last(Op.Disconnect);
    expect(bye).toBeDefined();
    expect(bye!.seq).toBe(0);
    expect(bye!.body.Ret).toBe(1101);
    expect(typeof bye!.body.ErrMsg).toBe('string');
    expect(link.closed).toBe(true);
    expect(h.syncCheckResult(poll)).toEqual({ retcode: '1101', selector: '0' });

    for (const r of [h.sync(old), h.init(old), h.send(old, 'alice', 'x'), h.logout(old), h.oplog(old, 'alice', 'me')]) {
      expect(r.BaseResponse.Ret).toBe(1101);
    }
    expect(h.syncCheckResult(h.synccheck(old))).toEqual({ retcode: '1101', selector: '0' });
    // The old session cannot come back over a long link either.
    const l2 = h.openLink();
    expect(l2.resume(old).BaseResponse.Ret).toBe(1101);
    expect(l2.closed).toBe(true);
    // The new session works and keeps the device's position.
    expect(h.sync(fresh).BaseResponse).toEqual(OK);
  });

  it('a long-link login by password replaces the HTTP session of that device', () => {
    const h = harness({ store });
    h.register('alice');
    const web = h.login('alice', 'e100000000000002');
    const link = h.openLink();
    const r = link.auth({ UserName: 'alice', Password: 'correct horse', DeviceID: 'e100000000000002' });
    expect(r.BaseResponse).toEqual(OK);
    expect(r.HeartbeatSec).toBe(240);
    expect(r.Sid).not.toBe(web.sid);
    expect(h.sync(web).BaseResponse.Ret).toBe(1101);
    expect(link.closed).toBe(false);
  });

  it('a newer long link of the same device closes the older one with op 6 Ret 1109; the session stays valid', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const first = h.link(a);
    const second = h.link(a);
    const bye = first.last(Op.Disconnect);
    expect(bye?.body.Ret).toBe(1109);
    expect(first.closed).toBe(true);
    expect(second.closed).toBe(false);
    expect(second.sync(a.key, 2).BaseResponse).toEqual(OK);
    expect(h.sync(a).BaseResponse).toEqual(OK);
  });

  it('other devices of the account are not affected by one device\'s re-login', () => {
    const h = harness({ store });
    h.register('alice');
    const phone = h.login('alice', 'e100000000000001');
    const web = h.login('alice', 'e100000000000002');
    const webLink = h.link(web);
    h.login('alice', 'e100000000000001');
    expect(h.sync(web).BaseResponse).toEqual(OK);
    expect(webLink.closed).toBe(false);
    expect(h.sync(phone).BaseResponse.Ret).toBe(1101);
  });

  it('logout: the session answers 1101 afterwards, its long link and waiting synccheck end with 1101', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const link = h.link(a);
    const poll = h.synccheck(a);
    expect(h.logout(a)).toEqual({ BaseResponse: OK });
    expect(link.last(Op.Disconnect)!.body.Ret).toBe(1101);
    expect(link.closed).toBe(true);
    expect(h.syncCheckResult(poll)).toEqual({ retcode: '1101', selector: '0' });
    for (const r of [h.sync(a), h.init(a), h.send(a, 'alice', 'x'), h.logout(a)]) expect(r.BaseResponse.Ret).toBe(1101);
    expect(h.syncCheckResult(h.synccheck(a))).toEqual({ retcode: '1101', selector: '0' });
    // A new login of the device works and starts from the acknowledged position.
    const again = h.login('alice', a.deviceId);
    expect(h.sync(again).BaseResponse).toEqual(OK);
  });

  it('logout of one device leaves another device\'s waiting synccheck waiting', () => {
    const h = harness({ store });
    h.register('alice');
    const phone = h.login('alice');
    const web = h.login('alice');
    const poll = h.synccheck(web);
    h.logout(phone);
    expect(h.syncCheckResult(poll)).toBeUndefined();
    const bob = h.user('bob');
    h.sendOk(bob, 'alice', 'hi');
    expect(h.syncCheckResult(poll)).toEqual({ retcode: '0', selector: '2' });
  });

  it('Skey rotation: the current and the previous Skey are accepted, an older one gets 1100', () => {
    const h = harness({ store, core: { skeyRotateMs: 1_000 } });
    const a = h.user('alice');
    const s0 = a.skey;
    expect(h.sync(a).SKey).toBe(s0); // not yet due
    h.advance(1_000);
    const r1 = h.sync(a);
    const s1 = r1.SKey as string;
    expect(s1).not.toBe(s0);
    // Both s0 (previous) and s1 (current) work now.
    a.skey = s0;
    expect(h.sync(a).BaseResponse).toEqual(OK);
    expect(a.skey).toBe(s1);
    expect(h.sync(a).BaseResponse).toEqual(OK);
    h.advance(1_000);
    const s2 = h.init(a).SKey as string;
    expect(s2).not.toBe(s1);
    expect(s2).not.toBe(s0);
    // Now s1 is the previous one, s0 is too old.
    for (const [skey, ret] of [
      [s2, 0],
      [s1, 0],
      [s0, 1100],
    ] as const) {
      const r = h.call('webwxsync', { BaseRequest: { ...h.base(a), Skey: skey }, SyncKey: a.key });
      expect(r.BaseResponse.Ret, `Skey ${skey === s0 ? 's0' : skey === s1 ? 's1' : 's2'}`).toBe(ret);
    }
    const old = h.unchanged(() => h.call('webwxsync', { BaseRequest: { ...h.base(a), Skey: s0 }, SyncKey: a.key }));
    expect(old.BaseResponse).toEqual({ Ret: 1100, ErrMsg: 'unknown or expired session' });
    expect(h.syncCheckResult(h.synccheck({ ...a, skey: s0 }))).toEqual({ retcode: '1100', selector: '0' });
    expect(h.send({ ...a, skey: s0 }, 'alice', 'x').BaseResponse.Ret).toBe(1100);
  });

  it('Skey rotation survives a restart', () => {
    const h = harness({ store, core: { skeyRotateMs: 1_000 } });
    const a = h.user('alice');
    const s0 = a.skey;
    h.advance(1_000);
    const s1 = h.sync(a).SKey;
    h.restart();
    expect(h.call('webwxsync', { BaseRequest: { ...h.base(a), Skey: s0 }, SyncKey: a.key }).BaseResponse).toEqual(OK);
    expect(h.call('webwxsync', { BaseRequest: { ...h.base(a), Skey: s1 }, SyncKey: a.key }).BaseResponse).toEqual(OK);
  });

  it('the long link does not need the Skey and keeps working across rotations', () => {
    const h = harness({ store, core: { skeyRotateMs: 1_000 } });
    const a = h.user('alice');
    const link = h.link(a);
    for (let i = 0; i < 3; i++) {
      h.advance(1_000);
      h.sync(a);
    }
    expect(link.sync(a.key, 5).BaseResponse).toEqual(OK);
  });

  it('a session unused for longer than sessionTtlMs is expired (1100)', () => {
    const h = harness({ store, core: { sessionTtlMs: 5_000, lastSeenGranularityMs: 1 } });
    const a = h.user('alice');
    h.advance(4_000);
    expect(h.sync(a).BaseResponse).toEqual(OK);
    h.advance(4_000);
    expect(h.sync(a).BaseResponse).toEqual(OK);
    h.advance(5_001);
    expect(h.sync(a).BaseResponse).toEqual({ Ret: 1100, ErrMsg: 'unknown or expired session' });
    expect(h.login('alice', a.deviceId).sid).toBeTruthy();
  });
});

describe.each(STORES)('session records are bounded (%s)', (store) => {
  const harness = useHarness();

  it('a device keeps its current and previous session; older ones are deleted (their Sid still answers 1101: retired-sessions.test.ts)', () => {
    const h = harness({ store });
    h.register('dora');
    const first = h.login('dora', 'dora-phone');
    const second = h.login('dora', 'dora-phone');
    const third = h.login('dora', 'dora-phone');
    expect(h.sync(third).BaseResponse.Ret).toBe(0);
    expect(h.sync(second).BaseResponse.Ret).toBe(1101);
    expect(h.sync(first).BaseResponse.Ret).toBe(1101);
    expect(h.store.read({ kind: 'session', sid: first.sid })).toBeUndefined();
    expect(h.store.read({ kind: 'session', sid: second.sid })?.state).toBe('replaced');
    expect(h.deviceRecord(third)).toMatchObject({ sid: third.sid, prevSid: second.sid });
    // Logout keeps the logged-out session as the previous one and drops the one before.
    expect(h.logout(third).BaseResponse.Ret).toBe(0);
    expect(h.store.read({ kind: 'session', sid: second.sid })).toBeUndefined();
    expect(h.sync(third).BaseResponse.Ret).toBe(1101);
    expect(h.deviceRecord(third)).toMatchObject({ sid: '', prevSid: third.sid });
  });
});
