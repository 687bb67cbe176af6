// Hostile input on the WebSocket long link: text messages, oversized
// messages, bad headers, packets split across messages, a wrong path.
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { OP, frameJson, packet, rawHeader } from '../raw-client/packets.ts';
import { MAX_PACKET_BODY, PASSWORD, expectDisconnect, useHostileServer } from './hostile-server.ts';

describe('hostile input', () => {
  const env = useHostileServer('e2e-hostile-ws');
  const { ws } = env;

  describe('the WebSocket long link', () => {
    it('closes on a text message with 1003 and feeds the node nothing', async () => {
      const l = await ws();
      const before = env.t.srv.stats().node.commands;
      l.ws.send(JSON.stringify({ UserName: 'bob', Password: PASSWORD, DeviceID: 'bob-text' }));
      await l.waitClosed();
      expect(l.closeCode).toBe(1003);
      expect(l.closeReason).toMatch(/binary/);
      expect(env.t.srv.stats().node.commands).toBe(before);
    });

    it('closes a message over 16 + maxPacketBody with 1009', async () => {
      const l = await ws();
      l.writeRaw(Buffer.alloc(16 + MAX_PACKET_BODY + 1));
      await l.waitClosed();
      expect(l.closeCode).toBe(1009);
    });

    it('disconnects on a bad header in a binary message, like TCP', async () => {
      const l = await ws();
      l.writeRaw(rawHeader(16, 16, 9, OP.Heartbeat, 1));
      await expectDisconnect(l, 1102, 'WIRE_BAD_VERSION');
    });

    it('reads packets split across messages and several in one message', async () => {
      const l = await ws();
      const p = Buffer.concat([packet(OP.Heartbeat, 1), packet(OP.Auth, 2, { UserName: 'carol', Password: PASSWORD, DeviceID: 'carol-ws' })]);
      l.writeRaw(p.subarray(0, 7));
      l.writeRaw(p.subarray(7, 30));
      l.writeRaw(p.subarray(30));
      await l.waitFor((f) => f.op === OP.HeartbeatReply && f.seq === 1);
      expect(frameJson(await l.waitFor((f) => f.op === OP.AuthReply && f.seq === 2)).BaseResponse.Ret).toBe(0);
    });

    it('refuses an upgrade on another path with 404', async () => {
      const err = await new Promise<Error>((resolve) => {
        const w = new WebSocket(`ws://127.0.0.1:${env.t.srv.httpPort}/elsewhere`);
        w.on('error', resolve);
      });
      expect(err.message).toMatch(/404/);
    });
  });
});
