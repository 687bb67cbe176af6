// The fault proxy's HTTP faults on loopback: a duplicated request reaches
// the server twice and the client once; a lost answer is lost after the
// server acted; a lost request never reaches it; a WebSocket upgrade passes
// through as a stream; a server that is down cuts the client's request.
import http from 'node:http';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { DeviceDice, NO_PROXY_FAULTS, type HttpRates, type ProxyRates } from '../../chaos/fault-dice.ts';
import { FaultProxy } from '../../chaos/fault-proxy.ts';
import { until } from '../e2e/raw-client/wait.ts';

/** How long a condition of these cases may take on a busy machine. */
const WAIT_MS = 20_000;

const NONE: HttpRates = NO_PROXY_FAULTS.http;

/** POST through the proxy: the answer's status and body, or the error that ended it. */
function post(port: number, path: string, body: string): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path, agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', (e) => resolve({ error: e.message }));
    });
    req.on('error', (e) => resolve({ error: e.message }));
    req.end(body);
  });
}

describe('fault proxy: HTTP faults', () => {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  /** An upstream that counts the requests it answered, and echoes WebSocket messages on /longlink. */
  async function upstream(): Promise<{ port: number; seen: string[] }> {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push(Buffer.concat(chunks).toString());
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ n: seen.length }));
      });
    });
    const wss = new WebSocketServer({ server, path: '/longlink' });
    wss.on('connection', (ws) => ws.on('message', (d, binary) => ws.send(d, { binary })));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(
      () =>
        new Promise<void>((r) => {
          for (const c of wss.clients) c.terminate();
          wss.close();
          server.closeAllConnections();
          server.close(() => r());
        }),
    );
    return { port: (server.address() as net.AddressInfo).port, seen };
  }

  async function proxy(http: Partial<HttpRates>, port: () => number | undefined): Promise<{ p: FaultProxy; faults: string[] }> {
    const faults: string[] = [];
    const rates: ProxyRates = { ...NO_PROXY_FAULTS, httpStream: { ...NO_PROXY_FAULTS.httpStream, splitProbability: 0.5, maxPieces: 3 }, http: { ...NONE, ...http } };
    const p = await FaultProxy.start({
      dice: new DeviceDice('1', 'u0.d0', () => false),
      rates,
      upstream: () => {
        const h = port();
        return h === undefined ? undefined : { host: '127.0.0.1', httpPort: h, tcpPort: 1 };
      },
      note: (what) => faults.push(what),
    });
    cleanup.push(() => p.close());
    return { p, faults };
  }

  it('passes a request and its answer whole through split writes', async () => {
    const up = await upstream();
    const { p } = await proxy({}, () => up.port);
    const body = JSON.stringify({ text: '微信 😀 '.repeat(200) });
    const r = await post(p.httpPort, '/cgi-bin/x', body);
    expect(r).toEqual({ status: 200, body: '{"n":1}' });
    expect(up.seen).toEqual([body]);
  });

  it('hands the server a second copy of a duplicated request; the client gets one answer', async () => {
    const up = await upstream();
    const { p, faults } = await proxy({ duplicateProbability: 1 }, () => up.port);
    const r = await post(p.httpPort, '/cgi-bin/x', '{"a":1}');
    expect('status' in r && r.status).toBe(200);
    await until(() => up.seen.length === 2, WAIT_MS, 'the duplicate at the server');
    expect(up.seen).toEqual(['{"a":1}', '{"a":1}']);
    expect(faults).toContain('http-duplicate');
  });

  it('loses an answer after the server has acted on the request', async () => {
    const up = await upstream();
    const { p, faults } = await proxy({ dropResponseProbability: 1 }, () => up.port);
    const r = await post(p.httpPort, '/cgi-bin/x', '{"b":2}');
    expect('error' in r).toBe(true);
    expect(up.seen).toEqual(['{"b":2}']);
    expect(faults).toEqual(['http-drop-response']);
  });

  it('loses a request before the server sees it', async () => {
    const up = await upstream();
    const { p, faults } = await proxy({ dropRequestProbability: 1 }, () => up.port);
    const r = await post(p.httpPort, '/cgi-bin/x', '{"c":3}');
    expect('error' in r).toBe(true);
    expect(up.seen).toEqual([]);
    expect(faults).toEqual(['http-drop-request']);
  });

  it('cuts the request of a client whose server is down', async () => {
    const { p } = await proxy({}, () => undefined);
    const r = await post(p.httpPort, '/cgi-bin/x', '{}');
    expect('error' in r).toBe(true);
  });

  it('passes a WebSocket long link through, a long link that a reset cuts', async () => {
    const up = await upstream();
    const { p } = await proxy({}, () => up.port);
    const ws = new WebSocket(`ws://127.0.0.1:${p.httpPort}/longlink`, { perMessageDeflate: false });
    cleanup.push(() => ws.terminate());
    const got: string[] = [];
    let closed = false;
    ws.on('message', (d) => got.push(String(d)));
    ws.on('close', () => (closed = true));
    ws.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    for (let i = 0; i < 20; i++) ws.send(Buffer.from(`frame ${i}`), { binary: true });
    await until(() => got.length === 20, WAIT_MS, 'the echoed frames');
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `frame ${i}`));
    expect(p.openLinks).toBe(1);
    expect(p.resetLinks()).toBe(1);
    await until(() => closed, WAIT_MS, 'the reset WebSocket to close');
  });
});
