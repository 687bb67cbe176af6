// Faults: lost answers, an unreachable server, garbage, restarts, resync, and
// the timing of retries. Peers here use random = () => 0.5, so every backoff
// is exactly 3/4 of min(max, base * 2^(n-1)).
import { describe, expect, it } from 'vitest';
import { PATHS } from '../../server/node/http-api.ts';
import { PacketDecoder } from '../../server/wire/packet-decoder.ts';
import { Op } from '../../server/wire/packet.ts';
import { ClientWorld, assertKeyMonotonic, eventsOf, sentPackets, serverMessages, type Peer } from '../harness/client-world.ts';

const half = (): number => 0.5;
const contents = (p: Peer): string[] => p.core.inbox().map((m) => m.Content);

describe('a lost send answer', () => {
  it('over HTTP: times out, retries with the same ClientMsgId, and is stored once', () => {
    const w = new ClientWorld();
    w.register('alice');
    const bobUin = w.register('bob');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http', random: half });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'http' });
    w.runFor(100);
    let dropped = 0;
    w.httpFate = (peer, req) => (peer === a && req.url === PATHS.webwxsendmsg && dropped++ === 0 ? 'dropResponse' : 'pass');
    const t0 = w.now;
    const id = a.core.send('bob', 'exactly once', t0);
    w.runFor(60_000);

    const sends = w.requests(a, PATHS.webwxsendmsg).map((r) => JSON.parse(r.body) as { Msg: { ClientMsgId: string; LocalID: string } });
    expect(sends).toHaveLength(2);
    expect(sends[1]!.Msg).toEqual(sends[0]!.Msg);
    const [ack] = eventsOf(a, 'sendAcked');
    // replyTimeoutMs, then backoff(1) = 750.
    expect(ack).toMatchObject({ localId: id, clientMsgId: `dev-a-${id}`, attempts: 2, at: t0 + 15_000 + 750 });
    const stored = serverMessages(w, bobUin);
    expect(stored.map((m) => m.Content)).toEqual(['exactly once']);
    expect(stored[0]!.MsgId).toBe(ack!.msgId);
    expect(b.core.inbox().map((m) => m.MsgId)).toEqual([ack!.msgId]);
    expect(a.core.inbox().map((m) => m.MsgId)).toEqual([ack!.msgId]);
  });

  it('over a long link: the reply timeout drops the link, the retry on the new link gets the same MsgID', () => {
    const w = new ClientWorld();
    w.register('alice');
    const bobUin = w.register('bob');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'tcp', random: half, config: { replyTimeoutMs: 5_000 } });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'ws' });
    w.runFor(100);
    let dropped = false;
    w.linkDown = (peer, bytes) => {
      const p = new PacketDecoder().push(bytes).packets[0];
      if (peer === a && p?.op === Op.SendReply && !dropped) {
        dropped = true;
        return null;
      }
      return bytes;
    };
    const t0 = w.now;
    a.core.send('bob', 'exactly once', t0);
    w.runFor(30_000);

    const sent = sentPackets(a).filter((p) => p.op === Op.Send);
    expect(sent.map((p) => p.link)).toEqual([1, 2]);
    expect(sent[1]!.body).toEqual(sent[0]!.body);
    expect(a.actions.filter((x) => x.kind === 'linkClose').map((x) => [x.link, x.at - t0])).toEqual([[1, 5_000]]);
    const [ack] = eventsOf(a, 'sendAcked');
    // The send and the reconnect both wait backoff(1) = 750 after the timeout.
    expect(ack).toMatchObject({ attempts: 2, at: t0 + 5_000 + 750 });
    expect(serverMessages(w, bobUin).map((m) => m.MsgId)).toEqual([ack!.msgId]);
    expect(contents(b)).toEqual(['exactly once']);
    // The new link resumed the session by Sid.
    const auths = sentPackets(a).filter((p) => p.op === Op.Auth);
    expect(Object.keys(auths[1]!.body as object).sort()).toEqual(['DeviceID', 'Sid', 'Uin']);
  });
});

