// The fault proxy's stream faults on loopback: whatever it delays, splits
// and merges, a stream's bytes arrive whole and in order; a partition holds
// them (and a new connection's handshake) until it heals; a reset cuts both
// sides; a server that is down refuses.
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeviceDice, NO_PROXY_FAULTS, type ProxyRates, type StreamRates } from '../../chaos/fault-dice.ts';
import { FaultProxy } from '../../chaos/fault-proxy.ts';
import { StreamPipe } from '../../chaos/stream-pipe.ts';
import { until } from '../e2e/raw-client/wait.ts';

/** How long a condition of these cases may take on a busy machine. */
const WAIT_MS = 20_000;

const CHOPPY: StreamRates = {
  latencyMs: [0, 8],
  tailProbability: 0.05,
  tailMs: 40,
  splitProbability: 0.6,
  maxPieces: 5,
  mergeProbability: 0.4,
  mergeHoldMs: [1, 10],
  stallPerSecond: 5,
  stallMeanMs: 30,
};

const RATES: ProxyRates = { ...NO_PROXY_FAULTS, link: CHOPPY };

/** An upstream that collects what each connection sends (and can echo it). */
async function collector(echo = false): Promise<{ server: net.Server; port: number; received: () => Buffer; connections: () => number; sockets: net.Socket[] }> {
  const chunks: Buffer[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      if (echo) s.write(c);
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as net.AddressInfo).port, received: () => Buffer.concat(chunks), connections: () => sockets.length, sockets };
}

const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('fault proxy: stream faults', () => {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function proxyTo(port: () => number | undefined, rates = RATES, seed = '1'): Promise<FaultProxy> {
    const faults: string[] = [];
    const p = await FaultProxy.start({
      dice: new DeviceDice(seed, 'u0.d0', () => false),
      rates,
      upstream: () => {
        const tcp = port();
        return tcp === undefined ? undefined : { host: '127.0.0.1', httpPort: 1, tcpPort: tcp };
      },
      note: (what) => faults.push(what),
    });
    cleanup.push(() => p.close());
    return p;
  }

  function connect(port: number): net.Socket {
    const s = net.connect({ host: '127.0.0.1', port, noDelay: true });
    s.on('error', () => {});
    cleanup.push(() => s.destroy());
    return s;
  }

  it('delivers every byte in order both ways through splits, merges, delays and stalls', async () => {
    const up = await collector(true);
    cleanup.push(() => new Promise((r) => up.server.close(r)));
    const p = await proxyTo(() => up.port);
    const c = connect(p.tcpPort);
    const back: Buffer[] = [];
    c.on('data', (b: Buffer) => back.push(b));
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) lines.push(`line ${i} ${'x'.repeat(i % 37)}\n`);
    const sent = Buffer.from(lines.join(''));
    for (const l of lines) c.write(l);
    await until(() => up.received().length >= sent.length && Buffer.concat(back).length >= sent.length, WAIT_MS, 'every byte both ways');
    expect(up.received().equals(sent)).toBe(true);
    expect(Buffer.concat(back).equals(sent)).toBe(true);
  });

  it('holds what a partitioned device sends, and its handshake, until the partition heals', async () => {
    const up = await collector();
    cleanup.push(() => new Promise((r) => up.server.close(r)));
    const p = await proxyTo(() => up.port, NO_PROXY_FAULTS);
    p.partition('up');
    const c = connect(p.tcpPort);
    c.write('held');
    await settle(300);
    expect(up.connections()).toBe(0);
    p.heal();
    await until(() => up.received().toString() === 'held', WAIT_MS, 'the held bytes after healing');
    // A partition of a link already open holds its bytes too.
    p.partition('both');
    c.write(' and more');
    await settle(300);
    expect(up.received().toString()).toBe('held');
    p.heal();
    await until(() => up.received().toString() === 'held and more', WAIT_MS, 'the rest after healing');
  });

  it("holds what a one-way partition blocks and passes the other way", async () => {
    const up = await collector();
    cleanup.push(() => new Promise((r) => up.server.close(r)));
    const p = await proxyTo(() => up.port, NO_PROXY_FAULTS);
    const c = connect(p.tcpPort);
    const back: Buffer[] = [];
    c.on('data', (b: Buffer) => back.push(b));
    await until(() => up.connections() === 1, WAIT_MS, 'the upstream connection');
    p.partition('down');
    c.write('up goes');
    up.sockets[0]!.write('down waits');
    await until(() => up.received().toString() === 'up goes', WAIT_MS, 'the upward bytes');
    await settle(200);
    expect(Buffer.concat(back).length).toBe(0);
    p.heal();
    await until(() => Buffer.concat(back).toString() === 'down waits', WAIT_MS, 'the downward bytes after healing');
  });

  it('resets every long link of the device at once, both sides', async () => {
    const up = await collector();
    cleanup.push(() => new Promise((r) => up.server.close(r)));
    const p = await proxyTo(() => up.port, NO_PROXY_FAULTS);
    const c = connect(p.tcpPort);
    let clientClosed = false;
    c.on('close', () => (clientClosed = true));
    await until(() => up.connections() === 1 && p.openLinks === 1, WAIT_MS, 'the link');
    let upstreamClosed = false;
    up.sockets[0]!.on('close', () => (upstreamClosed = true));
    expect(p.resetLinks()).toBe(1);
    await until(() => clientClosed && upstreamClosed, WAIT_MS, 'both sides closed');
    expect(p.openLinks).toBe(0);
  });

  it('refuses a connection while the server is down', async () => {
    const p = await proxyTo(() => undefined);
    const c = connect(p.tcpPort);
    let closed = false;
    c.on('close', () => (closed = true));
    await until(() => closed, WAIT_MS, 'the refused connection to close');
  });
});

