// Password hashing as jobs for the driver (issue 11, item 4): the node asks
// for every hash with a `hash` action and answers a register or a login only
// after hashDone; at most maxHashJobs are out (one more answers Busy with a
// retry-after hint, on HTTP and on op 8); failed logins are throttled per
// address and per user name with growing waits (1112, without hashing); a
// correct password after the wait gets in; registrations are limited per
// address; the tables stay bounded.
import { describe, expect, it } from 'vitest';
import type { HashResult } from '../../server/core/deps.ts';
import { runHashWork, scryptHasher } from '../../server/core/password.ts';
import { Ret } from '../../server/core/ret.ts';
import type { HashAction } from '../../server/node/hash-jobs.ts';
import { PATHS } from '../../server/node/http-api.ts';
import type { NodeConfig } from '../../server/node/node-config.ts';
import { addressKey } from '../../server/node/remote-address.ts';
import { ServerNode } from '../../server/node/server-node.ts';
import { MemoryStore } from '../../server/store/memory-store.ts';
import { NodeOutputs } from '../harness/node-outputs.ts';
import { Op, decodeJsonBody, encodeJsonPacket } from '../../server/wire/packet.ts';

const HASHER = scryptHasher(2, 1, 1);
const T0 = 1_700_000_000_000;
const PW = 'right-password';

/** A node driven by hand: hash jobs wait until the test answers them. */
class Rig {
  readonly store = new MemoryStore();
  readonly node: ServerNode;
  private readonly outputs = new NodeOutputs();
  readonly hashes = this.outputs.hashes;
  readonly answers = this.outputs.answers;
  readonly linkPackets = this.outputs.packets;
  readonly closed = this.outputs.closed;
  now = T0;
  private nextReq = 1;

  constructor(node: Partial<NodeConfig> = {}) {
    this.node = new ServerNode({ store: this.store, random: { bytes: (n) => new Uint8Array(n).fill(7) }, hasher: HASHER, out: this.outputs.on, node });
  }

  /** An HTTP request, flushed as a server would after the input. */
  post(endpoint: 'register' | 'manualauth', body: unknown, remote = '198.51.100.1'): number {
    const req = this.nextReq++;
    this.node.httpRequest(req, 'POST', PATHS[endpoint], JSON.stringify(body), remote, this.now);
    this.node.flush(this.now);
    return req;
  }

  login(userName: string, password: string, remote?: string): number {
    return this.post('manualauth', { UserName: userName, Password: password, DeviceID: 'dev1' }, remote);
  }

  /** Answer every hash job out, as a driver's thread pool would, then flush. */
  hashAll(override?: (a: HashAction) => HashResult | null): void {
    for (const h of this.hashes.splice(0)) this.node.hashDone(h.job, override ? override(h) : runHashWork(HASHER, h.work), this.now);
    this.node.flush(this.now);
  }

  /** Register `userName` and wait for its hash. */
  account(userName: string, remote = '192.0.2.200'): void {
    const req = this.post('register', { UserName: userName, Password: PW }, remote);
    this.hashAll();
    expect(this.ret(req)).toBe(Ret.Ok);
  }

  ret(req: number): number | undefined {
    return this.answers.get(req)?.BaseResponse.Ret;
  }

  errMsg(req: number): string {
    return this.answers.get(req).BaseResponse.ErrMsg;
  }

  /** A login that is hashed at once: its Ret. */
  attempt(userName: string, password: string, remote?: string): number | undefined {
    const req = this.login(userName, password, remote);
    this.hashAll();
    return this.ret(req);
  }
}

const hint = (errMsg: string): number => Number(/retry after (\d+) ms$/.exec(errMsg)?.[1]);

