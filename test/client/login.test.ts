// Login, init and session loss of the reference client against a real ServerNode.
import { describe, expect, it } from 'vitest';
import { forgetSession } from '../../client/core/client-state.ts';
import { PATHS } from '../../server/node/http-api.ts';
import { PacketDecoder } from '../../server/wire/packet-decoder.ts';
import { ClientCore } from '../../client/core/client-core.ts';
import { Op, decodeJsonBody, encodeJsonPacket } from '../../server/wire/packet.ts';
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
    expect(JSON.parse(http[0]!.body)).toEqual({ UserName: 'alice', Password: 'pw-alice', DeviceID: 'dev-a', ClientLoginId: expect.stringMatching(/^dev-a-L[0-9]+$/) });
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
    expect(sent[0]!.body).toEqual({ UserName: 'alice', Password: 'pw-alice', DeviceID: 'dev-a', ClientLoginId: expect.stringMatching(/^dev-a-L[0-9]+$/) });
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
  it('a second login of the same device replaces the session: the old core gets 1101 and stops at once', () => {
    const w = new Loopback();
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
    const w = new Loopback();
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
    const w = new Loopback();
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
    const w = new Loopback();
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

/** The ClientLoginId of each password login a peer sent (manualauth, or op 7 by password). */
function loginIds(w: Loopback, p: Peer): string[] {
  const bodies =
    p.transport === 'http'
      ? w.requests(p, PATHS.manualauth).map((r) => JSON.parse(r.body) as Record<string, unknown>)
      : sentPackets(p)
          .filter((x) => x.op === Op.Auth && 'Password' in (x.body as object))
          .map((x) => x.body as Record<string, unknown>);
  return bodies.map((b) => String(b['ClientLoginId']));
}

/**
 * Makes the first `n` login answers to `who` go missing (the server carried
 * the logins out), and returns the Sids they carried.
 */
function loseLoginAnswers(w: Loopback, who: string, n: number, how: 'lost' | 'Ret 1' = 'lost'): string[] {
  const sids: string[] = [];
  w.httpAnswer = (p, req, answer) => {
    if (p.name !== who || req.url !== PATHS.manualauth || sids.length >= n) return answer;
    sids.push((JSON.parse(answer.body) as { Sid: string }).Sid);
    return how === 'lost' ? null : { ...answer, body: JSON.stringify({ BaseResponse: { Ret: 1, ErrMsg: 'try again' } }) };
  };
  w.linkDown = (p, bytes) => {
    if (p.name !== who || sids.length >= n) return bytes;
    const auth = new PacketDecoder().push(bytes).packets.find((x) => x.op === Op.AuthReply);
    if (!auth) return bytes;
    sids.push((decodeJsonBody(auth) as { Sid: string }).Sid);
    return null;
  };
  return sids;
}

describe.each(ALL)('a login whose answer went missing (%s)', (transport) => {
  it('is retried with the same ClientLoginId and gets the session it made', () => {
    const w = new Loopback();
    w.register('alice');
    w.register('bob');
    const lost = loseLoginAnswers(w, 'a', 2);
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport, config: { replyTimeoutMs: 5_000 } });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'http' });
    w.runFor(60_000);
    b.core.send('alice', 'hello', w.now);
    w.runFor(1_000);

    const ids = loginIds(w, a);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
    expect(lost).toHaveLength(2);
    expect(lost[1]).toBe(lost[0]);
    expect(eventsOf(a, 'loggedIn').map((e) => e.sid)).toEqual([lost[0]]);
    expect(a.core.session()!.sid).toBe(lost[0]);
    expect(eventsOf(a, 'sessionLost')).toEqual([]);
    expect(a.core.inbox().map((m) => m.Content)).toEqual(['hello']);
    expect(a.core.persisted().loginId).toBeNull();
  });

  it('an app killed before the answer starts again with the same ClientLoginId, and a late copy of the old request changes nothing', () => {
    const w = new Loopback();
    w.register('alice');
    w.register('bob');
    const lost = loseLoginAnswers(w, 'a1', 1);
    const a1 = w.startPeer('a1', { userName: 'alice', deviceId: 'dev-a', transport, config: { replyTimeoutMs: 5_000 } });
    w.runFor(1);
    const saved = JSON.parse(JSON.stringify(a1.core.persisted())) as ReturnType<typeof a1.core.persisted>;
    expect(saved.session).toBeNull();
    expect(saved.loginId).toBe(loginIds(w, a1)[0]);
    w.kill(a1);
    const a2 = w.startPeer('a2', { userName: 'alice', deviceId: 'dev-a', transport, persisted: saved });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'http' });
    w.runFor(100);
    expect(loginIds(w, a2)).toEqual([saved.loginId]);
    expect(a2.core.session()!.sid).toBe(lost[0]);

    // The killed app's request, held up in the network, arrives now.
    const late = JSON.stringify({ UserName: 'alice', Password: 'pw-alice', DeviceID: 'dev-a', ClientLoginId: saved.loginId });
    w.node.httpRequest(1_000_000_000, 'POST', PATHS.manualauth, late, w.now);
    w.settle();
    b.core.send('alice', 'still here', w.now);
    w.runFor(1_000);
    expect(eventsOf(a2, 'sessionLost')).toEqual([]);
    expect(a2.core.session()!.sid).toBe(lost[0]);
    expect(a2.core.inbox().map((m) => m.Content)).toEqual(['still here']);
  });
});

