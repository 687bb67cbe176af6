// Fuzzing the long link over TCP and WebSocket: streams of valid packets
// (heartbeat, auth by password or by Sid, send, sync, an unknown op) with
// header fields and bodies mutated and bytes damaged, or random bytes, cut
// into writes anyhow (one write, random cuts, a byte at a time), on a fresh
// link or one already authenticated. The stream is then finished (zero bytes
// complete an unfinished packet) and a probe heartbeat follows. The property:
// every frame the server sends is well formed; the link either answers the
// probe or sends op 6 and closes (a WebSocket may instead close with a
// code); a framing error always ends it; every heartbeat before the end is
// answered; and a stream with nothing the server could accept stores nothing.
import fc from 'fast-check';
import { completion, frame, isJsonObjectBody, type ModelPacket } from './framing-model.ts';
import { FuzzLink, type Frame } from './fuzz-link.ts';
import { LIMITS, PASSWORD, type FuzzTarget } from './fuzz-target.ts';
import { applyByteMutations, applyMutations, byteMutations, jsonText, mutations, preview, type ByteMutation, type JsonLike, type Mutation } from './mutations.ts';

const OP = { Heartbeat: 2, HeartbeatReply: 3, SendReply: 5, Disconnect: 6, Auth: 7, AuthReply: 8, Send: 4, Sync: 10, SyncReply: 11 } as const;
/** The probe heartbeat's seq; input seqs stay below it. */
const PROBE_SEQ = 0xfffffff0;
const OUTCOME_TIMEOUT_MS = 3000;
const CLOSE_AFTER_OP6_MS = 2000;
/** A WebSocket closed without a close frame gets this code: an abrupt drop, not a clean close. */
const WS_ABNORMAL_CLOSE = 1006;
/** Streams up to this long may be written a byte at a time. */
const MAX_BYTEWISE = 300;
const UNKNOWN_OPS = [0, 1, 3, 5, 6, 8, 9, 11, 12, 122, 999, 0xffffffff];

type Template = 'heartbeat' | 'authPassword' | 'authSid' | 'send' | 'sync' | 'unknownOp';

type HeaderMutation =
  | { field: 'packLen'; delta: number }
  | { field: 'packLenRaw' | 'op'; value: number }
  | { field: 'headerLen' | 'version'; value: number };

interface PacketRecipe {
  template: Template;
  seq: number;
  json: Mutation[];
  bytes: ByteMutation[];
  header: HeaderMutation | null;
  clientMsgId: string;
  unknownOp: number;
}

export interface LinkInput {
  transport: 'tcp' | 'ws';
  /** Authenticate (by the `fuzz` session's Sid) before the stream. */
  preAuth: boolean;
  stream: { kind: 'packets'; packets: PacketRecipe[]; damage: ByteMutation[] } | { kind: 'random'; bytes: Uint8Array };
  split: { kind: 'whole' } | { kind: 'cuts'; cuts: number[] } | { kind: 'bytes' };
}

const headerMutation: fc.Arbitrary<HeaderMutation | null> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.record({ field: fc.constant('packLen' as const), delta: fc.integer({ min: -20, max: 20 }) }) },
  { weight: 1, arbitrary: fc.record({ field: fc.constantFrom('packLenRaw' as const, 'op' as const), value: fc.nat({ max: 0xffffffff }) }) },
  { weight: 1, arbitrary: fc.record({ field: fc.constantFrom('headerLen' as const, 'version' as const), value: fc.nat({ max: 0xffff }) }) },
);

/** Damaged bytes end a link at the first damaged packet: rarer here than in HTTP bodies, so streams also go on. */
const rareByteMutations: fc.Arbitrary<ByteMutation[]> = fc.oneof({ weight: 7, arbitrary: fc.constant<ByteMutation[]>([]) }, { weight: 1, arbitrary: byteMutations });

