// Login, init and session loss of the reference client against a real ServerNode.
import { describe, expect, it } from 'vitest';
import { PATHS } from '../../server/core/http-api.ts';
import { Op } from '../../server/wire/packet.ts';
import { Loopback, assertKeyMonotonic, eventsOf, sentPackets, type Peer } from './loopback.ts';

const LINKS = ['tcp', 'ws'] as const;
const ALL = ['http', 'tcp', 'ws'] as const;

describe('login over HTTP', () => {
  it('posts manualauth, then webwxinit with the session, then long-polls synccheck with the init key', () => {
    const w = new Loopback();
    const uin = w.register('alice');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    w.runFor(10);

    const http = a.actions.filter((x) => x.kind === 'http');
    expect(http.slice(0, 3).map((x) => [x.method, x.url.split('?')[0]])).toEqual([
      ['POST', PATHS.manualauth],
      ['POST', PATHS.webwxinit],
      ['GET', PATHS.synccheck],
    ]);
    expect(JSON.parse(http[0]!.body)).toEqual({ UserName: 'alice', Password: 'pw-alice', DeviceID: 'dev-a' });
    const login = eventsOf(a, 'loggedIn');
    expect(login).toHaveLength(1);
    expect(login[0]!.uin).toBe(uin);
    const sid = login[0]!.sid;
    const init = JSON.parse(http[1]!.body) as { BaseRequest: Record<string, unknown> };
    expect(init.BaseRequest).toEqual({ Uin: uin, Sid: sid, Skey: a.core.session()!.skey, DeviceID: 'dev-a' });
    const q = new URLSearchParams(http[2]!.url.split('?')[1]);
    expect(q.get('sid')).toBe(sid);
    expect(q.get('uin')).toBe(String(uin));
    expect(q.get('deviceid')).toBe('dev-a');
    expect(q.get('synckey')).toBe('1_0|2_0');
    expect(a.core.state).toBe('ready');
    expect(a.core.syncKey()).toEqual([
      [1, 0],
      [2, 0],
    ]);
    // The poll is held by the server: nothing more until it answers.
    expect(a.actions.filter((x) => x.kind === 'http')).toHaveLength(3);
  });

  it('takes the contacts of webwxinit (a group made before this device logged in)', () => {
    const w = new Loopback();
    w.register('alice');
    w.register('bob');
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'http' });
    w.runFor(10);
    b.core.createChatRoom(['alice'], 'lunch', w.now);
    w.runFor(10);
    expect(eventsOf(b, 'groupCreated').map((e) => [e.chatRoomName, e.members])).toEqual([['@@1', ['bob', 'alice']]]);

    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    w.runFor(10);
    expect(a.core.contacts().map((c) => [c.UserName, c.NickName, c.MemberList])).toEqual([['@@1', 'lunch', ['bob', 'alice']]]);
    // Key 2 moved past the group's contact item, through init's key or the first sync.
    expect(a.core.syncKey()[1]![1]).toBeGreaterThan(0);
  });
});

describe.each(LINKS)('login over the long link (%s)', (transport) => {
  it('opens a link, authenticates with op 7 by password, then syncs with op 10', () => {
    const w = new Loopback();
    const uin = w.register('alice');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport });
    w.runFor(10);
    expect(a.actions[0]).toMatchObject({ kind: 'linkOpen', link: 1 });
    const sent = sentPackets(a);
    expect(sent.slice(0, 2).map((p) => [p.link, p.op, p.seq])).toEqual([
      [1, Op.Auth, 1],
      [1, Op.Sync, 2],
    ]);
    expect(sent[0]!.body).toEqual({ UserName: 'alice', Password: 'pw-alice', DeviceID: 'dev-a' });
    expect(sent[1]!.body).toEqual({ SyncKey: { Count: 2, List: [{ Key: 1, Val: 0 }, { Key: 2, Val: 0 }] } });
    expect(eventsOf(a, 'loggedIn').map((e) => e.uin)).toEqual([uin]);
    expect(a.core.state).toBe('ready');
  });

  it('heartbeats every HeartbeatSec from the auth reply', () => {
    const w = new Loopback({ node: { heartbeatSec: 30 } });
    w.register('alice');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport, config: { safetySyncMs: 1_000_000 } });
    const t0 = w.now;
    w.runFor(100_000);
    const beats = sentPackets(a).filter((p) => p.op === Op.Heartbeat);
    expect(beats.map((p) => p.at - t0)).toEqual([30_000, 60_000, 90_000]);
    // The server saw a live link all along: still the first link.
    expect(a.actions.filter((x) => x.kind === 'linkOpen')).toHaveLength(1);
  });
});

