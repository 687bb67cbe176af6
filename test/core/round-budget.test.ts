// The node's write budget per round (maxWorkPerRound): once the commands
// started in a round have made that many writes, what arrives waits for the
// next round (a long link's packets stay in its buffer, an HTTP command is
// held), so one account's room messages cannot hold the event loop for
// long; nothing is refused or lost, and each link's and each client's
// commands keep their order.
import { describe, expect, it } from 'vitest';
import { runHashWork, scryptHasher } from '../../server/core/password.ts';
import { Ret } from '../../server/core/ret.ts';
import { PATHS } from '../../server/node/http-api.ts';
import type { NodeConfig } from '../../server/node/node-config.ts';
import { ServerNode } from '../../server/node/server-node.ts';
import { MemoryStore } from '../../server/store/memory-store.ts';
import { NodeOutputs } from '../harness/node-outputs.ts';
import { Op, decodeJsonBody, encodeJsonPacket, type Packet } from '../../server/wire/packet.ts';

const HASHER = scryptHasher(2, 1, 1);
const T0 = 1_700_000_000_000;
const PW = 'pw-of-the-budget';
/** A room of this many: a message to it makes about this many writes. */
const ROOM = 8;
const BUDGET = 20;

class Rig {
  readonly node: ServerNode;
  private readonly outputs = new NodeOutputs();
  readonly answers = this.outputs.answers;
  readonly packets = this.outputs.packets;
  private readonly hashes = this.outputs.hashes;
  private nextReq = 1;
  now = T0;

  constructor(node: Partial<NodeConfig>) {
    let counter = 0;
    // Distinct bytes for each draw: every session gets a Sid of its own.
    const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (++counter * 31 + i * 7) & 0xff);
    this.node = new ServerNode({ store: new MemoryStore(), random: { bytes }, hasher: HASHER, out: this.outputs.on, node });
  }

  /** An HTTP request, not flushed. */
  request(endpoint: keyof typeof PATHS, body: unknown): number {
    const req = this.nextReq++;
    this.node.httpRequest(req, 'POST', PATHS[endpoint], JSON.stringify(body), '198.51.100.7', this.now);
    return req;
  }

  /** Flush until nothing is left, hashing as a driver would. */
  settle(): void {
    for (let i = 0; i < 1_000 && (this.node.needsFlush || this.hashes.length > 0); i++) {
      for (const h of this.hashes.splice(0)) this.node.hashDone(h.job, runHashWork(HASHER, h.work), this.now);
      this.node.flush(this.now);
    }
  }

  /** Writes made by each flush, one flush at a time, until nothing is left. */
  writesPerRound(): number[] {
    const rounds: number[] = [];
    for (let i = 0; i < 1_000 && this.node.needsFlush; i++) {
      const before = this.node.stats().writes;
      this.node.flush(this.now);
      rounds.push(this.node.stats().writes - before);
    }
    return rounds;
  }

  /** An account logged in over HTTP: its BaseRequest. */
  account(name: string): { Uin: number; Sid: string; Skey: string; DeviceID: string } {
    const reg = this.request('register', { UserName: name, Password: PW });
    this.settle();
    expect(this.answers.get(reg).BaseResponse.Ret).toBe(Ret.Ok);
    const DeviceID = `e${String(100_000_000_000_000 + this.nextReq)}`;
    const login = this.request('manualauth', { UserName: name, Password: PW, DeviceID });
    this.settle();
    const r = this.answers.get(login);
    expect(r.BaseResponse.Ret).toBe(Ret.Ok);
    return { Uin: r.Uin, Sid: r.Sid, Skey: r.Skey, DeviceID };
  }

  /** A room of `owner` and ROOM - 1 others. */
  room(owner: ReturnType<Rig['account']>): string {
    const others = Array.from({ length: ROOM - 1 }, (_, i) => `member${i}`);
    for (const m of others) this.account(m);
    const req = this.request('webwxcreatechatroom', { BaseRequest: owner, MemberCount: others.length, MemberList: others.map((UserName) => ({ UserName })), Topic: 'r' });
    this.settle();
    return this.answers.get(req).ChatRoomName;
  }
}

const msg = (to: string, i: number) => ({ ClientMsgId: `c${i}`, LocalID: `c${i}`, ToUserName: to, Type: 1, Content: `m${i}` });