const packetRecipe: fc.Arbitrary<PacketRecipe> = fc.record({
  // Requests that keep a link going are the common case, so that streams get past their first packet.
  template: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom<Template>('heartbeat', 'send', 'sync') },
    { weight: 1, arbitrary: fc.constantFrom<Template>('authPassword', 'authSid', 'unknownOp') },
  ),
  seq: fc.oneof(fc.nat({ max: 100 }), fc.nat({ max: PROBE_SEQ - 1 })),
  json: mutations,
  bytes: rareByteMutations,
  header: headerMutation,
  clientMsgId: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 16 }),
  unknownOp: fc.constantFrom(...UNKNOWN_OPS),
});

export const linkInput: fc.Arbitrary<LinkInput> = fc.record({
  transport: fc.constantFrom('tcp' as const, 'ws' as const),
  preAuth: fc.oneof({ weight: 2, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  stream: fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('packets' as const), packets: fc.array(packetRecipe, { minLength: 1, maxLength: 6 }), damage: rareByteMutations }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 400 }) }) },
  ),
  split: fc.oneof(
    { weight: 3, arbitrary: fc.constant({ kind: 'whole' as const }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('cuts' as const), cuts: fc.array(fc.nat(), { maxLength: 6 }) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'bytes' as const }) },
  ),
});

function templateBody(x: FuzzTarget, r: PacketRecipe): JsonLike | undefined {
  const s = x.session;
  switch (r.template) {
    case 'heartbeat':
      return undefined;
    case 'authPassword':
      return { UserName: 'fuzzlogin', Password: PASSWORD, DeviceID: `fl-link-${r.seq % 3}` };
    case 'authSid':
      return { Uin: s.uin, Sid: s.sid, DeviceID: s.deviceId };
    case 'send':
      return { ClientMsgId: r.clientMsgId, LocalID: r.clientMsgId, FromUserName: 'fuzz', ToUserName: r.seq % 2 === 0 ? 'peer' : x.group, Type: 1, Content: 'fuzz over the link' };
    case 'sync':
      return { SyncKey: s.key as unknown as JsonLike };
    case 'unknownOp':
      return {};
  }
}

const TEMPLATE_OP: Record<Template, number> = { heartbeat: OP.Heartbeat, authPassword: OP.Auth, authSid: OP.Auth, send: OP.Send, sync: OP.Sync, unknownOp: 0 };

function packetBytes(x: FuzzTarget, r: PacketRecipe): Buffer {
  const t = templateBody(x, r);
  const text = t === undefined && r.json.length === 0 ? '' : jsonText(applyMutations(t ?? null, r.json));
  const body = applyByteMutations(Buffer.from(text, 'utf8'), r.bytes);
  const h = Buffer.alloc(16);
  let packLen = 16 + body.length;
  let headerLen = 16;
  let version = 1;
  let op = r.template === 'unknownOp' ? r.unknownOp : TEMPLATE_OP[r.template];
  const m = r.header;
  if (m?.field === 'packLen') packLen = Math.max(0, packLen + m.delta);
  else if (m?.field === 'packLenRaw') packLen = m.value;
  else if (m?.field === 'op') op = m.value;
  else if (m?.field === 'headerLen') headerLen = m.value;
  else if (m?.field === 'version') version = m.value;
  h.writeUInt32BE(packLen >>> 0, 0);
  h.writeUInt16BE(headerLen, 4);
  h.writeUInt16BE(version, 6);
  h.writeUInt32BE(op >>> 0, 8);
  h.writeUInt32BE(r.seq >>> 0, 12);
  return Buffer.concat([h, body]);
}

export function streamOf(x: FuzzTarget, inp: LinkInput): Buffer {
  if (inp.stream.kind === 'random') return Buffer.from(inp.stream.bytes);
  return applyByteMutations(Buffer.concat(inp.stream.packets.map((p) => packetBytes(x, p))), inp.stream.damage);
}

