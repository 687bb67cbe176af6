// Many connections from one peer: past the per-address cap every new
// connection is shed with a clear answer (HTTP 503 with a JSON body and
// Retry-After, a long link op 6 CONN_ADDRESS_LIMIT); past the cap on links
// waiting to authenticate, a new link gets op 6 LINK_UNAUTH_LIMIT. Room
// that frees up is usable again.
import net from 'node:net';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import type { TcpLink } from '../raw-client/tcp-link.ts';
import { until } from '../raw-client/wait.ts';
import { PASSWORD, expectDisconnect, useHostileServer } from './hostile-server.ts';

const PER_ADDRESS = 24;
const MAX_UNAUTH = 6;
/** Long enough that links the cases hold open unauthenticated stay open. */
const AUTH_TIMEOUT_MS = 20_000;

/** A raw HTTP request on a fresh connection: the whole answer, as text. */
function rawRequest(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (c) => (got += c));
    s.on('error', () => {});
    s.on('close', () => resolve(got));
    s.write('GET /cgi-bin/mmwebwx-bin/synccheck HTTP/1.1\r\nHost: x\r\n\r\n');
  });
}

describe('hostile input', () => {
  describe('connections over the per-address cap', () => {
    const env = useHostileServer('e2e-hostile-caps', {
      node: { authTimeoutMs: AUTH_TIMEOUT_MS },
      limits: { maxConnectionsPerAddress: PER_ADDRESS, retryAfterSec: 7 },
    });

    it('sheds a TCP link with op 6 CONN_ADDRESS_LIMIT, an HTTP connection with 503 + Retry-After, a WebSocket upgrade with 503', async () => {
      // Fill the address up to its cap (the web device's keep-alive connections count too).
      const room = PER_ADDRESS - env.t.srv.stats().connections.open;
      expect(room).toBeGreaterThan(2);
      const held: TcpLink[] = [];
      for (let i = 0; i < room; i++) held.push(await env.tcp());
      await until(() => env.t.srv.stats().connections.open === PER_ADDRESS, 2000, 'the address to be full');
      const shedBefore = env.t.srv.stats().connections.shed;

      const over = await env.tcp();
      await expectDisconnect(over, 2, 'CONN_ADDRESS_LIMIT');

      const text = await rawRequest(env.t.srv.httpPort);
      expect(text).toMatch(/^HTTP\/1\.1 503 /);
      expect(text).toMatch(/\r\nRetry-After: 7\r\n/i);
      expect(text).toMatch(/\r\nContent-Type: application\/json/i);
      const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
      expect(body.BaseResponse.Ret).toBe(2);
      expect(body.BaseResponse.ErrMsg).toMatch(/^CONN_ADDRESS_LIMIT: /);

      const upgrade = await new Promise<Error>((resolve) => {
        const w = new WebSocket(`ws://127.0.0.1:${env.t.srv.httpPort}/longlink`);
        w.on('error', resolve);
      });
      expect(upgrade.message).toMatch(/503/);
      expect(env.t.srv.stats().connections.shed).toBe(shedBefore + 3);

      // The links within the cap work; once one goes, a new connection is admitted.
      await held[0]!.heartbeat();
      held[0]!.destroy();
      await until(() => env.t.srv.stats().connections.open < PER_ADDRESS, 2000, 'a connection to close');
      const again = await env.tcp();
      await again.heartbeat();
    });
  });

  describe('new connections faster than the per-address rate', () => {
    const BURST = 12;
    const env = useHostileServer('e2e-hostile-rate', {
      node: { authTimeoutMs: AUTH_TIMEOUT_MS },
      // A short tarpit: the shed links' answers come before the rate refills a connection.
      limits: { connectionsPerSecPerAddress: 2, connectionBurstPerAddress: BURST, retryAfterSec: 3, shedDelayMs: 50 },
    });

    it('sheds the connections past the burst with op 6 CONN_RATE_LIMIT or HTTP 503, and the address gets its rate back with time', async () => {
      // The setup's connections came out of the burst too; spend the rest on links that close again.
      const shedBefore = env.t.srv.stats().connections.shed;
      let shedLink: TcpLink | undefined;
      for (let i = 0; i < BURST + 2 && !shedLink; i++) {
        const l = await env.tcp();
        const ok = await l.heartbeat().then(
          () => true,
          () => false,
        );
        if (ok) l.destroy();
        else shedLink = l;
      }
      expect(shedLink, 'a connection past the burst is shed').toBeDefined();
      await expectDisconnect(shedLink!, 2, 'CONN_RATE_LIMIT');
      const text = await rawRequest(env.t.srv.httpPort);
      expect(text).toMatch(/^HTTP\/1\.1 503 /);
      expect(text).toMatch(/\r\nRetry-After: 3\r\n/i);
      expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).BaseResponse.ErrMsg).toMatch(/^CONN_RATE_LIMIT: /);
      expect(env.t.srv.stats().connections.shed).toBeGreaterThanOrEqual(shedBefore + 2);
      // Two connections a second: after 1.5 s this one is admitted, and the check after the case too.
      await new Promise((r) => setTimeout(r, 1500));
      const again = await env.tcp();
      await again.heartbeat();
    });
  });

  describe('links waiting to authenticate over maxUnauthLinks', () => {
    const env = useHostileServer('e2e-hostile-unauth', { node: { authTimeoutMs: AUTH_TIMEOUT_MS, maxUnauthLinks: MAX_UNAUTH } });

    it('refuses one more with op 6 LINK_UNAUTH_LIMIT; an authenticated link frees its place', async () => {
      await until(() => env.t.srv.stats().node.links === 0, 2000, 'no links');
      const waiting: TcpLink[] = [];
      for (let i = 0; i < MAX_UNAUTH; i++) waiting.push(await env.tcp());
      await until(() => env.t.srv.stats().node.links === MAX_UNAUTH, 2000, 'the links waiting to authenticate');
      const over = await env.tcp();
      await expectDisconnect(over, 2, 'LINK_UNAUTH_LIMIT');
      // The waiting ones are served (heartbeats are answered before auth); one authenticates.
      await waiting[0]!.heartbeat();
      expect((await waiting[0]!.auth({ UserName: 'bob', Password: PASSWORD, DeviceID: 'bob-unauth' })).BaseResponse.Ret).toBe(0);
      const next = await env.tcp();
      await next.heartbeat();
      expect(next.closed).toBe(false);
    });
  });
});
