// Messages between reference clients through a real ServerNode: exchange,
// multi-device echo, ContinueFlag paging, duplicate replies, key echo, SKey.
import { describe, expect, it } from 'vitest';
import type { ClientTransport } from '../../client/core/client-core.ts';
import { PATHS } from '../../server/node/http-api.ts';
import { PacketDecoder } from '../../server/wire/packet-decoder.ts';
import { Op, decodeJsonBody, encodePacket } from '../../server/wire/packet.ts';
import { ClientWorld, assertKeyMonotonic, eventsOf, sentPackets, serverMessages, type Peer } from '../harness/client-world.ts';

const PAIRS: Array<[ClientTransport, ClientTransport]> = [
  ['http', 'http'],
  ['tcp', 'tcp'],
  ['ws', 'ws'],
  ['http', 'tcp'],
  ['ws', 'http'],
];

const contents = (p: Peer): string[] => p.core.inbox().map((m) => m.Content);

describe.each(PAIRS)('two clients (%s, %s)', (ta, tb) => {
  it('exchange messages; both inboxes hold the server order, each message once', () => {
    const w = new ClientWorld();
    w.register('alice');
    const bobUin = w.register('bob');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: ta });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: tb });
    w.runFor(100);
    a.core.send('bob', 'a1', w.now);
    a.core.send('bob', 'a2', w.now);
    w.runFor(100);
    b.core.send('alice', 'b1', w.now);
    w.runFor(100);
    a.core.send('bob', 'a3 ✓ ünïcode', w.now);
    w.runFor(1_000);

    const expected = ['a1', 'a2', 'b1', 'a3 ✓ ünïcode'];
    expect(contents(a)).toEqual(expected);
    expect(contents(b)).toEqual(expected);
    expect(serverMessages(w, bobUin).map((m) => m.Content)).toEqual(expected);
    expect(b.core.inbox()).toEqual(serverMessages(w, bobUin));
    const acked = [...eventsOf(a, 'sendAcked'), ...eventsOf(b, 'sendAcked')].map((e) => e.msgId).sort((x, y) => x - y);
    expect(acked).toEqual(a.core.inbox().map((m) => m.MsgId));
    expect(a.core.outbox()).toEqual([]);
    for (const e of eventsOf(a, 'sendAcked')) expect(e.attempts).toBe(1);
    assertKeyMonotonic(a);
    assertKeyMonotonic(b);
  });
});

describe('the send queue', () => {
  it.each(['http', 'tcp'] as const)('keeps one unanswered send per conversation (%s)', (transport) => {
    const w = new ClientWorld();
    w.register('alice');
    w.register('bob');
    w.register('carol');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport });
    w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'http' });
    w.runFor(100);
    const before = a.actions.length;
    // Without delivering anything yet: three to bob, one to carol.
    const ids = [a.core.send('bob', 'b-1', w.now), a.core.send('bob', 'b-2', w.now), a.core.send('carol', 'c-1', w.now), a.core.send('bob', 'b-3', w.now)];
    const sends = (): string[] =>
      a.actions
        .slice(before)
        .flatMap((x) => {
          if (x.kind === 'http' && x.url === PATHS.webwxsendmsg) return [(JSON.parse(x.body) as { Msg: { Content: string } }).Msg.Content];
          if (x.kind === 'linkWrite') {
            const p = new PacketDecoder().push(x.bytes).packets[0]!;
            return p.op === Op.Send ? [(decodeJsonBody(p) as { Content: string }).Content] : [];
          }
          return [];
        });
    expect(sends()).toEqual(['b-1', 'c-1']);
    expect(a.core.outbox().map((e) => e.state)).toEqual(['sending', 'queued', 'sending', 'queued']);
    w.settle();
    expect(sends()).toEqual(['b-1', 'c-1', 'b-2', 'b-3']);
    expect(eventsOf(a, 'sendAcked').map((e) => e.localId)).toEqual([ids[0], ids[2], ids[1], ids[3]]);
    // LocalIDs count up; ClientMsgId is deviceId-LocalID.
    const n = Number(ids[0]);
    expect(ids).toEqual([n, n + 1, n + 2, n + 3].map(String));
    expect(eventsOf(a, 'sendAcked')[0]!.clientMsgId).toBe(`dev-a-${n}`);
  });
});