function writesOf(stream: Buffer, split: LinkInput['split']): Buffer[] {
  if (split.kind === 'whole' || stream.length === 0) return [stream];
  if (split.kind === 'bytes' && stream.length <= MAX_BYTEWISE) return [...stream].map((b) => Buffer.of(b));
  const cuts = split.kind === 'cuts' ? [...new Set(split.cuts.map((c) => c % stream.length))].sort((a, b) => a - b) : [];
  const out: Buffer[] = [];
  let at = 0;
  for (const c of [...cuts, stream.length]) {
    if (c > at) out.push(stream.subarray(at, c));
    at = Math.max(at, c);
  }
  return out;
}

async function open(x: FuzzTarget, inp: LinkInput): Promise<FuzzLink> {
  for (let attempt = 0; ; attempt++) {
    const l = await FuzzLink.connect(inp.transport, x.t.tcpPort, x.t.wsUrl);
    if (!inp.preAuth) return l;
    const s = x.session;
    const auth = Buffer.from(JSON.stringify({ Uin: s.uin, Sid: s.sid, DeviceID: s.deviceId }), 'utf8');
    const h = Buffer.alloc(16);
    h.writeUInt32BE(16 + auth.length, 0);
    h.writeUInt16BE(16, 4);
    h.writeUInt16BE(1, 6);
    h.writeUInt32BE(OP.Auth, 8);
    h.writeUInt32BE(PROBE_SEQ + 1, 12);
    l.write(Buffer.concat([h, auth]));
    await l.waitFor(() => l.frames.some((f) => f.op === OP.AuthReply) || l.closed, OUTCOME_TIMEOUT_MS);
    const reply = l.frames.find((f) => f.op === OP.AuthReply);
    const ret = reply ? (JSON.parse(reply.body.toString('utf8')) as { BaseResponse: { Ret: number } }).BaseResponse.Ret : -1;
    if (ret === 0) {
      l.frames.length = 0;
      return l;
    }
    l.destroy();
    if (attempt > 0) throw new Error(`the harness's own link auth failed twice (Ret ${ret})`);
    await x.relogin();
  }
}

/** The reply op of each request op: every request of a link that goes on gets one, with its seq. */
const REPLY_OP: ReadonlyMap<number, number> = new Map([
  [OP.Heartbeat, OP.HeartbeatReply],
  [OP.Send, OP.SendReply],
  [OP.Auth, OP.AuthReply],
  [OP.Sync, OP.SyncReply],
]);

/** Requests of the stream without a reply frame of their seq (counted, since fuzzed seqs repeat). */
function unansweredRequests(packets: readonly ModelPacket[], frames: readonly Frame[]): ModelPacket[] {
  const replies = new Map<string, number>();
  for (const f of frames) replies.set(`${f.op}:${f.seq}`, (replies.get(`${f.op}:${f.seq}`) ?? 0) + 1);
  const out: ModelPacket[] = [];
  for (const p of packets) {
    const op = REPLY_OP.get(p.op);
    if (op === undefined) continue;
    const k = `${op}:${p.seq}`;
    const n = replies.get(k) ?? 0;
    if (n > 0) replies.set(k, n - 1);
    else out.push(p);
  }
  return out;
}

function kindOf(l: FuzzLink, probeAnswered: boolean): string {
  const d = l.disconnect;
  if (d) {
    const b = JSON.parse(d.body.toString('utf8')) as { Ret: number; ErrMsg: string };
    // The code of a framing error, or the message's first words with numbers left out, so that like outcomes count together.
    const code = /^[A-Z_]+(?=:)/.exec(b.ErrMsg)?.[0] ?? b.ErrMsg.split('(')[0]!.replace(/\d+/g, 'N').trim().slice(0, 48);
    return `op 6 Ret ${b.Ret} ${code}`;
  }
  if (probeAnswered) return 'probe answered';
  return `closed (ws ${l.wsCloseCode})`;
}

