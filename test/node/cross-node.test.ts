// Two ServerNodes on one database (a shared memory store, one transaction at
// a time as PostgreSQL's global advisory lock makes it) with the in-memory
// change bus between them (docs/protocol.md section 9.3): a send through
// node A wakes the synccheck poll and the long link that node B holds for
// the recipient, only once A's notice reaches B; a lost notice only delays
// (the poll's hold ends, its next check finds the news); a notice that
// names too many accounts wakes every poll to check again; a notice that
// comes before B registered the poll it concerns still wakes it; a retry
// on B of a send made on A gets A's MsgID.
import { describe, expect, it } from 'vitest';
import { MemoryChangeBus } from '../../server/node/memory-change-bus.ts';
import { MemoryStore } from '../../server/store/memory-store.ts';
import { Op } from '../../server/wire/packet.ts';
import { NodeRig, type Dev } from './node-rig.ts';
import { TestAsyncStore, TxLock } from './test-async-store.ts';
import { until } from '../e2e/raw-client/wait.ts';

const HOLD_MS = 10_000;

class TwoNodes {
  readonly mem = new MemoryStore();
  readonly lock = new TxLock();
  readonly storeA = new TestAsyncStore(this.mem, { lock: this.lock });
  readonly storeB = new TestAsyncStore(this.mem, { lock: this.lock });
  readonly a: NodeRig;
  readonly b: NodeRig;

  constructor(readonly bus = new MemoryChangeBus()) {
    this.a = new NodeRig({ asyncStore: this.storeA, changes: (node) => bus.join('node-a', node), seed: 1, node: { holdMs: HOLD_MS } });
    this.b = new NodeRig({ asyncStore: this.storeB, changes: (node) => bus.join('node-b', node), seed: 2, node: { holdMs: HOLD_MS } });
  }

  /** alice and bob registered (through A); alice logged in on A, bob on B; bob's key is current. */
  async accounts(): Promise<{ alice: Dev; bob: Dev }> {
    for (const u of ['alice', 'bob', 'carol']) expect((await this.a.call('register', { UserName: u, Password: 'pw' })).BaseResponse.Ret).toBe(0);
    const alice = await this.a.login('alice', 'e000000000000001');
    const bob = await this.b.login('bob', 'e000000000000002');
    await this.b.sync(bob);
    this.bus.deliver();
    return { alice, bob };
  }
}

