// The hostile users: accounts h0, h1, ... that flood an honest stranger
// with direct messages, pipeline sync packets on a long link, guess honest
// users' passwords, and create rooms full of honest strangers to spam. Each
// runs the real app on one device (so it holds a session, and its own echoes
// are synced like anyone's), and a raw script beside it that borrows that
// session and misbehaves (sim/hostile-client.ts). Everything is drawn from
// the world's 'hostile' stream, bounded by the scenario's rates and counts.
//
// What they send is recorded with the checkers like any send, so honest
// devices that receive it are judged as usual (integrity, order, no loss of
// what the server acknowledged); the server's refusals (1110, 1111) are the
// expected answers to abuse, counted here and never a failure.
import type { HostileWorkload } from '../scenarios/scenario.ts';
import { PATHS } from '../server/node/http-api.ts';
import { Ret } from '../server/core/ret.ts';
import { Op, type Packet } from '../server/wire/packet.ts';
import { syncKeyFromEntries, toSyncKeyJson } from '../server/wire/synckey.ts';
import type { Device } from './device.ts';
import { RawClient, packetJson, type RawAnswer } from './hostile-client.ts';
import type { Rng } from './rng.ts';
import { Violation } from './violation.ts';
import type { World } from './world.ts';

/** The names of hostile accounts: never an honest user's (`u<n>`). */
export const HOSTILE_PREFIX = 'h';

/** What the hostile accounts did and what the server answered, for the run's report. */
export interface HostileCounts {
  sends: number;
  acked: number;
  /** 1110 (mailbox full) and 1111 (rate limited): the server turning abuse away. */
  refused: number;
  rooms: number;
  guesses: number;
  pipelined: number;
  pipelineReplies: number;
}

export class HostileDriver {
  private running = false;
  private readonly scripts: RawClient[] = [];
  private nextMsg = 1;
  readonly counts: HostileCounts = { sends: 0, acked: 0, refused: 0, rooms: 0, guesses: 0, pipelined: 0, pipelineReplies: 0 };

  constructor(
    private readonly world: World,
    private readonly rng: Rng,
    private readonly h: HostileWorkload,
    /** The honest accounts, the targets. */
    private readonly honest: readonly string[],
  ) {}

  /** Registers the hostile accounts; `place` puts each one's device in the world. */
  setup(register: (name: string, i: number) => void, place: (account: string) => Device): void {
    for (let i = 0; i < this.h.accounts; i++) {
      const name = `${HOSTILE_PREFIX}${i}`;
      register(name, i);
      this.world.checkers.hostileAccount(name);
      this.scripts.push(new RawClient(this.world, place(name)));
    }
  }

  start(): void {
    this.running = true;
    const h = this.h;
    if (h.flood.size > 0) this.every(h.flood.everyMs, 'hostile-flood', () => this.flood());
    if (h.pipeline.packets > 0) this.every(h.pipeline.everyMs, 'hostile-pipeline', () => this.pipeline());
    this.every(h.guess.everyMs, 'hostile-guess', () => this.guess());
    if (h.groupSpam.members > 0) this.every(h.groupSpam.everyMs, 'hostile-room', () => this.groupSpam());
  }

  stop(): void {
    this.running = false;
  }

  private every(meanMs: number, kind: string, act: () => void): void {
    if (!(meanMs > 0) || this.scripts.length === 0 || this.honest.length === 0) return;
    const next = (): void => {
      this.world.q.schedule(this.world.now + this.rng.exp(meanMs), kind, 'hostile', () => {
        if (!this.running) return;
        act();
        next();
      });
    };
    next();
  }

  /** A script whose app holds a session it can borrow, with that session's BaseRequest. */
  private pickScript(): { script: RawClient; base: Record<string, unknown> } | undefined {
    const script = this.rng.pick(this.scripts);
    const core = script.device.current?.core;
    const s = core?.state === 'ready' ? core.session() : null;
    if (!s) {
      this.world.note('hostile-skip', script.device.name, 'app not logged in');
      return undefined;
    }
    return { script, base: { Uin: s.uin, Sid: s.sid, Skey: s.skey, DeviceID: script.device.deviceId } };
  }

  private flood(): void {
    const p = this.pickScript();
    if (!p) return;
    const to = this.rng.pick(this.honest);
    for (let i = 0; i < this.h.flood.size; i++) this.send(p.script, p.base, to);
  }

