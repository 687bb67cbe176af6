// One link that floods: thousands of pipelined packets in one write must not
// freeze the other links (the node takes a bounded number per turn and
// serves links round-robin), and a flooding link that is cut gets nothing
// more run. Links cut for not reading, or for a WebSocket message over the
// limit, are told why (op 6 with a code) before the close.
import { describe, expect, it } from 'vitest';
import { HttpDevice } from '../raw-client/http-device.ts';
import { register } from '../raw-client/http.ts';
import { OP, packet } from '../raw-client/packets.ts';
import { EMPTY_KEY } from '../raw-client/sync-key.ts';
import { sleep, until } from '../raw-client/wait.ts';
import { MAX_PACKET_BODY, PASSWORD, expectDisconnect, useHostileServer } from './hostile-server.ts';

const FLOOD = 10_000;
/**
 * Commands the node may run between the flood and the honest heartbeat: a
 * few turns of the flooding link (maxLinkInFlight, 8 by default, each).
 * Without the bound the heartbeat waits for a whole TCP read of the flood
 * (over a thousand syncs) or all of it.
 */
const HEARTBEAT_WITHIN_COMMANDS = 256;
/** Long enough for a peer that resumes reading to get everything up to op 6. */
const CLOSE_GRACE_MS = 5_000;

describe('hostile input', () => {
  const env = useHostileServer('e2e-hostile-flow', { closeGraceMs: CLOSE_GRACE_MS });
  const commands = (): number => env.t.srv.stats().node.commands;

  describe('flow control on the long links', () => {
    it(`answers another link's heartbeat within ${HEARTBEAT_WITHIN_COMMANDS} commands of ${FLOOD} pipelined syncs, and runs nothing more for the flood once it is gone`, async () => {
      await register(env.t.base, 'pipeliner', PASSWORD);
      const honest = await env.authed('alice', 'alice-honest');
      const flood = await env.authed('pipeliner', 'pipeliner-1');
      const syncs: Buffer[] = [];
      for (let s = 1; s <= FLOOD; s++) syncs.push(packet(OP.Sync, 1000 + s, { SyncKey: EMPTY_KEY }));
      const before = commands();
      // The flood first, then the honest heartbeat right behind it.
      flood.writeRaw(Buffer.concat(syncs));
      const seq = honest.nextSeq();
      honest.writeRaw(packet(OP.Heartbeat, seq));
      await honest.waitFor((f) => f.op === OP.HeartbeatReply && f.seq === seq, 10_000, 'the honest heartbeat');
      const servedBeforeHeartbeat = commands() - before;
      expect(servedBeforeHeartbeat).toBeLessThan(HEARTBEAT_WITHIN_COMMANDS);

      // The flood is served too, in turns: its replies keep coming, in order.
      await until(() => flood.frames.filter((f) => f.op === OP.SyncReply).length >= 200, 10_000, 'the flood to be served');
      const replies = flood.frames.filter((f) => f.op === OP.SyncReply).map((f) => f.seq);
      expect(replies).toEqual(replies.slice().sort((a, b) => a - b));
      expect(env.t.srv.stats().node.pausedLinks).toBeLessThanOrEqual(1);

      // Condemned: it goes away mid-flood, and nothing more runs for it.
      flood.destroy();
      await until(() => env.t.srv.stats().node.links === 1, 3000, 'the flood link to close');
      const atClose = commands();
      await sleep(300);
      expect(commands()).toBe(atClose);
      expect(atClose - before).toBeLessThan(FLOOD);
      await honest.heartbeat();
    });

    it('tells a reader that never reads why it is cut (op 6 LINK_WRITE_QUEUE_FULL), and runs none of its packets after', async () => {
      const filler = new HttpDevice(env.t.base, 'flood', PASSWORD, 'flood-web');
      await filler.login();
      const content = 'x'.repeat(30_000);
      for (let i = 0; i < 10; i++) expect((await filler.send('flood', content, `f${i}`)).BaseResponse.Ret).toBe(0);
      const l = await env.authed('flood', 'flood-phone');
      const overflowBefore = env.t.srv.stats().tcp.overflowClosed;
      l.socket.pause();
      // Each reply is about 300 KB: a few of them pass the write limit.
      const syncs: Buffer[] = [];
      for (let s = 10; s < 1010; s++) syncs.push(packet(OP.Sync, s, { SyncKey: EMPTY_KEY }));
      const before = commands();
      l.writeRaw(Buffer.concat(syncs));
      await until(() => env.t.srv.stats().tcp.overflowClosed > overflowBefore, 10_000, 'the slow reader to be cut');
      const atCut = commands();
      l.socket.resume();
      await expectDisconnect(l, 2, 'LINK_WRITE_QUEUE_FULL');
      expect(commands()).toBe(atCut);
      expect(atCut - before).toBeLessThan(100);
    });

    it('tells a WebSocket link why a message over 16 + maxPacketBody closes it (op 6 LINK_MESSAGE_TOO_LARGE, then 1009)', async () => {
      const l = await env.ws();
      await l.heartbeat();
      const before = commands();
      l.writeRaw(Buffer.alloc(16 + MAX_PACKET_BODY + 1));
      await expectDisconnect(l, 1102, 'LINK_MESSAGE_TOO_LARGE');
      expect(l.closeCode).toBe(1009);
      expect(commands()).toBe(before);
    });
  });
});
