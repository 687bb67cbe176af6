// Session loss of the reference client: a newer login of the same device
// (1101), a reinstall, an expired session (1100), a wrong password (1103),
// and a manualauth the network delivered twice.
import { describe, expect, it } from 'vitest';
import { forgetSession } from '../../client/core/client-state.ts';
import { PATHS } from '../../server/node/http-api.ts';
import { Op } from '../../server/wire/packet.ts';
import { ALL_TRANSPORTS as ALL, loginIds } from './login-probes.ts';
import { ClientWorld, assertKeyMonotonic, eventsOf, sentPackets, type Peer } from '../harness/client-world.ts';

describe.each(ALL)('sessions (%s)', (transport) => {
  // These end a current session on purpose (1101, 1103): the world's checkers would call that a violation.
  it('a second login of the same device replaces the session: the old core gets 1101 and stops at once', () => {
    const w = new ClientWorld({ checks: false });
    w.register('alice');
    w.register('bob');
    const old = w.startPeer('old', { userName: 'alice', deviceId: 'phone', transport });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'http' });
    // Right after the old core's own login: no window in which a 1101 could be its own doing.
    w.runFor(10);
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

  it('a reinstall from the old state without its session (forgetSession) is a new login too: the old core stops', () => {
    const w = new ClientWorld({ checks: false });
    w.register('alice');
    const old = w.startPeer('old', { userName: 'alice', deviceId: 'phone', transport, random: () => 0.5 });
    w.runFor(10);
    const t = w.now;
    const fresh = w.startPeer('new', { userName: 'alice', deviceId: 'phone', transport, persisted: forgetSession(old.core.persisted()) });
    w.runFor(10_000);
    // Over a long link the new link first closes the old one (1109, "a newer long link"), which the old core
    // takes as a link failure: its reconnect after backoff(1) = 750 resumes by Sid and hears 1101.
    expect(eventsOf(old, 'sessionLost').map((e) => [e.ret, e.at])).toEqual([[1101, transport === 'http' ? t : t + 750]]);
    expect(fresh.core.state).toBe('ready');
    expect(fresh.core.session()!.sid).not.toBe(eventsOf(old, 'loggedIn')[0]!.sid);
    expect(loginIds(w, old)).toHaveLength(1);
    expect(loginIds(w, fresh)).toHaveLength(1);
    expect(loginIds(w, fresh)[0]).not.toBe(loginIds(w, old)[0]);
  });

  it('an expired session (1100) logs in again with the password and carries on', () => {
    const w = new ClientWorld({ core: { sessionTtlMs: 150_000 } });
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
      expect(auths[0]).toBe('ClientLoginId,DeviceID,Password,UserName');
      expect(auths.slice(-2)).toEqual(['DeviceID,Sid,Uin', 'ClientLoginId,DeviceID,Password,UserName']);
    }
    // A new login, so a new ClientLoginId: the old one would get the old session back (were it live).
    const ids = loginIds(w, a);
    expect(ids).toHaveLength(2);
    expect(ids[1]).not.toBe(ids[0]);
    expect(a.core.persisted().loginId).toBeNull();
    assertKeyMonotonic(a);
  });

  it('a wrong password stops the core with sessionLost 1103', () => {
    const w = new ClientWorld({ checks: false });
    w.register('alice');
    const a = w.startPeer('a', { userName: 'alice', password: 'nope', deviceId: 'dev-a', transport });
    w.runFor(10);
    expect(eventsOf(a, 'sessionLost').map((e) => e.ret)).toEqual([1103]);
    expect(a.core.state).toBe('stopped');
  });
});

describe('a manualauth the network delivered twice', () => {
  // Both copies carry the same ClientLoginId: the server answers the second
  // with the session the first made, instead of replacing it.
  it.each([
    ['both answers come', -1],
    ['the first answer is lost', 0],
    ['the second answer is lost', 1],
  ])('leaves the client on one session, with no 1101 (%s)', (_name, lose) => {
    const w = new ClientWorld();
    w.register('alice');
    w.register('bob');
    let copies = 0;
    let answers = 0;
    const sids: string[] = [];
    w.httpFate = (p, req) => (p.name === 'a' && req.url === PATHS.manualauth && copies++ === 0 ? 'duplicate' : 'pass');
    w.httpAnswer = (p, req, answer) => {
      if (p.name !== 'a' || req.url !== PATHS.manualauth) return answer;
      sids.push((JSON.parse(answer.body) as { Sid: string }).Sid);
      return answers++ === lose ? null : answer;
    };
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'http' });
    w.runFor(1);
    expect(a.core.state).toBe('ready'); // nothing to wait for
    b.core.send('alice', 'hello', w.now);
    w.runFor(60_000);

    expect(sids).toHaveLength(2);
    expect(sids[1]).toBe(sids[0]);
    expect(a.core.session()!.sid).toBe(sids[0]);
    expect(w.requests(a, PATHS.manualauth)).toHaveLength(1);
    expect(w.requests(a, PATHS.webwxinit)).toHaveLength(1);
    expect(eventsOf(a, 'sessionLost')).toEqual([]);
    expect(eventsOf(a, 'loggedIn').map((e) => e.sid)).toEqual([sids[0]]);
    expect(w.store.read({ kind: 'session', sid: sids[0]! })?.state).toBe('active');
    expect(a.core.inbox().map((m) => m.Content)).toEqual(['hello']);
    // Every request after the login used that one session.
    for (const r of a.actions) if (r.kind === 'http' && r.url !== PATHS.manualauth) expect(r.url + r.body).toContain(sids[0]!);
  });
});