describe.each(['http', 'tcp', 'ws'] as const)('an unreachable server (%s)', (transport) => {
  it('fails a send after maxSendAttempts; resend after healing delivers it once with the same ClientMsgId', () => {
    const w = new ClientWorld();
    w.register('alice');
    const bobUin = w.register('bob');
    const config = { maxSendAttempts: 3, retryBaseMs: 1_000, retryMaxMs: 8_000, replyTimeoutMs: 5_000, reconnectBaseMs: 500, reconnectMaxMs: 2_000 };
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport, random: half, config });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'http' });
    w.runFor(100);
    w.setDown(a, true);
    const t0 = w.now;
    const id = a.core.send('bob', 'persistent', t0);
    if (transport === 'http') {
      // Each try is refused at once; backoff(1) = 750, backoff(2) = 1500.
      w.runUntil(t0);
      expect(a.core.outbox()[0]).toMatchObject({ state: 'queued', attempts: 1, nextAttemptAt: t0 + 750, lastRet: -1 });
    }
    w.runFor(60_000);
    const [failed] = eventsOf(a, 'sendFailed');
    // http: refused at t0, t0+750, t0+2250. Link: each try waits replyTimeoutMs for a link.
    const failedAt = transport === 'http' ? t0 + 2_250 : t0 + 3 * 5_000 + 750 + 1_500;
    expect(failed).toEqual({ kind: 'sendFailed', localId: id, clientMsgId: `dev-a-${id}`, ret: -1, errMsg: expect.any(String), at: failedAt });
    expect(a.core.outbox()).toMatchObject([{ localId: id, state: 'failed', attempts: 3 }]);
    expect(eventsOf(a, 'sendFailed')).toHaveLength(1);
    expect(serverMessages(w, bobUin)).toEqual([]);

    w.setDown(a, false);
    w.runFor(10_000);
    expect(eventsOf(a, 'sendAcked')).toEqual([]); // a failed message waits for the user
    a.core.resend(id, w.now);
    w.runFor(10_000);
    const [ack] = eventsOf(a, 'sendAcked');
    expect(ack).toMatchObject({ localId: id, clientMsgId: `dev-a-${id}`, attempts: 1 });
    expect(serverMessages(w, bobUin).map((m) => [m.Content, m.ClientMsgId])).toEqual([['persistent', `dev-a-${id}`]]);
    expect(contents(b)).toEqual(['persistent']);
    expect(contents(a)).toEqual(['persistent']);
    expect(a.core.outbox()).toEqual([]);
  });
});

describe('backoff', () => {
  it('long-link reconnects back off exponentially with jitter, capped, and reset after a good sync', () => {
    const w = new ClientWorld();
    w.register('alice');
    const a = w.startPeer('a', {
      userName: 'alice',
      deviceId: 'dev-a',
      transport: 'tcp',
      random: half,
      config: { reconnectBaseMs: 1_000, reconnectMaxMs: 8_000 },
    });
    w.runFor(100);
    w.setDown(a, true);
    const gaps: number[] = [];
    let last = w.now;
    for (let i = 0; i < 7; i++) {
      const t = a.core.nextWakeAt()!;
      gaps.push(t - last);
      w.runUntil(t);
      last = t;
    }
    expect(gaps).toEqual([750, 1_500, 3_000, 6_000, 6_000, 6_000, 6_000]);
    expect(a.actions.filter((x) => x.kind === 'linkOpen')).toHaveLength(1 + 7);

    w.setDown(a, false);
    w.runFor(10_000);
    expect(a.core.state).toBe('ready');
    w.setDown(a, true);
    expect(a.core.nextWakeAt()! - w.now).toBe(750);
  });

  it('the HTTP sync loop backs off the same way with retryBaseMs/retryMaxMs', () => {
    const w = new ClientWorld();
    w.register('alice');
    const a = w.startPeer('a', {
      userName: 'alice',
      deviceId: 'dev-a',
      transport: 'http',
      random: half,
      config: { retryBaseMs: 200, retryMaxMs: 1_000 },
    });
    w.runFor(100);
    w.setDown(a, true);
    const gaps: number[] = [];
    let last = w.now;
    for (let i = 0; i < 5; i++) {
      const t = a.core.nextWakeAt()!;
      gaps.push(t - last);
      w.runUntil(t);
      last = t;
    }
    expect(gaps).toEqual([150, 300, 600, 750, 750]);
  });

  it('a send backs off per attempt up to retryMaxMs', () => {
    const w = new ClientWorld();
    w.register('alice');
    w.register('bob');
    const a = w.startPeer('a', {
      userName: 'alice',
      deviceId: 'dev-a',
      transport: 'http',
      random: half,
      config: { retryBaseMs: 1_000, retryMaxMs: 4_000, maxSendAttempts: 6 },
    });
    w.runFor(100);
    w.httpFate = (_p, req) => (req.url === PATHS.webwxsendmsg ? 'fail' : 'pass');
    a.core.send('bob', 'x', w.now);
    const tries = (): number[] => w.requests(a, PATHS.webwxsendmsg).map((r) => (r as unknown as { at: number }).at);
    w.runFor(60_000);
    const at = tries();
    expect(at.slice(1).map((t, i) => t - at[i]!)).toEqual([750, 1_500, 3_000, 3_000, 3_000]);
    expect(eventsOf(a, 'sendFailed')).toHaveLength(1);
  });
});

