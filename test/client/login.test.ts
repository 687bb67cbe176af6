// Login and init of the reference client against a real ServerNode: the
// requests and packets of a first login on each transport, the heartbeat,
// and a login answered 1101.
import { describe, expect, it } from 'vitest';
import { ClientCore } from '../../client/core/client-core.ts';
import { PATHS } from '../../server/node/http-api.ts';
import { PacketDecoder } from '../../server/wire/packet-decoder.ts';
import { Op, decodeJsonBody, encodeJsonPacket } from '../../server/wire/packet.ts';
import { ALL_TRANSPORTS as ALL } from './login-probes.ts';
import { ClientWorld, eventsOf, sentPackets } from '../harness/client-world.ts';

const LINKS = ['tcp', 'ws'] as const;

describe('login over HTTP', () => {
  it('posts manualauth, then webwxinit with the session, then long-polls synccheck with the init key', () => {
    const w = new ClientWorld();
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
    const w = new ClientWorld();
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
    const w = new ClientWorld();
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
    const w = new ClientWorld({ node: { heartbeatSec: 30 } });
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
