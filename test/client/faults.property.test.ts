// A property over random fault schedules: whatever is lost, refused or cut
// while two users talk, once the network heals every message is stored once,
// reaches both inboxes once, in the server's order and each sender's order,
// and no SyncKey ever goes down.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PATHS } from '../../server/node/http-api.ts';
import { PacketDecoder } from '../../server/wire/packet-decoder.ts';
import { Op, encodePacket } from '../../server/wire/packet.ts';
import { Rng } from '../../sim/rng.ts';
import { ClientWorld, assertKeyMonotonic, eventsOf, serverMessages, type Peer } from '../harness/client-world.ts';

const transport = fc.constantFrom('http' as const, 'tcp' as const, 'ws' as const);

const step = fc.oneof(
  fc.record({ kind: fc.constant('send' as const), from: fc.constantFrom(0, 1) }),
  fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 60_000 }) }),
  fc.record({ kind: fc.constant('down' as const), who: fc.constantFrom(0, 1), down: fc.boolean() }),
);

const scenario = fc.record({
  seed: fc.integer({ min: 0, max: 1_000_000 }),
  transports: fc.tuple(transport, transport),
  /**
   * Per mille: HTTP requests refused, HTTP answers lost, link packets from the server lost or doubled,
   * sync answers replaced by an earlier one of the same peer (a stale cache: messages come twice).
   */
  refuse: fc.integer({ min: 0, max: 300 }),
  loseAnswer: fc.integer({ min: 0, max: 300 }),
  losePacket: fc.integer({ min: 0, max: 200 }),
  doublePacket: fc.integer({ min: 0, max: 200 }),
  replay: fc.integer({ min: 0, max: 300 }),
  steps: fc.array(step, { minLength: 1, maxLength: 25 }),
});

describe('random faults, then healing', () => {
  it('every message is stored once and applied once everywhere, in order', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const w = new ClientWorld({ seed: String(s.seed) });
        const uins = [w.register('alice'), w.register('bob')];
        const faults = new Rng('faults', String(s.seed));
        const rng = (): number => faults.next();
        let faulty = true;
        w.httpFate = () => {
          if (!faulty) return 'pass';
          const r = rng() * 1000;
          return r < s.refuse ? 'fail' : r < s.refuse + s.loseAnswer ? 'dropResponse' : 'pass';
        };
        const lastSync = new Map<Peer, string>();
        const replayed = (p: Peer, body: string): string => {
          const old = lastSync.get(p);
          if (!body.includes('"AddMsgList":[{')) return body;
          lastSync.set(p, body);
          return faulty && old !== undefined && rng() * 1000 < s.replay ? old : body;
        };
        w.httpAnswer = (p, req, answer) =>
          req.url.split('?')[0] === PATHS.webwxsync && answer.status === 200 ? { ...answer, body: replayed(p, answer.body) } : answer;
        w.linkDown = (p, bytes) => {
          const pk = new PacketDecoder().push(bytes).packets[0];
          if (pk?.op === Op.SyncReply) bytes = encodePacket(Op.SyncReply, pk.seq, replayed(p, Buffer.from(pk.body).toString('utf8')));
          if (!faulty) return bytes;
          const r = rng() * 1000;
          if (r < s.losePacket) return null;
          if (r < s.losePacket + s.doublePacket) return Buffer.concat([bytes, bytes]);
          return bytes;
        };
        const config = { maxSendAttempts: 1_000, replyTimeoutMs: 10_000, retryMaxMs: 20_000, reconnectMaxMs: 20_000 };
        const peers: Peer[] = [
          w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: s.transports[0], config }),
          w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: s.transports[1], config }),
        ];
        const names = ['bob', 'alice'];
        let n = 0;
        for (const st of s.steps) {
          if (st.kind === 'send') peers[st.from]!.core.send(names[st.from]!, `m${n++} from ${st.from}`, w.now);
          else if (st.kind === 'wait') w.runFor(st.ms);
          else w.setDown(peers[st.who]!, st.down);
        }
        faulty = false;
        for (const p of peers) w.setDown(p, false);
        w.runFor(20 * 60_000);

        const log = serverMessages(w, uins[0]!);
        expect(serverMessages(w, uins[1]!)).toEqual(log);
        expect(log).toHaveLength(n);
        expect(new Set(log.map((m) => m.ClientMsgId)).size).toBe(n);
        for (const p of peers) {
          expect(p.core.inbox()).toEqual(log);
          expect(p.core.outbox()).toEqual([]);
          expect(eventsOf(p, 'sendFailed')).toEqual([]);
          expect(eventsOf(p, 'sessionLost')).toEqual([]);
          assertKeyMonotonic(p);
          // A sender's messages keep the order the user wrote them in.
          const mine = log.filter((m) => m.FromUserName === (p === peers[0] ? 'alice' : 'bob')).map((m) => Number(m.Content.split(' ')[0]!.slice(1)));
          expect(mine).toEqual([...mine].sort((x, y) => x - y));
          const acked = eventsOf(p, 'sendAcked');
          expect(new Set(acked.map((e) => e.localId)).size).toBe(acked.length);
          for (const e of acked) expect(log.find((m) => m.ClientMsgId === e.clientMsgId)?.MsgId).toBe(e.msgId);
        }
      }),
      { numRuns: 100 },
    );
  });
});