describe('multi-device echo', () => {
  it("a message sent from one device reaches the account's other device and the peer under one MsgId", () => {
    const w = new ClientWorld();
    w.register('alice');
    w.register('bob');
    const a1 = w.startPeer('a1', { userName: 'alice', deviceId: 'alice-web', transport: 'http' });
    const a2 = w.startPeer('a2', { userName: 'alice', deviceId: 'alice-phone', transport: 'tcp' });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'ws' });
    w.runFor(100);
    a1.core.send('bob', 'from the web', w.now);
    w.runFor(100);
    a2.core.send('bob', 'from the phone', w.now);
    w.runFor(100);
    b.core.send('alice', 'to both', w.now);
    w.runFor(1_000);

    const expected = ['from the web', 'from the phone', 'to both'];
    for (const p of [a1, a2, b]) expect(contents(p)).toEqual(expected);
    expect(a2.core.inbox()).toEqual(a1.core.inbox());
    const ids = a1.core.inbox().map((m) => m.MsgId);
    expect(b.core.inbox().map((m) => m.MsgId)).toEqual(ids);
    expect(eventsOf(a1, 'sendAcked')[0]!.msgId).toBe(ids[0]);
    expect(eventsOf(a2, 'sendAcked')[0]!.msgId).toBe(ids[1]);
    expect(a2.core.inbox()[0]!.ClientMsgId).toBe(eventsOf(a1, 'sendAcked')[0]!.clientMsgId);
  });
});

describe('ContinueFlag paging', () => {
  it.each(['http', 'tcp'] as const)('pulls a backlog in pages of syncLimit, in order (%s)', (transport) => {
    const w = new ClientWorld({ core: { syncLimit: 2 } });
    w.register('alice');
    w.register('bob');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    w.runFor(100);
    for (let i = 1; i <= 5; i++) a.core.send('bob', `m${i}`, w.now);
    w.runFor(1_000);
    expect(eventsOf(a, 'sendAcked')).toHaveLength(5);

    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport });
    w.runFor(1_000);
    expect(contents(b)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(b.core.syncKey()).toEqual([
      [1, 5],
      [2, 0],
    ]);
    const syncs =
      transport === 'http'
        ? w.requests(b, PATHS.webwxsync).map((r) => (JSON.parse(r.body) as { SyncKey: { List: Array<{ Val: number }> } }).SyncKey.List[0]!.Val)
        : sentPackets(b)
            .filter((p) => p.op === Op.Sync)
            .map((p) => (p.body as { SyncKey: { List: Array<{ Val: number }> } }).SyncKey.List[0]!.Val);
    // Three pages: from 0, from 2, from 4; then nothing until there is news.
    expect(syncs).toEqual([0, 2, 4]);
    expect(eventsOf(b, 'syncKey').map((e) => e.key[0]![1])).toEqual([0, 2, 4, 5]);
  });
});

// Replays an earlier sync answer in place of a later one: the same AddMsgList arrives twice.
function replaySyncAnswers(w: ClientWorld, target: Peer): void {
  let saved: string | undefined;
  let replayed = false;
  w.httpAnswer = (peer, a, answer) => {
    if (peer !== target || a.url.split('?')[0] !== PATHS.webwxsync) return answer;
    const list = (JSON.parse(answer.body) as { AddMsgList?: unknown[] }).AddMsgList ?? [];
    if (saved === undefined && list.length > 0) saved = answer.body;
    else if (saved !== undefined && !replayed && list.length > 0) {
      replayed = true;
      return { ...answer, body: saved };
    }
    return answer;
  };
  w.linkDown = (peer, bytes) => {
    if (peer !== target) return bytes;
    const p = new PacketDecoder().push(bytes).packets[0];
    if (!p || p.op !== Op.SyncReply) return bytes;
    const list = (decodeJsonBody(p) as { AddMsgList?: unknown[] }).AddMsgList ?? [];
    if (saved === undefined && list.length > 0) saved = Buffer.from(p.body).toString('utf8');
    else if (saved !== undefined && !replayed && list.length > 0) {
      replayed = true;
      return encodePacket(Op.SyncReply, p.seq, saved);
    }
    return bytes;
  };
}

describe.each(['http', 'tcp'] as const)('a duplicated sync answer (%s)', (transport) => {
  const run = (bugs?: ReadonlySet<string>): Peer => {
    // The seam applies a message twice on purpose: the checkers would stop the run at it.
    const w = new ClientWorld({ checks: bugs === undefined });
    w.register('alice');
    w.register('bob');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport, ...(bugs ? { bugs } : {}) });
    replaySyncAnswers(w, b);
    w.runFor(100);
    a.core.send('bob', 'one', w.now);
    w.runFor(100);
    a.core.send('bob', 'two', w.now);
    w.runFor(300_000);
    assertKeyMonotonic(b);
    return b;
  };

  it('is applied once (dedup by MsgId)', () => {
    const b = run();
    expect(contents(b)).toEqual(['one', 'two']);
    expect(eventsOf(b, 'applied').map((e) => e.msg.Content)).toEqual(['one', 'two']);
    expect(b.core.syncKey()).toEqual([
      [1, 2],
      [2, 0],
    ]);
  });

  it("is applied twice with the 'client-no-dedup' seam (the check above can fail)", () => {
    const b = run(new Set(['client-no-dedup']));
    expect(contents(b)).toEqual(['one', 'one', 'two']);
  });
});