  /** One raw webwxsendmsg, recorded with the checkers before it leaves. */
  private send(script: RawClient, base: Record<string, unknown>, to: string): void {
    const n = this.nextMsg++;
    const clientMsgId = `${script.device.deviceId}-raw-${n}`;
    const content = `spam ${n} ${'x'.repeat(this.rng.int(0, 40))}`;
    this.counts.sends++;
    this.world.observer.userSent(script.inst, { to, content, clientMsgId, localId: clientMsgId, sentAt: this.world.now });
    const msg = { ClientMsgId: clientMsgId, LocalID: clientMsgId, FromUserName: script.device.account, ToUserName: to, Type: 1, Content: content };
    script.post(PATHS.webwxsendmsg, { BaseRequest: base, Msg: msg, Scene: 0 }, (o) => {
      const ret = retOf(o);
      if (ret === Ret.Ok && typeof o!['MsgID'] === 'number') {
        this.counts.acked++;
        this.world.observer.clientEvent(script.inst, { kind: 'sendAcked', localId: clientMsgId, clientMsgId, msgId: o!['MsgID'], attempts: 1 });
        return;
      }
      if (ret === Ret.MailboxFull || ret === Ret.RateLimited) this.counts.refused++;
      this.world.note('hostile-refused', script.device.name, `${clientMsgId} ${ret ?? 'no answer'}`);
    });
  }

  /** Many sync packets written at once on a new long link, resuming the app's session; then the link is closed. */
  private pipeline(): void {
    const p = this.pickScript();
    if (!p) return;
    const { script } = p;
    const key = toSyncKeyJson(syncKeyFromEntries(script.device.current!.core.syncKey()));
    const packets = this.h.pipeline.packets;
    let replies = 0;
    const link = script.openLink({
      onOpen: () => script.writeJson(link, Op.Auth, 1, { Uin: p.base['Uin'], Sid: p.base['Sid'], DeviceID: p.base['DeviceID'] }),
      onPacket: (pk: Packet) => {
        if (pk.op === Op.AuthReply) {
          if (retOf(packetJson(pk)) !== Ret.Ok) return script.close(link);
          this.counts.pipelined += packets;
          return script.write(link, Array.from({ length: packets }, (_, i) => ({ op: Op.Sync, seq: i + 2, body: JSON.stringify({ SyncKey: key }) })));
        }
        if (pk.op !== Op.SyncReply) return;
        this.counts.pipelineReplies++;
        if (++replies === packets) script.close(link);
      },
      onClose: () => this.world.note('hostile-pipeline', script.device.name, `${replies} of ${packets} syncs answered`),
    });
  }

  /** A wrong password at an honest account, from one of its own devices' ids: it must never get in. */
  private guess(): void {
    const script = this.rng.pick(this.scripts);
    const victim = this.rng.pick(this.honest);
    const devices = this.world.registry.accounts.get(victim) ?? [];
    const deviceId = devices.length > 0 ? this.rng.pick(devices).deviceId : `${victim}-guess`;
    const password = `guess-${this.rng.int(0, 999_999)}`;
    this.counts.guesses++;
    script.post(PATHS.manualauth, { UserName: victim, Password: password, DeviceID: deviceId }, (o) => {
      const ret = retOf(o);
      this.world.note('hostile-guess', script.device.name, `${victim} ${ret ?? 'no answer'}`);
      if (ret === Ret.Ok) throw new Violation('isolation', victim, `a login with a wrong password (${password}) by ${script.device.account} got in (DeviceID ${deviceId})`);
    });
  }

  /** A room made of honest strangers, then a burst of messages into it. */
  private groupSpam(): void {
    const p = this.pickScript();
    if (!p) return;
    const { script, base } = p;
    const members = this.rng.shuffled(this.honest).slice(0, this.h.groupSpam.members);
    const body = { BaseRequest: base, MemberCount: members.length, MemberList: members.map((UserName) => ({ UserName })), Topic: `spam ${this.counts.rooms}` };
    script.post(PATHS.webwxcreatechatroom, body, (o) => {
      const room = o?.['ChatRoomName'];
      if (retOf(o) !== Ret.Ok || typeof room !== 'string') {
        if (retOf(o) === Ret.RateLimited) this.counts.refused++;
        return this.world.note('hostile-refused', script.device.name, `room ${retOf(o) ?? 'no answer'}`);
      }
      this.counts.rooms++;
      this.world.note('hostile-room', script.device.name, `${room} with ${members.join(', ')}`);
      if (!this.running) return;
      for (let i = 0; i < this.h.groupSpam.messages; i++) this.send(script, base, room);
    });
  }
}

function retOf(o: RawAnswer): number | undefined {
  const r = o?.['BaseResponse']?.['Ret'];
  return typeof r === 'number' ? r : undefined;
}