/** One link input: written, finished, probed and judged; then the honest link must still answer. Returns the outcome's kind. */
export async function runLinkInput(x: FuzzTarget, inp: LinkInput): Promise<string> {
  const linksBefore = x.links;
  const l = await open(x, inp);
  let kind: string;
  try {
    await x.settle();
    const before = x.store.writes;
    const stream = streamOf(x, inp);
    const what = (): string => `${inp.transport}${inp.preAuth ? ' (authenticated)' : ''} stream ${preview(stream)} hex ${stream.subarray(0, 64).toString('hex')}`;
    for (const w of writesOf(stream, inp.split)) {
      l.write(w);
      // Let each write leave on its own, so the server reads them apart.
      if (inp.split.kind !== 'whole') await new Promise((r) => setImmediate(r));
    }
    const tail = completion(stream, LIMITS.maxPacketBody);
    const whole = Buffer.concat([stream, tail]);
    const model = frame(whole, LIMITS.maxPacketBody);
    if (tail.length > 0) l.write(tail);
    if (!model.error) {
      const probe = Buffer.alloc(16);
      probe.writeUInt32BE(16, 0);
      probe.writeUInt16BE(16, 4);
      probe.writeUInt16BE(1, 6);
      probe.writeUInt32BE(OP.Heartbeat, 8);
      probe.writeUInt32BE(PROBE_SEQ, 12);
      l.write(probe);
    }
    const probed = (): boolean => l.frames.some((f) => f.op === OP.HeartbeatReply && f.seq === PROBE_SEQ);
    const unanswered = (): ModelPacket[] => unansweredRequests(model.packets, l.frames);
    await l.waitFor(() => probed() || l.disconnect !== undefined || l.closed, OUTCOME_TIMEOUT_MS);
    // A heartbeat is answered at once, a request after its commit: give the replies their time.
    if (probed()) await l.waitFor(() => unanswered().length === 0 || l.disconnect !== undefined || l.closed, OUTCOME_TIMEOUT_MS);
    if (l.disconnect && !l.closed) await l.waitFor(() => l.closed, CLOSE_AFTER_OP6_MS);
    if (l.malformed) throw new Error(`the server sent ${l.malformed}: ${what()}`);
    const d = l.disconnect;
    if (d) {
      if (!l.closed) throw new Error(`op 6 but the link stayed open: ${what()}`);
      const b = JSON.parse(d.body.toString('utf8')) as { Ret?: unknown; ErrMsg?: unknown };
      if (typeof b.Ret !== 'number' || typeof b.ErrMsg !== 'string') throw new Error(`op 6 without {Ret, ErrMsg}: ${d.body.toString('utf8')}: ${what()}`);
      if (d.seq !== 0) throw new Error(`op 6 with seq ${d.seq}: ${what()}`);
    } else if (l.closed) {
      if (inp.transport === 'tcp' || l.wsCloseCode === WS_ABNORMAL_CLOSE) throw new Error(`the link was dropped without op 6 (ws code ${l.wsCloseCode}): ${what()}`);
    } else if (!probed()) {
      throw new Error(`no answer within ${OUTCOME_TIMEOUT_MS} ms: neither the probe heartbeat's reply nor op 6${model.error ? ` (the stream has a framing error, ${model.error})` : ''}: ${what()}`);
    }
    if (model.error && !d && !l.closed) throw new Error(`a framing error (${model.error}) left the link open: ${what()}`);
    const ended = l.disconnect !== undefined || l.closed;
    const missing = unanswered()[0];
    if (!ended && missing) throw new Error(`op ${missing.op} seq ${missing.seq} got no answer, yet the link goes on: ${what()}`);
    await x.settle();
    const wrote = x.store.writes - before;
    const actors: number[] = inp.preAuth ? [OP.Auth, OP.Send, OP.Sync] : [OP.Auth];
    const couldStore = model.packets.some((p) => actors.includes(p.op) && isJsonObjectBody(p.body));
    if (wrote > 0 && !couldStore) throw new Error(`a stream the server could accept nothing of stored ${wrote} writes: ${what()}`);
    kind = kindOf(l, probed());
  } finally {
    l.destroy();
  }
  // Whatever the link's bytes do to the server happens before the next input: a crash is this input's.
  await x.linksBackTo(linksBefore);
  await x.checkHonest();
  return kind;
}