describe.each(ALL)('sessions (%s)', (transport) => {
  it('a second login of the same device replaces the session: the old core gets 1101 and stops', () => {
    const w = new Loopback();
    w.register('alice');
    w.register('bob');
    const old = w.startPeer('old', { userName: 'alice', deviceId: 'phone', transport });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'http' });
    w.runFor(20_000); // well after the old core's own login (see the next test)
    expect(old.core.state).toBe('ready');

    const t = w.now;
    const fresh = w.startPeer('new', { userName: 'alice', deviceId: 'phone', transport: transport === 'http' ? 'tcp' : 'http' });
    w.runFor(10);
    expect(eventsOf(old, 'sessionLost').map((e) => [e.ret, e.at])).toEqual([[1101, t]]);
    expect(old.core.state).toBe('stopped');
    expect(old.core.nextWakeAt()).toBeUndefined();
    expect(old.core.session()).toBeNull();
    expect(old.core.persisted().session).toBeNull();
    const actionsAtStop = old.actions.length;

    b.core.send('alice', 'after the switch', w.now);
    w.runFor(300_000);
    expect(old.actions.length).toBe(actionsAtStop);
    expect(old.core.inbox()).toEqual([]);
    expect(fresh.core.inbox().map((m) => m.Content)).toEqual(['after the switch']);
    expect(fresh.core.state).toBe('ready');
    // Nobody fought back: one password login each.
    const logins = (p: Peer): number =>
      p.transport === 'http' ? w.requests(p, PATHS.manualauth).length : sentPackets(p).filter((x) => x.op === Op.Auth && 'Password' in (x.body as object)).length;
    expect([logins(old), logins(fresh)]).toEqual([1, 1]);
  });

  it('an expired session (1100) logs in again with the password and carries on', () => {
    const w = new Loopback({ core: { sessionTtlMs: 150_000 } });
    w.register('alice');
    w.register('bob');
    // Syncs keep a session alive (heartbeats do not): sync well within the TTL.
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport, config: { safetySyncMs: 50_000 } });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'http' });
    w.runFor(10);
    const sid1 = a.core.session()!.sid;
    w.setDown(a, true);
    w.runFor(200_000); // the session expires while alice is away
    b.core.send('alice', 'while you were out', w.now);
    w.runFor(10);
    w.setDown(a, false);
    w.runFor(200_000);

    const logins = eventsOf(a, 'loggedIn');
    expect(logins).toHaveLength(2);
    expect(logins[1]!.sid).not.toBe(sid1);
    expect(a.core.session()!.sid).toBe(logins[1]!.sid);
    expect(a.core.inbox().map((m) => m.Content)).toEqual(['while you were out']);
    expect(eventsOf(a, 'sessionLost')).toEqual([]);
    if (transport !== 'http') {
      // The link first tried its Sid, then the password.
      const auths = sentPackets(a).filter((p) => p.op === Op.Auth).map((p) => Object.keys(p.body as object).sort().join(','));
      expect(auths[0]).toBe('DeviceID,Password,UserName');
      expect(auths.slice(-2)).toEqual(['DeviceID,Sid,Uin', 'DeviceID,Password,UserName']);
    }
    assertKeyMonotonic(a);
  });

  it('a wrong password stops the core with sessionLost 1103', () => {
    const w = new Loopback();
    w.register('alice');
    const a = w.startPeer('a', { userName: 'alice', password: 'nope', deviceId: 'dev-a', transport });
    w.runFor(10);
    expect(eventsOf(a, 'sessionLost').map((e) => e.ret)).toEqual([1103]);
    expect(a.core.state).toBe('stopped');
  });
});