describe('the write budget per round', () => {
  it('holds HTTP commands past the budget for later rounds: each round stays near the budget, every send is answered, in order', () => {
    const r = new Rig({ maxWorkPerRound: BUDGET });
    const owner = r.account('owner');
    const room = r.room(owner);
    const solo = r.node.stats().writes;
    r.request('webwxsendmsg', { BaseRequest: owner, Msg: msg(room, 100) });
    const one = r.node.stats().writes - solo;
    expect(one).toBeGreaterThanOrEqual(ROOM);
    expect(one).toBeLessThan(BUDGET);
    r.settle();
    const reqs = Array.from({ length: 12 }, (_, i) => r.request('webwxsendmsg', { BaseRequest: owner, Msg: msg(room, i) }));
    // The first few spent the budget: their batch was committed at once, on its own (so they are
    // answered), and the rest wait for later rounds.
    const early = reqs.filter((q) => r.answers.has(q));
    expect(early.length).toBeGreaterThan(0);
    expect(early.length).toBeLessThan(reqs.length);
    expect(early).toEqual(reqs.slice(0, early.length));
    const rounds = r.writesPerRound();
    expect(rounds.length).toBeGreaterThan(3);
    // A round may pass the budget by one command (a command is never split), never by more.
    for (const w of rounds) expect(w).toBeLessThan(BUDGET + one);
    const ids = reqs.map((q) => r.answers.get(q));
    expect(ids.map((a) => a.BaseResponse.Ret)).toEqual(reqs.map(() => Ret.Ok));
    const msgIds = ids.map((a) => a.MsgID as number);
    expect(msgIds).toEqual(msgIds.slice().sort((a, b) => a - b));
  });

  it("pauses a link whose room sends spent the budget while a light link's commands still run; the first link's packets all run, in order", () => {
    const r = new Rig({ maxWorkPerRound: BUDGET, maxLinkInFlight: 64 });
    const owner = r.account('owner');
    const room = r.room(owner);
    r.account('honest');
    const auth = (link: number, name: string, device: string): void => {
      r.node.linkOpened(link, 'tcp', '203.0.113.9', r.now);
      r.node.linkData(link, encodeJsonPacket(Op.Auth, 1, { UserName: name, Password: PW, DeviceID: device }), r.now);
      r.settle();
      expect((decodeJsonBody(r.packets.get(link)![0]!) as any).BaseResponse.Ret).toBe(Ret.Ok);
    };
    auth(1, 'owner', 'e200000000000001');
    auth(2, 'honest', 'e200000000000002');
    auth(3, 'honest', 'e200000000000003');
    const spam = Array.from({ length: 10 }, (_, i) => encodeJsonPacket(Op.Send, 10 + i, msg(room, i)));
    r.node.linkData(1, Buffer.concat(spam), r.now);
    const ranForSpam = r.node.stats().commands;
    // The honest link's send arrives in the same round, after the budget is spent: a client that wrote nothing
    // this round is light, so it runs at once; only the link that made the round heavy waits.
    r.node.linkData(2, encodeJsonPacket(Op.Send, 5, msg('owner', 99)), r.now);
    expect(r.node.stats().commands).toBe(ranForSpam + 1);
    expect(r.node.stats().pausedLinks).toBe(1);
    // A heartbeat writes nothing: it is answered at once, budget spent or not.
    r.node.linkData(3, encodeJsonPacket(Op.Heartbeat, 6, {}), r.now);
    expect((r.packets.get(3) ?? []).filter((p) => p.op === Op.HeartbeatReply).map((p) => p.seq)).toEqual([6]);
    // The next commit answers the honest send; the heavy link is still being served, a turn per round.
    const honestReplies = (): Packet[] => (r.packets.get(2) ?? []).filter((p) => p.op === Op.SendReply);
    r.node.flush(r.now);
    expect(honestReplies()).toHaveLength(1);
    const spamAnswered = (r.packets.get(1) ?? []).filter((p) => p.op === Op.SendReply).length;
    expect(spamAnswered).toBeLessThan(10);
    r.settle();
    const replies = (r.packets.get(1) ?? []).filter((p) => p.op === Op.SendReply);
    expect(replies.map((p) => p.seq)).toEqual(spam.map((_, i) => 10 + i));
    expect(replies.map((p) => (decodeJsonBody(p) as any).BaseResponse.Ret)).toEqual(spam.map(() => Ret.Ok));
  });

  it('over HTTP, a light client runs at once while the heavy one waits; the heavy one keeps its order', () => {
    const r = new Rig({ maxWorkPerRound: BUDGET });
    const owner = r.account('owner');
    const other = r.account('other');
    const room = r.room(owner);
    const commits = r.node.stats().commits;
    const heavy = Array.from({ length: 6 }, (_, i) => r.request('webwxsendmsg', { BaseRequest: owner, Msg: msg(room, i) }));
    // The batch that filled the budget was committed on its own, before any light command joins the next one.
    expect(r.node.stats().commits).toBe(commits + 1);
    const ran = r.node.stats().commands;
    const light = r.request('webwxsendmsg', { BaseRequest: other, Msg: msg('owner', 50) });
    expect(r.node.stats().commands).toBe(ran + 1);
    r.node.flush(r.now);
    expect(r.answers.get(light).BaseResponse.Ret).toBe(Ret.Ok);
    expect(heavy.filter((q) => r.answers.has(q)).length).toBeLessThan(heavy.length);
    r.settle();
    const ids = heavy.map((q) => r.answers.get(q).MsgID as number);
    expect(ids).toEqual(ids.slice().sort((a, b) => a - b));
  });

  it('a budget nobody reaches changes nothing: a round runs everything that arrived', () => {
    const r = new Rig({ maxWorkPerRound: 1_000_000 });
    const owner = r.account('owner');
    const room = r.room(owner);
    for (let i = 0; i < 12; i++) r.request('webwxsendmsg', { BaseRequest: owner, Msg: msg(room, i) });
    expect(r.writesPerRound()).toHaveLength(1);
  });
});
