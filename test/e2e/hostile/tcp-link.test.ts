// Hostile input on the TCP long link: random bytes, broken headers, packets
// split anyhow, bad bodies, a reader that never reads, many connections.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpDevice } from '../raw-client/http-device.ts';
import { OP, frameJson, packet, rawHeader } from '../raw-client/packets.ts';
import { EMPTY_KEY } from '../raw-client/sync-key.ts';
import { TcpLink } from '../raw-client/tcp-link.ts';
import { sleep, until } from '../raw-client/wait.ts';
import { AUTH_TIMEOUT_MS, MAX_PACKET_BODY, PASSWORD, expectDisconnect, useHostileServer } from './hostile-server.ts';

describe('hostile input', () => {
  const env = useHostileServer('e2e-hostile-tcp');
  const { tcp, ws, authed } = env;

  describe('the TCP long link', () => {
    it('answers random bytes with a disconnect and a close (fast-check)', async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ minLength: 16, maxLength: 400 }), fc.boolean(), async (bytes, afterHeartbeat) => {
          const l = await TcpLink.connect(env.t.tcpPort);
          try {
            if (afterHeartbeat) l.writeRaw(packet(OP.Heartbeat, 7));
            l.writeRaw(Buffer.from(bytes));
            await l.waitClosed(AUTH_TIMEOUT_MS + 2000);
            const last = l.frames[l.frames.length - 1];
            expect(last?.op).toBe(OP.Disconnect);
            expect([1100, 1102]).toContain(frameJson(last!).Ret);
            for (const f of l.frames.slice(0, -1)) expect(f.op).toBe(OP.HeartbeatReply);
          } finally {
            l.destroy();
          }
        }),
        { numRuns: 40 },
      );
      await until(() => env.t.srv.stats().node.links === 0, 3000, 'every fuzzed link to be gone');
    });

    it('reads packets split at every byte, and many packets in one write', async () => {
      const l = await tcp();
      const auth = packet(OP.Auth, 1, { UserName: 'bob', Password: PASSWORD, DeviceID: 'bob-split' });
      const stream = Buffer.concat([auth, packet(OP.Heartbeat, 2), packet(OP.Sync, 3, { SyncKey: EMPTY_KEY })]);
      for (let i = 0; i < stream.length; i++) {
        l.writeRaw(stream.subarray(i, i + 1));
        await sleep(0);
      }
      expect(frameJson((await l.waitFor((f) => f.seq === 1 && f.op === OP.AuthReply)))!.BaseResponse.Ret).toBe(0);
      await l.waitFor((f) => f.seq === 2 && f.op === OP.HeartbeatReply);
      expect(frameJson((await l.waitFor((f) => f.seq === 3 && f.op === OP.SyncReply)))!.BaseResponse.Ret).toBe(0);

      const many: Buffer[] = [];
      for (let s = 100; s < 300; s++) many.push(packet(OP.Heartbeat, s));
      many.push(packet(OP.Send, 300, { ClientMsgId: 'split-1', ToUserName: 'alice', Type: 1, Content: 'batched' }));
      many.push(packet(OP.Sync, 301, { SyncKey: EMPTY_KEY }));
      l.writeRaw(Buffer.concat(many));
      const send = frameJson(await l.waitFor((f) => f.op === OP.SendReply && f.seq === 300));
      expect(send.BaseResponse.Ret).toBe(0);
      const sync = frameJson(await l.waitFor((f) => f.op === OP.SyncReply && f.seq === 301));
      expect(sync.AddMsgList.map((m: { Content: string }) => m.Content)).toContain('batched');
      const beats = l.frames.filter((f) => f.op === OP.HeartbeatReply && f.seq >= 100).map((f) => f.seq);
      expect(beats).toEqual(Array.from({ length: 200 }, (_, i) => 100 + i));
    });

    it.each([
      ['packLen over the limit', rawHeader(16 + MAX_PACKET_BODY + 1, 16, 1, OP.Heartbeat, 1), 'WIRE_PACKLEN_TOO_LARGE'],
      ['packLen 0xffffffff', rawHeader(0xffffffff, 16, 1, OP.Auth, 1), 'WIRE_PACKLEN_TOO_LARGE'],
      ['packLen under 16', rawHeader(15, 16, 1, OP.Heartbeat, 1), 'WIRE_PACKLEN_TOO_SMALL'],
      ['headerLen not 16', rawHeader(16, 20, 1, OP.Heartbeat, 1), 'WIRE_BAD_HEADER_LEN'],
      ['a wrong version', rawHeader(16, 16, 2, OP.Heartbeat, 1), 'WIRE_BAD_VERSION'],
      ['an unknown op', packet(99, 1), 'unknown operation 99'],
      ['a server-only op', packet(OP.Notify, 1), 'unknown operation 122'],
    ])('disconnects on %s with Ret 1102', async (_name, bytes, prefix) => {
      const l = await tcp();
      l.writeRaw(bytes);
      await expectDisconnect(l, 1102, prefix);
    });

    it('disconnects an authenticated link on an unknown op too, and leaves the others alone', async () => {
      const other = await authed('bob', 'bob-other');
      const l = await authed('bob', 'bob-unknown-op');
      l.writeRaw(packet(1234, 5));
      await expectDisconnect(l, 1102, 'unknown operation 1234');
      await other.heartbeat();
    });

    it('closes a connection that does not authenticate in time', async () => {
      const idle = await tcp();
      const partial = await tcp();
      partial.writeRaw(rawHeader(40, 16, 1, OP.Auth, 1).subarray(0, 10));
      const t0 = Date.now();
      await expectDisconnect(idle, 1100, 'auth timeout');
      await expectDisconnect(partial, 1100, 'auth timeout');
      expect(Date.now() - t0).toBeLessThan(AUTH_TIMEOUT_MS + 1000);
    });

    it.each([
      ['sync', OP.Sync, { SyncKey: EMPTY_KEY }],
      ['send', OP.Send, { ClientMsgId: 'x', ToUserName: 'bob', Content: 'x' }],
    ])('refuses %s before auth with Ret 1100', async (_n, op, body) => {
      const l = await tcp();
      l.writeRaw(packet(op, 1, body));
      await expectDisconnect(l, 1100, 'authenticate first (op 7)');
    });

    it.each([
      ['not JSON', '{"UserName": '],
      ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
    ])('disconnects on an auth body that is %s', async (_n, body) => {
      const l = await tcp();
      l.writeRaw(packet(OP.Auth, 1, body));
      await expectDisconnect(l, 1102, 'operation 7: ');
    });

    it('disconnects on bad JSON after auth', async () => {
      const l = await authed('bob', 'bob-badjson');
      l.writeRaw(packet(OP.Sync, 2, '{SyncKey'));
      await expectDisconnect(l, 1102, 'operation 10: body is not valid JSON');
    });

    it('fails a wrong password on the link with op 8 Ret 1103, then disconnects', async () => {
      const l = await tcp();
      const r = await l.auth({ UserName: 'bob', Password: 'wrong', DeviceID: 'bob-x' });
      expect(r.BaseResponse.Ret).toBe(1103);
      await expectDisconnect(l, 1103, 'wrong user name or password');
    });

    it('answers a malformed SyncKey on the link with Ret 1102 and keeps the link', async () => {
      const l = await authed('bob', 'bob-badkey');
      for (const key of ['1_5', { Count: 2, List: [{ Key: 1, Val: 0 }] }, { Count: 1, List: [{ Key: 1, Val: -1 }] }]) {
        const r = await l.call(OP.Sync, OP.SyncReply, { SyncKey: key });
        expect(r.BaseResponse.Ret).toBe(1102);
        expect(r.BaseResponse.ErrMsg).toMatch(/^SyncKey: /);
      }
      const ahead = await l.call(OP.Sync, OP.SyncReply, { SyncKey: { Count: 1, List: [{ Key: 1, Val: 99_999_999 }] } });
      expect(ahead.BaseResponse).toEqual({ Ret: 1102, ErrMsg: 'SyncKey 1_99999999 is ahead of the server' });
      await l.heartbeat();
    });

    it('drops a reader that never reads once its queue passes the write limit', async () => {
      const filler = new HttpDevice(env.t.base, 'flood', PASSWORD, 'flood-web');
      await filler.login();
      const content = 'x'.repeat(30_000);
      for (let i = 0; i < 10; i++) expect((await filler.send('flood', content, `f${i}`)).BaseResponse.Ret).toBe(0);
      const l = await authed('flood', 'flood-phone');
      const overflowBefore = env.t.srv.stats().tcp.overflowClosed;
      l.socket.pause();
      // Each reply is about 300 KB; 80 of them are far more than the socket buffers and the limit.
      const syncs: Buffer[] = [];
      for (let s = 10; s < 90; s++) syncs.push(packet(OP.Sync, s, { SyncKey: EMPTY_KEY }));
      l.writeRaw(Buffer.concat(syncs));
      await until(() => env.t.srv.stats().tcp.overflowClosed > overflowBefore, 10_000, 'the slow reader to be dropped');
      l.socket.resume();
      await l.waitClosed(5000);
      expect(l.frames.filter((f) => f.op === OP.SyncReply).length).toBeLessThan(80);
    });
  });
});
