// A ServerNode driven by hand on either kind of store: a synchronous one
// (the CommandRunner, as the simulator drives it) or one that answers later
// (the AsyncRunner, as on PostgreSQL). settle() runs it as a server's event
// loop would: hash jobs answered, flushes until nothing is left to commit.
// Every output is logged as text in order, so two rigs that were given the
// same inputs can be compared line by line.
import { runHashWork, scryptHasher } from '../../server/core/password.ts';
import type { ChangePublisher } from '../../server/node/change-bus.ts';
import type { HashAction } from '../../server/node/hash-jobs.ts';
import { PATHS, type Endpoint } from '../../server/node/http-api.ts';
import type { NodeConfig } from '../../server/node/node-config.ts';
import { ServerNode } from '../../server/node/server-node.ts';
import type { AsyncStore } from '../../server/store/async-store.ts';
import type { Store } from '../../server/store/store.ts';
import { PacketDecoder } from '../../server/wire/packet-decoder.ts';
import { decodeJsonBody, encodeJsonPacket } from '../../server/wire/packet.ts';

const HASHER = scryptHasher(2, 1, 1);
export const T0 = 1_700_000_000_000;

export interface Dev {
  user: string;
  uin: number;
  sid: string;
  skey: string;
  deviceId: string;
  key: { Count: number; List: Array<{ Key: number; Val: number }> };
}

export interface RigOptions {
  store?: Store;
  asyncStore?: AsyncStore;
  changes?: (node: ServerNode) => ChangePublisher;
  node?: Partial<NodeConfig>;
  /** Seeds the node's random bytes: rigs with the same seed draw the same. */
  seed?: number;
}

export class NodeRig {
  readonly node: ServerNode;
  /** Every output, in order, as text. */
  readonly log: string[] = [];
  readonly answers = new Map<number, string>();
  readonly packets = new Map<number, Array<{ op: number; seq: number; body: any }>>();
  now = T0;
  private hashes: HashAction[] = [];
  private nextReq = 1;
  private nextLink = 1;
  private readonly decoders = new Map<number, PacketDecoder>();
  private settledWaiters: Array<() => void> = [];

  constructor(o: RigOptions) {
    let counter = o.seed ?? 1;
    const random = { bytes: (n: number) => Uint8Array.from({ length: n }, () => (counter = (counter * 1103515245 + 12345) % 2147483648) & 0xff) };
    const changes = o.changes ? { publish: (c: Parameters<ChangePublisher['publish']>[0]) => publisher.publish(c) } : undefined;
    this.node = new ServerNode({
      ...(o.asyncStore ? { asyncStore: { store: o.asyncStore, settled: () => this.onSettled() } } : { store: o.store! }),
      ...(changes ? { changes } : {}),
      random,
      hasher: HASHER,
      out: (a) => {
        if (a.kind === 'hash') return void this.hashes.push(a);
        if (a.kind === 'respond') {
          this.answers.set(a.req, a.answer.body);
          this.log.push(`respond ${a.req} ${a.answer.status} ${a.answer.body}`);
        } else if (a.kind === 'write') this.received(a.link, a.bytes);
        else this.log.push(`${a.kind} ${a.link}`);
      },
      node: { holdMs: 10_000, ...o.node },
    });
    const publisher: ChangePublisher = o.changes ? o.changes(this.node) : { publish: () => {} };
  }

  private onSettled(): void {
    for (const w of this.settledWaiters.splice(0)) w();
  }

  private received(link: number, bytes: Uint8Array): void {
    const d = this.decoders.get(link) ?? new PacketDecoder({ maxBody: 1 << 20 });
    this.decoders.set(link, d);
    d.append(bytes);
    for (let s = d.next(); s.kind === 'packet'; s = d.next()) {
      const body = s.packet.body.length > 0 ? decodeJsonBody(s.packet) : undefined;
      const list = this.packets.get(link) ?? [];
      list.push({ op: s.packet.op, seq: s.packet.seq, body });
      this.packets.set(link, list);
      this.log.push(`packet ${link} op=${s.packet.op} seq=${s.packet.seq} ${JSON.stringify(body)}`);
    }
  }

