// A ServerNode on a store that answers later (the AsyncRunner) serves a
// conversation exactly as on a synchronous store: the same answers, packets
// and notifications, in the same order, given the same inputs and random
// bytes. The store here is a memory store behind asAsync with real delays.
import { describe, expect, it } from 'vitest';
import { Op } from '../../server/wire/packet.ts';
import { MemoryStore } from '../../server/store/memory-store.ts';
import { NodeRig } from './node-rig.ts';
import { TestAsyncStore } from './test-async-store.ts';

/** Registration, logins, a held synccheck woken by a send, HTTP and long-link sends and syncs, a retried send, a group. */
async function conversation(r: NodeRig): Promise<Record<string, unknown>> {
  const seen: Record<string, unknown> = {};
  for (const u of ['alice', 'bob']) seen[`register ${u}`] = (await r.call('register', { UserName: u, Password: 'pw' })).BaseResponse.Ret;
  seen['taken'] = (await r.call('register', { UserName: 'bob', Password: 'pw' })).BaseResponse.Ret;
  seen['wrong password'] = (await r.call('manualauth', { UserName: 'bob', Password: 'nope', DeviceID: 'e000000000000009' })).BaseResponse.Ret;
  const a = await r.login('alice', 'e000000000000001');
  const b = await r.login('bob', 'e000000000000002');
  await r.sync(b);
  const poll = r.synccheck(b);
  await r.settle();
  seen['held'] = r.syncCheckResult(poll);
  seen['first send'] = (await r.send(a, 'bob', 'hello bob', 'c1')).BaseResponse.Ret;
  seen['woken'] = r.syncCheckResult(poll);
  seen['synced'] = (await r.sync(b)).AddMsgList.map((m: { Content: string }) => m.Content);

  const link = r.openLink();
  r.linkSend(link, Op.Auth, 1, { UserName: 'bob', Password: 'pw', DeviceID: 'e000000000000003' });
  await r.settle();
  const auth = r.linkPackets(link, Op.AuthReply)[0]!.body;
  seen['link auth'] = auth.BaseResponse.Ret;
  const first = await r.send(a, 'bob', 'to the link', 'c2');
  seen['notified'] = r.linkPackets(link, Op.Notify).map((p) => p.body);
  r.linkSend(link, Op.Sync, 2, { SyncKey: auth.SyncKey });
  r.linkSend(link, Op.Send, 3, { ClientMsgId: 'l1', LocalID: 'l1', FromUserName: 'bob', ToUserName: 'alice', Type: 1, Content: 'from the link' });
  await r.settle();
  seen['link sync'] = r.linkPackets(link, Op.SyncReply)[0]!.body.AddMsgList.map((m: { Content: string }) => m.Content);
  seen['link send'] = r.linkPackets(link, Op.SendReply)[0]!.body.BaseResponse.Ret;
  const retry = await r.send(a, 'bob', 'to the link', 'c2');
  seen['retry keeps its MsgID'] = retry.MsgID === first.MsgID;

  const room = await r.call('webwxcreatechatroom', { BaseRequest: r.base(a), MemberCount: 1, MemberList: [{ UserName: 'bob' }], Topic: 'two' });
  seen['room'] = room.BaseResponse.Ret;
  // Two sends in one batch: the second waits for the first's commit like any command.
  const g1 = r.post('webwxsendmsg', { BaseRequest: r.base(a), Msg: { ClientMsgId: 'g1', LocalID: 'g1', FromUserName: 'alice', ToUserName: room.ChatRoomName, Type: 1, Content: 'g1' }, Scene: 0 });
  const g2 = r.post('webwxsendmsg', { BaseRequest: r.base(b), Msg: { ClientMsgId: 'g2', LocalID: 'g2', FromUserName: 'bob', ToUserName: room.ChatRoomName, Type: 1, Content: 'g2' }, Scene: 0 });
  await r.settle();
  seen['group sends'] = [g1, g2].map((q) => JSON.parse(r.answers.get(q)!).BaseResponse.Ret);
  seen['alice synced'] = (await r.sync(a)).AddMsgList.map((m: { Content: string }) => m.Content);
  return seen;
}

describe('a ServerNode on an asynchronous store', () => {
  it('serves the same conversation as on a synchronous store, output for output', async () => {
    const sync = new NodeRig({ store: new MemoryStore(), seed: 5 });
    const async = new NodeRig({ asyncStore: new TestAsyncStore(new MemoryStore(), { maxDelayMs: 2 }), seed: 5 });
    const expected = await conversation(sync);
    const got = await conversation(async);
    expect(expected).toMatchObject({
      'register alice': 0,
      taken: 1104,
      'wrong password': 1103,
      held: undefined,
      woken: '0/2',
      synced: ['hello bob'],
      'link auth': 0,
      notified: [{ Selector: 2 }],
      'link send': 0,
      'retry keeps its MsgID': true,
      'group sends': [0, 0],
    });
    expect(got).toEqual(expected);
    expect(async.log).toEqual(sync.log);
    expect(async.log.length).toBeGreaterThan(20);
  });
});
