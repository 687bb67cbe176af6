// Old sessions and gone devices (issue 11, findings 5 and 6). A device keeps
// two session records, but remembers the fingerprints of the Sids it had
// before, so an old install hears 1101 (replaced: stop) rather than 1100
// (log in again, taking the device back). A device unseen for longer than a
// session lives is forgotten by the retention sweep, sessions and all, and an
// account keeps at most maxDeviceRecordsPerAccount device records.
import { describe, expect, it } from 'vitest';
import { Op } from '../../server/wire/packet.ts';
import { STORES } from '../harness/crash-store.ts';
import { OK } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';

describe.each(STORES)('superseded sessions (%s)', (store) => {
  const harness = useHarness();

  it('the Sid of a session deleted by later logins of its device answers 1101 everywhere, not 1100', () => {
    const h = harness({ store });
    h.register('dora');
    const first = h.login('dora', 'dora-phone');
    for (let i = 0; i < 5; i++) h.login('dora', 'dora-phone');
    expect(h.store.read({ kind: 'session', sid: first.sid })).toBeUndefined();
    const replaced = { Ret: 1101, ErrMsg: 'session replaced by a newer login of this device' };
    expect(h.unchanged(() => h.sync(first)).BaseResponse).toEqual(replaced);
    expect(h.unchanged(() => h.send(first, 'dora', 'x')).BaseResponse).toEqual(replaced);
    expect(h.syncCheckResult(h.synccheck(first))).toEqual({ retcode: '1101', selector: '0' });
    const link = h.openLink();
    expect(link.resume(first).BaseResponse.Ret).toBe(1101);
    expect(link.last(Op.Disconnect)!.body.Ret).toBe(1101);
  });

  it('after a logout too, and only for the device it belonged to; a made-up Sid stays unknown (1100)', () => {
    const h = harness({ store });
    h.register('dora');
    const first = h.login('dora', 'dora-phone');
    const second = h.login('dora', 'dora-phone');
    h.logout(second); // deletes the first session (the one before the logged-out one)
    expect(h.sync(first).BaseResponse.Ret).toBe(1101);
    const tablet = h.login('dora', 'dora-tablet');
    expect(h.sync({ ...first, deviceId: tablet.deviceId }).BaseResponse.Ret).toBe(1100);
    expect(h.sync({ ...first, sid: 'AAAAAAAAAAAAAAAAAAAAAA' }).BaseResponse.Ret).toBe(1100);
  });

  it('remembers retiredSidsPerDevice Sids: an install older than that hears 1100', () => {
    const h = harness({ store, core: { retiredSidsPerDevice: 2 } });
    h.register('dora');
    const sessions = [h.login('dora', 'dora-phone')];
    for (let i = 0; i < 4; i++) sessions.push(h.login('dora', 'dora-phone'));
    // Five logins: the newest is current, the one before is replaced, three were deleted, two remembered.
    expect(sessions.map((s) => h.sync(s).BaseResponse.Ret)).toEqual([1100, 1101, 1101, 1101, 0]);
    expect(h.deviceRecord(sessions[4]!)!.retiredSids).toHaveLength(2);
  });
});

describe.each(STORES)('gone devices (%s)', (store) => {
  const harness = useHarness();

  it('the sweep forgets a device unseen for longer than sessionTtlMs, with its sessions; live ones stay', () => {
    const h = harness({ store, core: { sessionTtlMs: 5_000, lastSeenGranularityMs: 1, sweepAccountIntervalMs: 1_000 }, node: { sweepIntervalMs: 1_000 } });
    h.register('erin');
    const old = h.login('erin', 'erin-old');
    const replaced = h.login('erin', 'erin-phone');
    const phone = h.login('erin', 'erin-phone');
    for (let i = 0; i < 7; i++) {
      h.advance(1_000);
      expect(h.sync(phone).BaseResponse).toEqual(OK);
    }
    expect(h.deviceRecord(old)).toBeUndefined();
    expect(h.store.read({ kind: 'session', sid: old.sid })).toBeUndefined();
    expect(h.deviceRecord(phone)?.sid).toBe(phone.sid);
    expect(h.store.read({ kind: 'session', sid: replaced.sid })?.state).toBe('replaced');
    // The gone device may come back: it logs in as a new device.
    expect(h.sync(old).BaseResponse.Ret).toBe(1100);
    const back = h.login('erin', 'erin-old');
    expect(h.sync(back).BaseResponse).toEqual(OK);
  });

  it('an account keeps maxDeviceRecordsPerAccount device records: a new device drops the least recently seen one that is not live', () => {
    const h = harness({ store, core: { maxDevicesPerAccount: 2, maxDeviceRecordsPerAccount: 3 } });
    h.register('finn');
    const devs = ['d1', 'd2', 'd3'].map((id) => {
      const d = h.login('finn', id);
      h.advance(10);
      expect(h.logout(d).BaseResponse).toEqual(OK);
      return d;
    });
    h.login('finn', 'd4');
    const uin = devs[0]!.uin;
    expect(h.store.read({ kind: 'devicesOf', uin }).map((d) => d.deviceId)).toEqual(['d2', 'd3', 'd4']);
    expect(h.store.read({ kind: 'session', sid: devs[0]!.sid })).toBeUndefined();
    expect(h.sync(devs[1]!).BaseResponse.Ret).toBe(1101);
  });
});