describe('two nodes on one store', () => {
  it("wake B's held synccheck poll and long link when a send commits on A, once A's notice arrives", async () => {
    const n = new TwoNodes();
    const { alice, bob } = await n.accounts();
    const poll = n.b.synccheck(bob);
    const link = n.b.openLink();
    n.b.linkSend(link, Op.Auth, 1, { Uin: bob.uin, Sid: bob.sid, DeviceID: bob.deviceId });
    await n.b.settle();
    expect(n.b.syncCheckResult(poll)).toBeUndefined();
    expect(n.b.linkPackets(link, Op.AuthReply)[0]!.body.BaseResponse.Ret).toBe(0);

    const sent = await n.a.send(alice, 'bob', 'across nodes', 'x1');
    expect(sent.BaseResponse.Ret).toBe(0);
    // Committed, but B knows nothing of it until the notice comes.
    expect(n.b.syncCheckResult(poll)).toBeUndefined();
    expect(n.b.linkPackets(link, Op.Notify)).toEqual([]);
    expect(n.bus.deliver()).toBe(1);
    expect(n.b.syncCheckResult(poll)).toBe('0/2');
    expect(n.b.linkPackets(link, Op.Notify).map((p) => p.body)).toEqual([{ Selector: 2 }]);
    // The wake carried no data: B's sync reads it from the store.
    expect((await n.b.sync(bob)).AddMsgList.map((m: { MsgId: number }) => m.MsgId)).toEqual([sent.MsgID]);

    // A retry of the same send through B is A's send: the same MsgID, nothing new stored.
    const retried = await n.b.send(alice, 'bob', 'across nodes', 'x1');
    expect(retried.MsgID).toBe(sent.MsgID);
    expect((await n.b.sync(bob)).AddMsgList).toEqual([]);
  });

  it('only delays when a notice is lost: the poll is answered at its hold end and the next check finds the news', async () => {
    const n = new TwoNodes();
    const { alice, bob } = await n.accounts();
    const poll = n.b.synccheck(bob);
    await n.b.settle();
    await n.a.send(alice, 'bob', 'lost notice', 'x2');
    n.bus.deliver(() => true);
    expect(n.bus.dropped).toBe(1);
    expect(n.b.syncCheckResult(poll)).toBeUndefined();
    n.b.now += HOLD_MS;
    n.b.node.tick(n.b.now);
    expect(n.b.syncCheckResult(poll)).toBe('0/0');
    const again = n.b.synccheck(bob);
    await n.b.settle();
    expect(n.b.syncCheckResult(again)).toBe('0/2');
  });

  it('wakes every poll to check again when a notice names too many accounts to list', async () => {
    // Room for one account per notice at most, and one notice per batch.
    const n = new TwoNodes(new MemoryChangeBus({ maxBytes: 16, maxPayloads: 1 }));
    const { alice, bob } = await n.accounts();
    const carol = await n.b.login('carol', 'e000000000000003');
    const room = await n.a.call('webwxcreatechatroom', { BaseRequest: n.a.base(alice), MemberCount: 1, MemberList: [{ UserName: 'bob' }], Topic: 'r' });
    expect(room.BaseResponse.Ret).toBe(0);
    n.bus.deliver();
    await n.b.sync(bob);
    await n.b.sync(carol);
    const bobPoll = n.b.synccheck(bob);
    const carolPoll = n.b.synccheck(carol);
    await n.b.settle();
    // One message to a room of two: two accounts' logs grow, too many for one notice.
    expect((await n.a.send(alice, room.ChatRoomName, 'to the room', 'x3')).BaseResponse.Ret).toBe(0);
    n.bus.deliver();
    expect([n.b.syncCheckResult(bobPoll), n.b.syncCheckResult(carolPoll)]).toEqual(['0/0', '0/0']);
    // Each client checks again at once: only bob, in the room, has news.
    const bobAgain = n.b.synccheck(bob);
    const carolAgain = n.b.synccheck(carol);
    await n.b.settle();
    expect(n.b.syncCheckResult(bobAgain)).toBe('0/2');
    expect(n.b.syncCheckResult(carolAgain)).toBeUndefined();
  });

  it('wakes a poll whose check was still on its way back when the notice came', async () => {
    const n = new TwoNodes();
    const { alice, bob } = await n.accounts();
    // B's check reads the store and commits, but its answer is late: A's send commits after it, and A's notice overtakes it.
    const late = n.storeB.holdCommitAnswer();
    const poll = n.b.synccheck(bob);
    n.b.node.flush(n.b.now);
    await until(() => late.reached);
    await n.a.send(alice, 'bob', 'overtaking', 'x4');
    n.bus.deliver();
    expect(n.b.syncCheckResult(poll)).toBeUndefined();
    late.release();
    await n.b.settle();
    expect(n.b.syncCheckResult(poll)).toBe('0/2');
  });

  it("ignores a notice about news a poll has already seen, and never answers another node's poll on its own", async () => {
    const n = new TwoNodes();
    const { alice, bob } = await n.accounts();
    await n.a.send(alice, 'bob', 'seen', 'x5');
    await n.b.sync(bob);
    // bob's new poll checked after the send: the late notice of it must not wake it.
    const poll = n.b.synccheck(bob);
    await n.b.settle();
    n.bus.deliver();
    expect(n.b.syncCheckResult(poll)).toBeUndefined();
    // A node's own notices do not come back to it: a poll on A stays with A's own effects.
    const alicePoll = n.a.synccheck(alice);
    await n.a.settle();
    expect(n.a.syncCheckResult(alicePoll)).toBe('0/2');
  });
});