  /** Runs the node until it has nothing left to do: hash jobs answered, every command committed and answered. */
  async settle(): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      for (const h of this.hashes.splice(0)) this.node.hashDone(h.job, runHashWork(HASHER, h.work), this.now);
      this.node.flush(this.now);
      if (this.node.uncommitted > 0) {
        await new Promise<void>((r) => this.settledWaiters.push(r));
        continue;
      }
      if (this.hashes.length === 0 && !this.node.needsFlush) return;
    }
    throw new Error('the node never settled');
  }

  post(endpoint: Endpoint, body: unknown): number {
    const req = this.nextReq++;
    this.node.httpRequest(req, 'POST', PATHS[endpoint], JSON.stringify(body), `198.51.100.${req % 200}`, this.now);
    return req;
  }

  async call(endpoint: Endpoint, body: unknown): Promise<any> {
    const req = this.post(endpoint, body);
    await this.settle();
    const a = this.answers.get(req);
    if (a === undefined) throw new Error(`${endpoint} got no answer`);
    return JSON.parse(a);
  }

  async login(user: string, deviceId: string, password = 'pw'): Promise<Dev> {
    const r = await this.call('manualauth', { UserName: user, Password: password, DeviceID: deviceId });
    if (r.BaseResponse.Ret !== 0) throw new Error(`login ${user}: ${JSON.stringify(r.BaseResponse)}`);
    return { user, uin: r.Uin, sid: r.Sid, skey: r.Skey, deviceId, key: r.SyncKey };
  }

  base(d: Dev): Record<string, unknown> {
    return { Uin: d.uin, Sid: d.sid, Skey: d.skey, DeviceID: d.deviceId };
  }

  async send(d: Dev, to: string, content: string, clientMsgId: string): Promise<any> {
    return this.call('webwxsendmsg', {
      BaseRequest: this.base(d),
      Msg: { ClientMsgId: clientMsgId, LocalID: clientMsgId, FromUserName: d.user, ToUserName: to, Type: 1, Content: content },
      Scene: 0,
    });
  }

  async sync(d: Dev): Promise<any> {
    const r = await this.call('webwxsync', { BaseRequest: this.base(d), SyncKey: d.key });
    if (r.BaseResponse.Ret === 0) {
      d.key = r.SyncKey;
      d.skey = r.SKey || d.skey;
    }
    return r;
  }

  /** Starts a synccheck with the device's key; returns its request id (it may be held). */
  synccheck(d: Dev): number {
    const req = this.nextReq++;
    const q = new URLSearchParams({ sid: d.sid, uin: String(d.uin), skey: d.skey, deviceid: d.deviceId, synckey: d.key.List.map((p) => `${p.Key}_${p.Val}`).join('|') });
    this.node.httpRequest(req, 'GET', `${PATHS.synccheck}?${q}`, '', `198.51.100.${req % 200}`, this.now);
    return req;
  }

  /** The answer of a synccheck: `retcode/selector`, or undefined while it is held. */
  syncCheckResult(req: number): string | undefined {
    const a = this.answers.get(req);
    if (a === undefined) return undefined;
    const m = /retcode:"(\d+)",selector:"(\d+)"/.exec(a);
    return m ? `${m[1]}/${m[2]}` : a;
  }

  openLink(): number {
    const id = this.nextLink++;
    this.node.linkOpened(id, 'tcp', `203.0.113.${id}`, this.now);
    return id;
  }

  linkSend(link: number, op: number, seq: number, body: unknown): void {
    this.node.linkData(link, encodeJsonPacket(op, seq, body), this.now);
  }

  /** Packets the node wrote on `link` with this op. */
  linkPackets(link: number, op: number): Array<{ seq: number; body: any }> {
    return (this.packets.get(link) ?? []).filter((p) => p.op === op);
  }
}