describe.each(['http', 'tcp', 'ws'] as const)('an app restart from persisted() (%s)', (transport) => {
  it('keeps the inbox, key and outbox, resumes the session without the password, and syncs on', () => {
    const w = new ClientWorld();
    w.register('alice');
    w.register('bob');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    const b1 = w.startPeer('b1', { userName: 'bob', deviceId: 'dev-b', transport });
    w.runFor(100);
    a.core.send('bob', 'm1', w.now);
    a.core.send('bob', 'm2', w.now);
    w.runFor(1_000);
    expect(contents(b1)).toEqual(['m1', 'm2']);
    // Offline, bob writes a reply; the app is then killed with it unsent.
    w.setDown(b1, true);
    const localId = b1.core.send('alice', 'written offline', w.now);
    const saved = JSON.parse(JSON.stringify(b1.core.persisted())) as ReturnType<typeof b1.core.persisted>;
    w.kill(b1);
    a.core.send('bob', 'm3', w.now);
    w.runFor(1_000);

    expect(saved.inbox.map((m) => m.Content)).toEqual(['m1', 'm2']);
    expect(saved.syncKey).toEqual([
      [1, 2],
      [2, 0],
    ]);
    expect(saved.outbox.map((e) => [e.localId, e.content])).toEqual([[localId, 'written offline']]);
    const b2 = w.startPeer('b2', { userName: 'bob', deviceId: 'dev-b', transport, persisted: saved });
    w.runFor(1_000);

    expect(contents(b2)).toEqual(['m1', 'm2', 'm3', 'written offline']);
    expect(eventsOf(b2, 'applied').map((e) => e.msg.Content)).toEqual(['m3', 'written offline']);
    expect(b2.core.syncKey()).toEqual([
      [1, 4],
      [2, 0],
    ]);
    expect(eventsOf(b2, 'sendAcked')).toMatchObject([{ localId, clientMsgId: `dev-b-${localId}` }]);
    expect(contents(a)).toEqual(['m1', 'm2', 'm3', 'written offline']);
    // Resumed: no password on the wire.
    if (transport === 'http') {
      expect(b2.actions[0]).toMatchObject({ kind: 'http', url: expect.stringContaining(PATHS.webwxinit) });
      expect(w.requests(b2, PATHS.manualauth)).toEqual([]);
    } else {
      expect(sentPackets(b2).filter((p) => p.op === Op.Auth).map((p) => p.body)).toEqual([
        { Uin: saved.session!.uin, Sid: saved.session!.sid, DeviceID: 'dev-b' },
      ]);
    }
    expect(eventsOf(b2, 'loggedIn').map((e) => e.sid)).toEqual([saved.session!.sid]);
    assertKeyMonotonic(b2);
  });
});