describe('hash jobs', () => {
  it('register and login ask the driver for a hash and answer only after hashDone', () => {
    const r = new Rig();
    const reg = r.post('register', { UserName: 'alice', Password: PW });
    expect(r.hashes).toHaveLength(1);
    expect(r.hashes[0]!.work).toMatchObject({ op: 'hash', password: PW });
    r.node.flush(r.now);
    expect(r.answers.has(reg)).toBe(false);
    r.hashAll();
    expect(r.ret(reg)).toBe(Ret.Ok);

    const login = r.login('alice', PW);
    expect(r.hashes.map((h) => h.work.op)).toEqual(['verify']);
    r.node.flush(r.now);
    expect(r.answers.has(login)).toBe(false);
    expect(r.node.stats().hashJobs).toBe(1);
    r.hashAll();
    expect(r.ret(login)).toBe(Ret.Ok);
    expect(r.answers.get(login).Sid).toEqual(expect.any(String));
    expect(r.node.stats().hashJobs).toBe(0);

    expect(r.attempt('alice', 'wrong')).toBe(Ret.AuthFailed);
    // An unknown name is verified too (against the dummy hash), and answers like a wrong password.
    const unknown = r.login('nobody', PW);
    expect(r.hashes).toHaveLength(1);
    r.hashAll();
    expect(r.ret(unknown)).toBe(Ret.AuthFailed);
  });

  it('a failed hash answers Ret 1; an unknown or repeated job number changes nothing', () => {
    const r = new Rig();
    r.account('alice');
    const req = r.login('alice', PW);
    const job = r.hashes[0]!.job;
    r.hashAll(() => null);
    expect(r.ret(req)).toBe(Ret.ServerError);
    r.node.hashDone(job, true, r.now);
    r.node.hashDone(9999, true, r.now);
    r.node.flush(r.now);
    expect(r.answers.size).toBe(2);
    // A result of the wrong kind is a failed hash, not a verdict.
    const again = r.login('alice', PW);
    r.hashAll(() => 'not a verdict');
    expect(r.ret(again)).toBe(Ret.ServerError);
  });

  it('the second half counts the password only against the hash it verified', () => {
    const r = new Rig();
    r.account('alice');
    const req = r.login('alice', PW);
    // The stored hash changes while the job is out (as a password change would).
    const a = r.store.read({ kind: 'accountByName', userName: 'alice' })!;
    r.store.begin();
    r.store.apply([{ kind: 'putAccount', account: { ...a, passwordHash: HASHER.hash('new-password', new Uint8Array(16)) } }]);
    r.store.commit();
    r.hashAll();
    expect(r.ret(req)).toBe(Ret.AuthFailed);
  });

  it('a name taken by a register not yet committed is refused only after the commit', () => {
    const r = new Rig();
    const first = r.post('register', { UserName: 'alice', Password: PW });
    for (const h of r.hashes.splice(0)) r.node.hashDone(h.job, runHashWork(HASHER, h.work), r.now);
    // No flush yet: the account is in the open batch.
    const req = 99;
    r.node.httpRequest(req, 'POST', PATHS.register, JSON.stringify({ UserName: 'alice', Password: PW }), '198.51.100.2', r.now);
    expect(r.answers.has(req)).toBe(false);
    r.node.flush(r.now);
    expect(r.ret(first)).toBe(Ret.Ok);
    expect(r.ret(req)).toBe(Ret.UserNameTaken);
  });
});