describe('a manualauth the network delivered twice', () => {
  // The server ran both copies: the second login replaced the session of the
  // first, whose answer the client took. Nothing of it is the user's doing.
  it('switches to the session of the copy whose answer came late, without a new login', () => {
    const w = new Loopback();
    w.register('alice');
    w.register('bob');
    let copies = 0;
    w.httpFate = (_p, req) => (req.url === PATHS.manualauth && copies++ === 0 ? 'duplicate' : 'pass');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'http' });
    w.runFor(100);
    b.core.send('alice', 'hello', w.now);
    w.runFor(1_000);

    expect(eventsOf(a, 'sessionLost')).toEqual([]);
    expect(a.core.state).toBe('ready');
    expect(w.requests(a, PATHS.manualauth)).toHaveLength(1);
    // The first init used the replaced session and got 1101; the second used the live one.
    expect(w.requests(a, PATHS.webwxinit)).toHaveLength(2);
    expect(eventsOf(a, 'loggedIn').map((e) => e.sid)).toEqual([a.core.session()!.sid]);
    expect(a.core.inbox().map((m) => m.Content)).toEqual(['hello']);
  });

  it("without the copy's answer, waits replyTimeoutMs after the login for it, then stops", () => {
    const w = new Loopback();
    w.register('alice');
    let copies = 0;
    let answers = 0;
    w.httpFate = (_p, req) => (req.url === PATHS.manualauth && copies++ === 0 ? 'duplicate' : 'pass');
    w.httpAnswer = (_p, req, answer) => (req.url === PATHS.manualauth && answers++ === 1 ? null : answer);
    const t0 = w.now;
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http', config: { replyTimeoutMs: 4_000 } });
    w.runFor(1);
    expect(a.core.state).toBe('loggingIn');
    expect(a.core.nextWakeAt()).toBe(t0 + 4_000);
    const quiet = a.actions.length;
    w.runFor(10_000);
    expect(eventsOf(a, 'sessionLost').map((e) => [e.ret, e.at])).toEqual([[1101, t0 + 4_000]]);
    expect(a.actions.length).toBe(quiet); // nothing sent while waiting
  });
});

describe.each(ALL)('the init/auth SyncKey (%s)', (transport) => {
  it('does not move a known position forward: a restart from an older save gets the rest again', () => {
    const w = new Loopback();
    w.register('alice');
    const bobUin = w.register('bob');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    // A short safety sync, so that a link client presents (acknowledges) its newest key too.
    const b1 = w.startPeer('b1', { userName: 'bob', deviceId: 'dev-b', transport, config: { safetySyncMs: 500 } });
    w.runFor(100);
    a.core.send('bob', 'm1', w.now);
    w.runFor(100);
    const older = b1.core.persisted();
    a.core.send('bob', 'm2', w.now);
    w.runFor(1_000);
    expect(b1.core.syncKey()[0]).toEqual([1, 2]);
    expect(w.store.read({ kind: 'device', uin: bobUin, deviceId: 'dev-b' })!.acked[1]).toBe(2); // the server holds bob's device at 2
    w.kill(b1);
    const b2 = w.startPeer('b2', { userName: 'bob', deviceId: 'dev-b', transport, persisted: older });
    w.runFor(1_000);
    expect(b2.core.inbox().map((m) => m.Content)).toEqual(['m1', 'm2']);
    expect(eventsOf(b2, 'resync')).toEqual([]);
  });

  it('a first login after the log was pruned announces the gap with a resync event', () => {
    const w = new Loopback({ core: { maxLogItemsPerCategory: 2 } });
    w.register('alice');
    w.register('bob');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    w.runFor(100);
    for (let i = 1; i <= 4; i++) a.core.send('bob', `m${i}`, w.now);
    w.runFor(1_000);
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport });
    w.runFor(1_000);
    expect(eventsOf(b, 'resync')).toHaveLength(1);
    expect(b.core.inbox().map((m) => m.Content)).toEqual(['m3', 'm4']);
  });
});