describe('a login answered with Ret 1 after the server carried it out (HTTP)', () => {
  it('the retry carries the same ClientLoginId and gets that session', () => {
    const w = new Loopback();
    w.register('alice');
    const made = loseLoginAnswers(w, 'a', 1, 'Ret 1');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    w.runFor(10_000);
    const ids = loginIds(w, a);
    expect(ids).toHaveLength(2);
    expect(ids[1]).toBe(ids[0]);
    expect(a.core.session()!.sid).toBe(made[0]);
    expect(eventsOf(a, 'sessionLost')).toEqual([]);
  });

  it('so does a retry after a refused connection', () => {
    const w = new Loopback();
    w.register('alice');
    let n = 0;
    w.httpFate = (_p, req) => (req.url === PATHS.manualauth && n++ < 2 ? 'fail' : 'pass');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    w.runFor(10_000);
    const ids = loginIds(w, a);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
    expect(a.core.state).toBe('ready');
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

  it('after a 1200, an older save still gets what is retained beyond the floor, though its device acknowledged it', () => {
    // m2 and m3 are pruned (3 items kept); m4-m6 are retained but were acknowledged by the
    // instance the save came from, so the server's init key (the device's position, 6) is past them.
    const w = new Loopback({ core: { maxLogItemsPerCategory: 3 } });
    w.register('alice');
    const bobUin = w.register('bob');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    const b1 = w.startPeer('b1', { userName: 'bob', deviceId: 'dev-b', transport, config: { safetySyncMs: 500 } });
    w.runFor(100);
    a.core.send('bob', 'm1', w.now);
    w.runFor(100);
    const older = b1.core.persisted();
    for (let i = 2; i <= 6; i++) a.core.send('bob', `m${i}`, w.now);
    w.runFor(1_000);
    expect(w.store.read({ kind: 'device', uin: bobUin, deviceId: 'dev-b' })!.acked[1]).toBe(6);
    w.kill(b1);
    const b2 = w.startPeer('b2', { userName: 'bob', deviceId: 'dev-b', transport, persisted: older });
    w.runFor(5_000);

    expect(eventsOf(b2, 'resync')).toHaveLength(1);
    expect(b2.core.inbox().map((m) => m.Content)).toEqual(['m1', 'm4', 'm5', 'm6']);
    expect(b2.core.syncKey()).toEqual([
      [1, 6],
      [2, 0],
    ]);
    assertKeyMonotonic(b2);
    // The sync after the resync asked for everything retained in key 1 (0), and echoed key 2.
    const presented =
      transport === 'http'
        ? w.requests(b2, PATHS.webwxsync).map((r) => (JSON.parse(r.body) as { SyncKey: unknown }).SyncKey)
        : sentPackets(b2)
            .filter((p) => p.op === Op.Sync)
            .map((p) => (p.body as { SyncKey: unknown }).SyncKey);
    expect(presented.slice(0, 2)).toEqual([
      { Count: 2, List: [{ Key: 1, Val: 1 }, { Key: 2, Val: 0 }] },
      { Count: 2, List: [{ Key: 1, Val: 0 }, { Key: 2, Val: 0 }] },
    ]);
    // Only one init (or auth) after the 1200: no second resync round.
    expect(eventsOf(b2, 'loggedIn')).toHaveLength(1);
  });

  it('if asking for everything retained gets a 1200 too (the device acknowledged nothing there), takes the server key', () => {
    const w = new Loopback({ core: { maxLogItemsPerCategory: 3, pruneIntervalMs: 1_000 } });
    w.register('alice');
    const bobUin = w.register('bob');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    // bob's other device keeps syncing (and so pruning) bob's account.
    w.startPeer('c', { userName: 'bob', deviceId: 'dev-c', transport: 'http' });
    // dev-b logs in, acknowledges nothing, and goes away; the account is pruned after that.
    const b1 = w.startPeer('b1', { userName: 'bob', deviceId: 'dev-b', transport });
    w.setDown(b1, true);
    w.kill(b1);
    w.runFor(2_000);
    for (let i = 1; i <= 6; i++) a.core.send('bob', `m${i}`, w.now);
    w.runFor(2_000);
    const dev = w.store.read({ kind: 'device', uin: bobUin, deviceId: 'dev-b' })!;
    expect(dev.acked[1]).toBe(0);
    expect(w.store.read({ kind: 'account', uin: bobUin })!.lastPrunedAt).toBeGreaterThan(dev.createdAt);
    // A save from elsewhere holds a key (1) the server never saw this device present.
    const saved = { ...b1.core.persisted(), syncKey: [[1, 1], [2, 0]] as Array<[number, number]> };
    const b2 = w.startPeer('b2', { userName: 'bob', deviceId: 'dev-b', transport, persisted: saved });
    w.runFor(5_000);

    // 1200 for key 1; 1200 again for key 0 (this device may have missed what was pruned); then the floor.
    expect(eventsOf(b2, 'resync')).toHaveLength(2);
    expect(b2.core.inbox().map((m) => m.Content)).toEqual(['m4', 'm5', 'm6']);
    expect(b2.core.syncKey()).toEqual([
      [1, 6],
      [2, 0],
    ]);
    assertKeyMonotonic(b2);
    expect(eventsOf(b2, 'sessionLost')).toEqual([]);
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

describe('a login answered 1101 (superseded by a newer login of this device)', () => {
  for (const transport of ALL) {
    it(`${transport}: the core stops and reports sessionLost`, () => {
      const actions: any[] = [];
      const events: any[] = [];
      const core = new ClientCore({
        userName: 'alice',
        password: 'pw',
        deviceId: 'dev-a',
        transport,
        random: () => 0.5,
        out: (a) => actions.push(a),
        emit: (e) => events.push(e),
      });
      core.start(0);
      const superseded = { BaseResponse: { Ret: 1101, ErrMsg: 'this login was superseded by a newer login of this device' } };
      if (transport === 'http') {
        const login = actions.find((a) => a.kind === 'http' && a.url.startsWith(PATHS.manualauth));
        core.httpResponse(login.req, 200, JSON.stringify(superseded), 5);
      } else {
        const open = actions.find((a) => a.kind === 'linkOpen');
        core.linkOpened(open.link, 1);
        const write = actions.find((a) => a.kind === 'linkWrite');
        const [auth] = new PacketDecoder().push(write.bytes).packets;
        expect(auth!.op).toBe(Op.Auth);
        expect((decodeJsonBody(auth!) as Record<string, unknown>)['ClientLoginId']).toMatch(/^dev-a-L/);
        core.linkData(open.link, encodeJsonPacket(Op.AuthReply, auth!.seq, superseded), 5);
      }
      expect(events.filter((e) => e.kind === 'sessionLost').map((e) => e.ret)).toEqual([1101]);
      expect(core.state).toBe('stopped');
    });
  }
});