describe('admission', () => {
  it('past maxHashJobs a login or register answers Busy at once, with a retry-after hint and no job', () => {
    const r = new Rig({ maxHashJobs: 2, hashBusyRetryMs: 1500 });
    r.account('alice');
    const a = r.login('alice', PW);
    const b = r.login('alice', PW, '198.51.100.2');
    const c = r.login('alice', PW, '198.51.100.3');
    const d = r.post('register', { UserName: 'bob', Password: PW }, '198.51.100.4');
    expect(r.hashes).toHaveLength(2);
    expect([r.ret(c), r.ret(d)]).toEqual([Ret.Busy, Ret.Busy]);
    expect(hint(r.errMsg(c))).toBe(1500);
    r.hashAll();
    expect([r.ret(a), r.ret(b)]).toEqual([Ret.Ok, Ret.Ok]);
    // A slot is free again.
    expect(r.attempt('alice', PW)).toBe(Ret.Ok);
  });

  it('on the long link, op 8 says Busy with the hint, then op 6 closes the link', () => {
    const r = new Rig({ maxHashJobs: 1 });
    r.account('alice');
    r.login('alice', PW);
    r.node.linkOpened(1, 'tcp', '198.51.100.9', r.now);
    r.node.linkData(1, encodeJsonPacket(Op.Auth, 1, { UserName: 'alice', Password: PW, DeviceID: 'dev2' }), r.now);
    const [reply, bye] = r.linkPackets.get(1)!;
    expect(reply!.op).toBe(Op.AuthReply);
    const body = decodeJsonBody(reply!) as { BaseResponse: { Ret: number; ErrMsg: string } };
    expect(body.BaseResponse.Ret).toBe(Ret.Busy);
    expect(hint(body.BaseResponse.ErrMsg)).toBe(1000);
    expect(bye!.op).toBe(Op.Disconnect);
    expect(r.closed.has(1)).toBe(true);
    expect(r.hashes).toHaveLength(1);
  });

  it('a long link authenticates by password after its hash job', () => {
    const r = new Rig();
    r.account('alice');
    r.node.linkOpened(1, 'tcp', '198.51.100.9', r.now);
    r.node.linkData(1, encodeJsonPacket(Op.Auth, 1, { UserName: 'alice', Password: PW, DeviceID: 'dev2' }), r.now);
    r.node.flush(r.now);
    expect(r.linkPackets.get(1)).toBeUndefined();
    // A heartbeat while the hash is out is answered before the auth.
    r.node.linkData(1, encodeJsonPacket(Op.Heartbeat, 2, {}), r.now);
    r.hashAll();
    const [beat, reply] = r.linkPackets.get(1)!;
    expect(beat!.op).toBe(Op.HeartbeatReply);
    expect(reply!.op).toBe(Op.AuthReply);
    expect((decodeJsonBody(reply!) as { BaseResponse: { Ret: number } }).BaseResponse.Ret).toBe(Ret.Ok);
  });
});

describe('failed logins', () => {
  const rule = { loginFreeFailuresPerAddress: 3, loginDelayBaseMs: 1000, loginMaxDelayPerAddressMs: 8000, loginFreeFailuresPerAccount: 1000 };

  it('per address: after the free failures each next attempt waits twice as long, up to the cap, answered 1112 without hashing', () => {
    const r = new Rig(rule);
    r.account('alice');
    const at = '203.0.113.5';
    for (let i = 0; i < 3; i++) expect(r.attempt('alice', `guess-${i}`, at)).toBe(Ret.AuthFailed);
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const req = r.login('alice', `guess-x${i}`, at);
      expect(r.ret(req)).toBe(Ret.TooManyAttempts);
      expect(r.hashes).toHaveLength(0);
      const w = hint(r.errMsg(req));
      waits.push(w);
      // One millisecond early is still too early, and does not lengthen the wait.
      r.now += w - 1;
      expect(r.attempt('alice', 'early', at)).toBe(Ret.TooManyAttempts);
      r.now += 1;
      expect(r.attempt('alice', `guess-y${i}`, at)).toBe(Ret.AuthFailed);
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    // Another address is not slowed by this one.
    expect(r.attempt('alice', PW, '203.0.113.6')).toBe(Ret.Ok);
  });

  it('a correct password after the wait gets in', () => {
    const r = new Rig(rule);
    r.account('alice');
    const at = '203.0.113.5';
    for (let i = 0; i < 4; i++) r.attempt('alice', `guess-${i}`, at);
    const refused = r.login('alice', PW, at);
    expect(r.ret(refused)).toBe(Ret.TooManyAttempts);
    r.now += hint(r.errMsg(refused));
    expect(r.attempt('alice', PW, at)).toBe(Ret.Ok);
  });

  it('failures are forgotten loginFailureMemoryMs after the last one', () => {
    const r = new Rig({ ...rule, loginFailureMemoryMs: 60_000 });
    r.account('alice');
    const at = '203.0.113.5';
    for (let i = 0; i < 3; i++) r.attempt('alice', `guess-${i}`, at);
    expect(r.ret(r.login('alice', 'x', at))).toBe(Ret.TooManyAttempts);
    r.now += 60_000;
    for (let i = 0; i < 3; i++) expect(r.attempt('alice', `again-${i}`, at)).toBe(Ret.AuthFailed);
  });

  it('per account: guesses from many addresses slow the account gently; its owner gets in after the wait, which clears the count', () => {
    const r = new Rig({ loginFreeFailuresPerAccount: 4, loginDelayBaseMs: 1000, loginMaxDelayPerAccountMs: 2000 });
    r.account('alice');
    for (let i = 0; i < 6; i++) {
      // Each guess waits out the account's wait (at most the cap): all six are hashed.
      if (i > 0) r.now += 2000;
      expect(r.attempt('alice', `guess-${i}`, `203.0.113.${i}`)).toBe(Ret.AuthFailed);
    }
    const owner = r.login('alice', PW, '192.0.2.77');
    expect(r.ret(owner)).toBe(Ret.TooManyAttempts);
    // The cap holds whatever the count.
    expect(hint(r.errMsg(owner))).toBeLessThanOrEqual(2000);
    r.now += hint(r.errMsg(owner));
    expect(r.attempt('alice', PW, '192.0.2.77')).toBe(Ret.Ok);
    // The owner got in: the account's failures are forgiven.
    for (let i = 0; i < 4; i++) expect(r.attempt('alice', `later-${i}`, `203.0.113.${50 + i}`)).toBe(Ret.AuthFailed);
    // Unknown names are throttled alike: the answer does not tell which names exist.
    for (let i = 0; i < 4; i++) r.attempt('nobody', `g${i}`, `203.0.113.${90 + i}`);
    expect(r.ret(r.login('nobody', 'g', '203.0.113.99'))).toBe(Ret.TooManyAttempts);
  });

  it('over the long link, a throttled auth answers op 8 with 1112 and its hint', () => {
    const r = new Rig(rule);
    r.account('alice');
    for (let i = 0; i < 3; i++) r.attempt('alice', `guess-${i}`, '203.0.113.5');
    r.node.linkOpened(1, 'tcp', '203.0.113.5', r.now);
    r.node.linkData(1, encodeJsonPacket(Op.Auth, 1, { UserName: 'alice', Password: PW, DeviceID: 'dev2' }), r.now);
    const body = decodeJsonBody(r.linkPackets.get(1)![0]!) as { BaseResponse: { Ret: number; ErrMsg: string } };
    expect(body.BaseResponse.Ret).toBe(Ret.TooManyAttempts);
    expect(hint(body.BaseResponse.ErrMsg)).toBe(1000);
    expect(r.hashes).toHaveLength(0);
  });
});

