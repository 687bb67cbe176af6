// Bad registrations and logins: bad user names (1102), a taken name (1104),
// a wrong password and an unknown user (the same 1103 answer), too many
// devices (1108). Each changes nothing in the store.
import { describe, expect, it } from 'vitest';
import { Op } from '../../server/wire/packet.ts';
import { PASSWORD } from '../harness/core-harness.ts';
import { STORES } from '../harness/crash-store.ts';
import { OK } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';

describe.each(STORES)('bad accounts (%s)', (store) => {
  const harness = useHarness();

  it('bad register names and fields are 1102 and change nothing', () => {
    const h = harness({ store });
    h.user('alice');
    const names: unknown[] = ['', 'a b', 'x'.repeat(33), '@@1', '@alice', 'bob!', 'ünï', 'a.b', 'tab\t', 5, null, ['bob'], { n: 1 }];
    for (const name of names) {
      const r = h.unchanged(() => h.call('register', { UserName: name, Password: PASSWORD }));
      expect(r.BaseResponse.Ret, JSON.stringify(name)).toBe(1102);
      expect(r.Uin).toBeUndefined();
    }
    for (const [what, body] of [
      ['UserName missing', { Password: PASSWORD }],
      ['Password missing', { UserName: 'bob' }],
      ['Password empty', { UserName: 'bob', Password: '' }],
      ['Password a number', { UserName: 'bob', Password: 1234 }],
      ['Password too long', { UserName: 'bob', Password: 'p'.repeat(129) }],
      ['NickName a number', { UserName: 'bob', Password: PASSWORD, NickName: 5 }],
      ['NickName too long', { UserName: 'bob', Password: PASSWORD, NickName: 'n'.repeat(65) }],
    ] as const) {
      expect(h.unchanged(() => h.call('register', body)).BaseResponse.Ret, what).toBe(1102);
    }
    // The longest legal name works.
    expect(h.register('x'.repeat(32))).toBeGreaterThan(0);
    expect(h.register('A-b_9')).toBeGreaterThan(0);
  });

  it('a duplicate user name is 1104 and changes nothing', () => {
    const h = harness({ store });
    h.user('alice');
    const r = h.unchanged(() => h.call('register', { UserName: 'alice', Password: 'other' }));
    expect(r.BaseResponse.Ret).toBe(1104);
    expect(r.Uin).toBeUndefined();
    // The original password still logs in.
    expect(h.login('alice').sid).toBeTruthy();
  });

  it('a wrong password and an unknown user get the same answer, 1103, and change nothing', () => {
    const h = harness({ store });
    h.user('alice');
    const wrong = h.unchanged(() => h.manualauth('alice', 'e100000000000009', 'wrong password'));
    const unknown = h.unchanged(() => h.manualauth('nobody', 'e100000000000009', 'wrong password'));
    const unknownRight = h.unchanged(() => h.manualauth('nobody', 'e100000000000009', PASSWORD));
    expect(wrong).toEqual({ BaseResponse: { Ret: 1103, ErrMsg: expect.any(String) } });
    expect(unknown).toEqual(wrong);
    expect(unknownRight).toEqual(wrong);
    // The same over the long link.
    const l1 = h.openLink();
    const l2 = h.openLink();
    const viaLink1 = h.unchanged(() => l1.auth({ UserName: 'alice', Password: 'nope', DeviceID: 'e1' }));
    const viaLink2 = h.unchanged(() => l2.auth({ UserName: 'nobody', Password: 'nope', DeviceID: 'e1' }));
    expect(viaLink1).toEqual(wrong);
    expect(viaLink2).toEqual(wrong);
    expect(l1.last(Op.Disconnect)!.body).toEqual(l2.last(Op.Disconnect)!.body);
    expect(l1.closed && l2.closed).toBe(true);
  });

  it('malformed logins are 1102 and change nothing', () => {
    const h = harness({ store });
    h.user('alice');
    for (const [what, body] of [
      ['DeviceID missing', { UserName: 'alice', Password: PASSWORD }],
      ['DeviceID with spaces', { UserName: 'alice', Password: PASSWORD, DeviceID: 'e 1' }],
      ['DeviceID too long', { UserName: 'alice', Password: PASSWORD, DeviceID: 'e'.repeat(65) }],
      ['DeviceID a number', { UserName: 'alice', Password: PASSWORD, DeviceID: 1 }],
      ['Password missing', { UserName: 'alice', DeviceID: 'e1' }],
      ['UserName a group', { UserName: '@@1', Password: PASSWORD, DeviceID: 'e1' }],
    ] as const) {
      expect(h.unchanged(() => h.call('manualauth', body)).BaseResponse.Ret, what).toBe(1102);
    }
  });

  it('too many devices is 1108 and changes nothing; a known device may log in again; logout frees a place', () => {
    const h = harness({ store, core: { maxDevicesPerAccount: 2 } });
    h.register('alice');
    const d1 = h.login('alice', 'e100000000000001');
    h.login('alice', 'e100000000000002');
    const r = h.unchanged(() => h.manualauth('alice', 'e100000000000003'));
    expect(r.BaseResponse.Ret).toBe(1108);
    expect(r.Sid).toBeUndefined();
    const link = h.openLink();
    expect(h.unchanged(() => link.auth({ UserName: 'alice', Password: PASSWORD, DeviceID: 'e100000000000003' })).BaseResponse.Ret).toBe(1108);
    expect(link.closed).toBe(true);
    // A device already counted logs in again.
    const again = h.login('alice', 'e100000000000002');
    expect(h.sync(again).BaseResponse).toEqual(OK);
    expect(h.logout(d1).BaseResponse).toEqual(OK);
    expect(h.login('alice', 'e100000000000003').sid).toBeTruthy();
  });
});
