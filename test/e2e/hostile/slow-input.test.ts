// Input that is begun and never finished, trickled one byte at a time so
// that the connection never looks idle: an HTTP body, a long-link packet, a
// WebSocket message. Each is cut at its deadline while bytes keep coming,
// with its documented answer, and what the server holds for it meanwhile
// (its own accounting of buffered memory, not payload bytes) stays bounded.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { WEB } from '../raw-client/http.ts';
import type { LinkClient } from '../raw-client/link-client.ts';
import { OP, packet, rawHeader } from '../raw-client/packets.ts';
import { sleep } from '../raw-client/wait.ts';
import { PASSWORD, expectDisconnect, useHostileServer } from './hostile-server.ts';

const BODY_TIMEOUT_MS = 1_500;
const PACKET_TIMEOUT_MS = 1_000;
/** How long a trickle goes on at most: well past the deadlines. */
const TRICKLE_MS = 6_000;

/** Writes one byte at a time, `perTurn` at once then a short sleep, until `done()` or the time is up; returns the bytes written. */
async function trickle(write: (b: Buffer) => void, done: () => boolean, perTurn = 1, afterEach?: () => void): Promise<number> {
  const t0 = Date.now();
  let n = 0;
  while (!done() && Date.now() - t0 < TRICKLE_MS) {
    for (let i = 0; i < perTurn; i++) write(Buffer.from([0x20]));
    n += perTurn;
    afterEach?.();
    await sleep(5);
  }
  return n;
}

describe('hostile input', () => {
  const env = useHostileServer('e2e-hostile-slow', {
    node: { packetTimeoutMs: PACKET_TIMEOUT_MS },
    limits: { bodyTimeoutMs: BODY_TIMEOUT_MS },
  });

  describe('input trickled and never finished', () => {
    it('cuts a chunked HTTP body that never finishes at the body deadline (408), holding one small buffer for it', async () => {
      const s = net.connect(env.t.srv.httpPort, '127.0.0.1');
      s.setNoDelay(true);
      let answer = '';
      let closed = false;
      s.on('data', (c) => (answer += c));
      s.on('error', () => {});
      s.on('close', () => (closed = true));
      s.write(`POST ${WEB}webwxsync HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`);
      let peak = 0;
      // Chunks of a hundred bytes (hex 64), a few a turn: slow, but not fragmented.
      const CHUNK_BYTES = 100;
      const writes = await trickle(
        () => s.write(`64\r\n${' '.repeat(CHUNK_BYTES)}\r\n`),
        () => answer !== '' || closed,
        2,
        () => (peak = Math.max(peak, env.t.srv.stats().http.bufferedBytes)),
      );
      s.destroy();
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(answer).toMatch(/\r\nconnection: close\r\n/i);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
      expect(body.BaseResponse.Ret).toBe(1102);
      expect(body.BaseResponse.ErrMsg).toMatch(/^HTTP_BODY_TIMEOUT: /);
      // Bytes kept coming until the cut, and the body was held in one buffer: at most twice its bytes.
      const bytes = writes * CHUNK_BYTES;
      expect(writes).toBeGreaterThan(100);
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThanOrEqual(2 * bytes + 1024);
      expect(env.t.srv.stats().http.peakBufferedBytes).toBeLessThanOrEqual(2 * bytes + 1024);
      expect(env.t.srv.stats().http.bodyTimeouts).toBe(1);
      expect(env.t.srv.stats().http.bufferedBytes).toBe(0);
    });

    it('cuts a body trickled one byte per chunk at once (400 HTTP_BODY_FRAGMENTED): each chunk costs a parse, whatever its size', async () => {
      const before = env.t.srv.stats().node.commands;
      const s = net.connect(env.t.srv.httpPort, '127.0.0.1');
      let answer = '';
      let closed = false;
      s.on('data', (c) => (answer += c));
      s.on('error', () => {});
      s.on('close', () => (closed = true));
      s.write(`POST ${WEB}webwxsync HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`);
      const chunks = await trickle(() => s.write('1\r\n \r\n'), () => closed, 100);
      s.destroy();
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
      expect(body.BaseResponse.ErrMsg).toMatch(/^HTTP_BODY_FRAGMENTED: /);
      // Cut long before the body deadline: a few hundred chunks, not a trickle of seconds.
      expect(chunks).toBeLessThan(5_000);
      expect(env.t.srv.stats().http.fragmented).toBe(1);
      expect(env.t.srv.stats().http.bufferedBytes).toBe(0);
      expect(env.t.srv.stats().node.commands).toBe(before);
    });

    it('closes a TCP link whose packet is trickled byte by byte at the packet deadline (op 6 LINK_PACKET_TIMEOUT), though bytes keep coming', async () => {
      const l = await env.authed('bob', 'bob-trickle');
      // A send of 1,000 body bytes that never completes; the link's idle timer (2.5 heartbeats) is far off.
      l.writeRaw(rawHeader(16 + 1_000, 16, 1, OP.Send, 9));
      let peak = 0;
      const sent = await trickle(
        (b) => l.writeRaw(b),
        () => l.closed || l.frames.some((f) => f.op === OP.Disconnect),
        1,
        () => (peak = Math.max(peak, env.t.srv.stats().node.linkBufferedBytes)),
      );
      await expectDisconnect(l, 1102, 'LINK_PACKET_TIMEOUT');
      expect(sent).toBeGreaterThan(20);
      expect(sent).toBeLessThan(1_000);
      // One buffer of the link's own for the unfinished packet, not one per byte.
      expect(peak).toBeLessThanOrEqual(2 * 1_016);
    });

    it('closes a WebSocket link whose packet is trickled one byte per message at the packet deadline', async () => {
      const l = await env.ws();
      expect((await l.auth({ UserName: 'carol', Password: PASSWORD, DeviceID: 'carol-trickle' })).BaseResponse.Ret).toBe(0);
      l.writeRaw(rawHeader(16 + 1_000, 16, 1, OP.Send, 9).subarray(0, 8));
      await trickle((b) => l.writeRaw(b), () => linkDone(l));
      await expectDisconnect(l, 1102, 'LINK_PACKET_TIMEOUT');
    });

    it('closes a WebSocket link whose message is trickled one byte per fragment at the message deadline', async () => {
      const l = await env.ws();
      expect((await l.auth({ UserName: 'carol', Password: PASSWORD, DeviceID: 'carol-fragments' })).BaseResponse.Ret).toBe(0);
      // Fragments of one binary message that never gets its final frame: the node never sees a byte of it.
      await trickle((b) => l.ws.send(b, { binary: true, fin: false }), () => linkDone(l));
      await expectDisconnect(l, 1102, 'LINK_PACKET_TIMEOUT');
      expect(env.t.srv.stats().ws.messageTimeouts).toBeGreaterThanOrEqual(1);
    });

    it('keeps a link that sends whole packets slowly, byte by byte, each within the deadline', async () => {
      const l = await env.authed('bob', 'bob-slow-but-whole');
      const hb = packet(OP.Heartbeat, 77);
      for (const b of hb) {
        l.writeRaw(Buffer.from([b]));
        await sleep(20);
      }
      await l.waitFor((f) => f.op === OP.HeartbeatReply && f.seq === 77);
      expect(l.closed).toBe(false);
      await l.heartbeat();
    });
  });
});

function linkDone(l: LinkClient): boolean {
  return l.closed || l.frames.some((f) => f.op === OP.Disconnect);
}