describe('registrations', () => {
  it('an address may register its burst, then one per refill interval (1112 with the wait); another address is not affected', () => {
    const r = new Rig({ registerBurstPerAddress: 2, registersPerAddressPerHour: 2 });
    const at = '203.0.113.5';
    for (const name of ['a1', 'a2']) {
      const req = r.post('register', { UserName: name, Password: PW }, at);
      r.hashAll();
      expect(r.ret(req)).toBe(Ret.Ok);
    }
    const third = r.post('register', { UserName: 'a3', Password: PW }, at);
    expect(r.ret(third)).toBe(Ret.TooManyAttempts);
    expect(r.hashes).toHaveLength(0);
    expect(hint(r.errMsg(third))).toBe(1_800_000);
    const other = r.post('register', { UserName: 'b1', Password: PW }, '203.0.113.6');
    r.hashAll();
    expect(r.ret(other)).toBe(Ret.Ok);
    r.now += 1_800_000;
    const later = r.post('register', { UserName: 'a3', Password: PW }, at);
    r.hashAll();
    expect(r.ret(later)).toBe(Ret.Ok);
  });
});

describe('bounds', () => {
  it('each throttle table holds at most maxThrottleEntries entries', () => {
    const r = new Rig({ maxThrottleEntries: 5 });
    for (let i = 0; i < 40; i++) {
      r.attempt(`user${i}`, 'guess', `203.0.113.${i}`);
      r.post('register', { UserName: `new${i}`, Password: PW }, `198.51.100.${i}`);
      r.hashAll();
    }
    expect(r.node.stats().throttleEntries).toBeLessThanOrEqual(3 * 5);
  });

  it('addresses are counted as IPv4, an IPv4-mapped IPv6 address as its IPv4, and IPv6 by its /64', () => {
    expect(addressKey('203.0.113.5')).toBe('203.0.113.5');
    expect(addressKey('::ffff:203.0.113.5')).toBe('203.0.113.5');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe(addressKey('2001:0db8:0001:0002:ffff:1:2:3'));
    expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'));
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('device-x'.repeat(20)).length).toBe(64);
  });
});