describe('SyncKey and SKey bookkeeping', () => {
  it('keeps and echoes a key pair it does not know', () => {
    const w = new ClientWorld();
    w.register('alice');
    w.register('bob');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'http' });
    let done = false;
    w.httpAnswer = (peer, req, answer) => {
      if (peer !== b || done || req.url.split('?')[0] !== PATHS.webwxsync) return answer;
      done = true;
      const o = JSON.parse(answer.body) as { SyncKey: { Count: number; List: Array<{ Key: number; Val: number }> } };
      o.SyncKey.List.push({ Key: 1000, Val: 7 });
      o.SyncKey.Count++;
      return { ...answer, body: JSON.stringify(o) };
    };
    w.runFor(100);
    a.core.send('bob', 'one', w.now);
    w.runFor(100);
    a.core.send('bob', 'two', w.now);
    w.runFor(100);
    expect(b.core.syncKey()).toEqual([
      [1, 2],
      [2, 0],
      [1000, 7],
    ]);
    const checks = w.requests(b, PATHS.synccheck);
    expect(new URLSearchParams(checks[checks.length - 1]!.url.split('?')[1]).get('synckey')).toBe('1_2|2_0|1000_7');
    const syncs = w.requests(b, PATHS.webwxsync);
    expect((JSON.parse(syncs[syncs.length - 1]!.body) as { SyncKey: unknown }).SyncKey).toEqual({
      Count: 3,
      List: [
        { Key: 1, Val: 1 },
        { Key: 2, Val: 0 },
        { Key: 1000, Val: 7 },
      ],
    });
    expect(contents(b)).toEqual(['one', 'two']);
  });

  it('sends the latest SKey, so rotations never cost a re-login', () => {
    const w = new ClientWorld({ core: { skeyRotateMs: 5_000 } });
    w.register('alice');
    w.register('bob');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'http' });
    const skeys = new Set<string>();
    for (let i = 0; i < 10; i++) {
      w.runFor(20_000);
      a.core.send('bob', `m${i}`, w.now);
      skeys.add(b.core.session()!.skey);
    }
    w.runFor(1_000);
    expect(contents(b)).toHaveLength(10);
    expect(skeys.size).toBeGreaterThan(5);
    expect(w.requests(b, PATHS.manualauth)).toHaveLength(1);
    expect(w.requests(a, PATHS.manualauth)).toHaveLength(1);
    const last = w.requests(b, PATHS.webwxsync).at(-1)!;
    expect((JSON.parse(last.body) as { BaseRequest: { Skey: string } }).BaseRequest.Skey).toBe(
      new URLSearchParams(last.url.split('?')[1]).get('skey'),
    );
  });
});

describe('groups and remarks', () => {
  it('a created room reaches every member; its messages arrive in one order everywhere', () => {
    const w = new ClientWorld();
    for (const n of ['alice', 'bob', 'carol']) w.register(n);
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'tcp' });
    const c = w.startPeer('c', { userName: 'carol', deviceId: 'dev-c', transport: 'ws' });
    w.runFor(100);
    a.core.createChatRoom(['bob', 'carol'], 'team', w.now);
    w.runFor(100);
    const [created] = eventsOf(a, 'groupCreated');
    expect(created).toMatchObject({ chatRoomName: '@@1', members: ['alice', 'bob', 'carol'] });
    for (const p of [b, c]) expect(p.core.contacts().map((x) => x.UserName)).toEqual(['@@1']);
    a.core.send('@@1', 'hello team', w.now);
    b.core.send('@@1', 'hi', w.now);
    c.core.send('@@1', 'hey', w.now);
    w.runFor(1_000);
    const order = contents(a);
    expect(order.slice().sort()).toEqual(['hello team', 'hey', 'hi']);
    for (const p of [b, c]) expect(contents(p)).toEqual(order);
    expect(a.core.inbox().map((m) => m.GroupSeq)).toEqual([1, 2, 3]);
  });

  it("a remark syncs to the user's other device", () => {
    const w = new ClientWorld();
    w.register('alice');
    w.register('bob');
    const a1 = w.startPeer('a1', { userName: 'alice', deviceId: 'alice-web', transport: 'http' });
    const a2 = w.startPeer('a2', { userName: 'alice', deviceId: 'alice-phone', transport: 'tcp' });
    w.runFor(100);
    a1.core.setRemark('bob', 'Bobby', w.now);
    w.runFor(1_000);
    for (const p of [a1, a2]) expect(p.core.contacts().map((x) => [x.UserName, x.RemarkName])).toEqual([['bob', 'Bobby']]);
    expect(eventsOf(a2, 'contact').map((e) => e.contact.RemarkName)).toEqual(['Bobby']);
  });
});