describe('resync', () => {
  it('Ret 1200 (the key fell behind retention): emits resync, re-inits and continues from the floor', () => {
    // Pruning what a device has not acknowledged is the point here: the checkers' retention rule is off.
    // Only maxRetentionMs may prune that (a full log refuses new items instead); the sweep prunes bob, who is away.
    const w = new ClientWorld({ core: { maxRetentionMs: 10_000, pruneIntervalMs: 1_000, sweepAccountIntervalMs: 1_000 }, checks: false });
    w.register('alice');
    w.register('bob');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'http', random: half });
    w.runFor(100);
    a.core.send('bob', 'm1', w.now);
    w.runFor(100);
    expect(contents(b)).toEqual(['m1']);
    w.setDown(b, true);
    for (let i = 2; i <= 3; i++) a.core.send('bob', `m${i}`, w.now);
    w.runFor(10_500);
    for (let i = 4; i <= 6; i++) a.core.send('bob', `m${i}`, w.now);
    w.runFor(100);
    w.setDown(b, false);
    w.runFor(8_000);

    expect(eventsOf(b, 'resync')).toHaveLength(1);
    // m2 and m3 were pruned before bob came back: gone, but never silently.
    expect(contents(b)).toEqual(['m1', 'm4', 'm5', 'm6']);
    expect(b.core.syncKey()).toEqual([
      [1, 6],
      [2, 0],
    ]);
    expect(w.requests(b, PATHS.webwxinit)).toHaveLength(2);
    expect(w.requests(b, PATHS.manualauth)).toHaveLength(1);
    assertKeyMonotonic(b);
  });
});

describe('bad input from the network', () => {
  it('a non-200 or unreadable HTTP answer is a failed request, retried after backoff', () => {
    const w = new ClientWorld();
    w.register('alice');
    w.register('bob');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'http', random: half });
    w.runFor(100);
    let n = 0;
    w.httpAnswer = (peer, req, answer) => {
      if (peer !== b) return answer;
      const path = req.url.split('?')[0];
      if (path === PATHS.synccheck && n === 0) return (n++, { ...answer, body: 'window.synccheck=garbage' });
      if (path === PATHS.webwxsync && n === 1) return (n++, { ...answer, status: 503, body: 'busy' });
      if (path === PATHS.webwxsync && n === 2) return (n++, { ...answer, body: '{"BaseResponse":' });
      return answer;
    };
    const t0 = w.now;
    a.core.send('bob', 'eventually', t0);
    w.runFor(10_000);
    expect(contents(b)).toEqual(['eventually']);
    expect(n).toBe(3);
    // Garbage synccheck → 750 later a check: news (the server answered: the failure count restarts)
    // → sync: 503 → 750 later: unreadable → 1500 later: applied.
    expect(eventsOf(b, 'applied')[0]!.at).toBe(t0 + 750 + 750 + 1_500);
    expect(b.core.state).toBe('ready');
  });

  it('garbage on a long link closes it and reconnects by Sid', () => {
    const w = new ClientWorld();
    w.register('alice');
    w.register('bob');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'ws', random: half });
    w.runFor(100);
    let once = false;
    w.linkDown = (peer, bytes) => {
      if (peer !== b || once) return bytes;
      once = true;
      return Uint8Array.from([0, 0, 0, 5, 0, 16, 0, 1, 0, 0, 0, 122, 0, 0, 0, 0]); // packLen 5
    };
    const t0 = w.now;
    a.core.send('bob', 'after the garbage', t0);
    w.runFor(10_000);
    expect(b.actions.filter((x) => x.kind === 'linkClose').map((x) => [x.link, x.at])).toEqual([[1, t0]]);
    expect(b.actions.filter((x) => x.kind === 'linkOpen').map((x) => [x.link, x.at])).toEqual([
      [1, t0 - 100],
      [2, t0 + 750],
    ]);
    expect(contents(b)).toEqual(['after the garbage']);
    expect(eventsOf(b, 'loggedIn')).toHaveLength(1);
  });
});

describe('the output contract', () => {
  it('events leave after the state change: persisted() inside an applied event already has the whole reply', () => {
    const w = new ClientWorld({ core: { syncLimit: 10 } });
    w.register('alice');
    w.register('bob');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    w.runFor(100);
    a.core.send('bob', 'x', w.now);
    a.core.send('bob', 'y', w.now);
    w.runFor(100);
    const b = w.addPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'tcp' });
    const seen: Array<{ inbox: string[]; key: Array<[number, number]> }> = [];
    const origPush = b.events.push.bind(b.events);
    b.events.push = (...items) => {
      for (const e of items) if (e.kind === 'applied') seen.push({ inbox: b.core.persisted().inbox.map((m) => m.Content), key: b.core.syncKey() });
      return origPush(...items);
    };
    w.runFor(100);
    expect(seen).toEqual([
      { inbox: ['x', 'y'], key: [[1, 2], [2, 0]] },
      { inbox: ['x', 'y'], key: [[1, 2], [2, 0]] },
    ]);
  });
});
