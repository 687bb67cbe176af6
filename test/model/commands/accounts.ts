// Account commands: register, and login with its retried or late duplicate
// ClientLoginIds.
import { expect } from 'vitest';
import { DEFAULT_CORE_CONFIG } from '../../../server/core/config.ts';
import { PASSWORD, type Harness } from '../../harness/core-harness.ts';
import { expectRet, settle } from '../model-checks.ts';
import { deviceIdOf, devKey, keyOf, uins, type Cmd, type Key, type Model } from '../reference-model.ts';

export class Register implements Cmd {
  constructor(readonly name: string) {}
  check(): boolean {
    return true;
  }
  run(m: Model, h: Harness): void {
    const s = m.server;
    const taken = s.accounts.has(this.name);
    const uin = s.nextUin + 1;
    if (!taken) {
      s.nextUin = uin;
      s.accounts.set(this.name, { uin, seq: 0, items: [] });
    }
    const req = h.post('register', { UserName: this.name, Password: PASSWORD });
    m.pending.push({
      req,
      what: this.toString(),
      check: (b) => {
        expectRet(b, taken ? 1104 : 0, this.toString());
        if (!taken) expect(b.Uin).toBe(uin);
      },
    });
    settle(m, h);
  }
  toString(): string {
    return `register(${this.name})`;
  }
}

export class Login implements Cmd {
  constructor(
    readonly name: string,
    readonly slot: number,
    /** Repeat one of the device's ClientLoginIds, counted back from the last (a retried, or a late duplicate, login). */
    readonly retry: number | undefined,
  ) {}
  check(m: Model): boolean {
    return this.retry === undefined || (m.clients.get(devKey(this.name, this.slot))?.loginIds.length ?? 0) > 0;
  }
  run(m: Model, h: Harness): void {
    const key = devKey(this.name, this.slot);
    let c = m.clients.get(key);
    if (!c) m.clients.set(key, (c = { account: this.name, deviceId: deviceIdOf(this.name, this.slot), key: { 1: 0, 2: 0 }, olderKeys: [], stale: [], loginIds: [] }));
    const client = c;
    const ids = client.loginIds;
    if (this.retry === undefined) ids.push(`${client.deviceId}-L${++m.nextLoginId}`);
    const loginId = this.retry === undefined ? ids[ids.length - 1]! : ids[ids.length - 1 - (this.retry % ids.length)]!;
    const s = m.server;
    const account = s.accounts.get(this.name);
    let expected: { ret: number; n?: number; acked?: Key; uin?: number };
    if (!account) {
      expected = { ret: 1103 };
    } else {
      const dev = s.devices.get(key);
      const made = s.logins.get(`${key}\u0000${loginId}`);
      if (made !== undefined && dev && made === dev.session && s.sessions.get(made) === 'active') {
        expected = { ret: 0, n: made, acked: { ...dev.acked }, uin: account.uin };
      } else if (made !== undefined && s.sessions.get(made) !== 'active') {
        expected = { ret: 1101 };
      } else {
        const n = ++m.logins;
        if (dev) s.sessions.set(dev.session, 'replaced');
        const retired = dev ? [...dev.retired] : [];
        if (dev?.prev !== undefined) {
          // Deleted, but the device remembers it (1101) until retiredSidsPerDevice newer ones push it out (1100).
          s.sessions.set(dev.prev, 'deleted');
          retired.push(dev.prev);
          if (retired.length > DEFAULT_CORE_CONFIG.retiredSidsPerDevice) s.sessions.set(retired.shift()!, 'forgotten');
        }
        s.sessions.set(n, 'active');
        s.logins.set(`${key}\u0000${loginId}`, n);
        const acked = dev ? dev.acked : { 1: 0, 2: 0 };
        s.devices.set(key, dev ? { session: n, prev: dev.session, retired, acked } : { session: n, retired, acked });
        expected = { ret: 0, n, acked: { ...acked }, uin: account.uin };
      }
    }
    const req = h.post('manualauth', { UserName: this.name, Password: PASSWORD, DeviceID: client.deviceId, ClientLoginId: loginId });
    m.pending.push({
      req,
      what: this.toString(),
      check: (b) => {
        expectRet(b, expected.ret, this.toString());
        if (expected.ret !== 0) return;
        expect(keyOf(b.SyncKey), `${this} answers the acknowledged position`).toEqual(expected.acked);
        expect(b.Uin).toBe(expected.uin);
        uins.set(client, b.Uin);
        if (client.session && client.session.n === expected.n) {
          expect(b.Sid, `${this} gets the session that login made`).toBe(client.session.sid);
          return;
        }
        if (client.session) client.stale.push({ n: client.session.n, sid: client.session.sid, skey: client.session.skey });
        client.session = { n: expected.n!, sid: b.Sid, skey: b.Skey };
        // A new session starts from the answered key, as a client that merges by maximum does.
        client.key = { 1: Math.max(client.key[1], expected.acked![1]), 2: Math.max(client.key[2], expected.acked![2]) };
      },
    });
    settle(m, h);
  }
  toString(): string {
    return `login(${this.name}#${this.slot}${this.retry !== undefined ? `, retry ${this.retry}` : ''})`;
  }
}