describe('stream pipe', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function pipeWith(rates: Partial<StreamRates>): { pipe: StreamPipe; writes: Buffer[] } {
    const dice = new DeviceDice('1', 'd', () => false).direction('c', 'up', { ...NO_PROXY_FAULTS.link, ...rates });
    const writes: Buffer[] = [];
    const pipe = new StreamPipe(dice, { pause: () => {}, resume: () => {} });
    pipe.connect({ write: (b) => writes.push(b), end: () => {} });
    return { pipe, writes };
  }

  it('merges chunks that come within a hold into one write, in order', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { pipe, writes } = pipeWith({ mergeProbability: 1, mergeHoldMs: [30, 30] });
    for (let i = 0; i < 20; i++) pipe.push(Buffer.from(`${i},`));
    vi.advanceTimersByTime(100);
    expect(pipe.idle).toBe(true);
    expect(writes.length).toBe(1);
    expect(Buffer.concat(writes).toString()).toBe(Array.from({ length: 20 }, (_, i) => `${i},`).join(''));
  });

  it('splits a chunk into pieces written apart, in order', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { pipe, writes } = pipeWith({ splitProbability: 1, maxPieces: 4 });
    pipe.push(Buffer.from('abcdefghijklmnopqrstuvwxyz'));
    for (let i = 0; i < 100; i++) vi.advanceTimersByTime(1);
    expect(pipe.idle).toBe(true);
    expect(writes.length).toBeGreaterThanOrEqual(2);
    expect(Buffer.concat(writes).toString()).toBe('abcdefghijklmnopqrstuvwxyz');
  });

  it('keeps a later chunk behind an earlier slower one', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { pipe, writes } = pipeWith({ latencyMs: [0, 300] });
    const sent: string[] = [];
    for (let i = 0; i < 50; i++) {
      sent.push(`${i},`);
      pipe.push(Buffer.from(`${i},`));
      vi.advanceTimersByTime(1);
    }
    for (let i = 0; i < 400; i++) vi.advanceTimersByTime(1);
    expect(pipe.idle).toBe(true);
    expect(Buffer.concat(writes).toString()).toBe(sent.join(''));
    // The delays differ, yet nothing overtook: later chunks waited and left together with earlier ones.
    expect(writes.length).toBeLessThan(50);
  });

  it('lets nothing out while stalled or blocked', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { pipe, writes } = pipeWith({});
    pipe.block();
    pipe.push(Buffer.from('a'));
    vi.advanceTimersByTime(1000);
    expect(writes.length).toBe(0);
    pipe.unblock();
    vi.advanceTimersByTime(1);
    expect(writes.map(String)).toEqual(['a']);
    pipe.stall(5_000);
    pipe.push(Buffer.from('b'));
    vi.advanceTimersByTime(4_000);
    expect(writes.length).toBe(1);
    vi.advanceTimersByTime(2_000);
    expect(writes.map(String)).toEqual(['a', 'b']);
  });
});
