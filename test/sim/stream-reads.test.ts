// Long links read as TCP reads: a write may arrive over several reads and a
// read may hold several writes, as the seed decides, with the stream's bytes
// in order and once each. Events due at the same instant run in a seeded
// order, except a stream's own, which keep theirs.
import { describe, expect, it } from 'vitest';
import { scenarioByName } from '../../scenarios/index.ts';
import { PacketDecoder } from '../../server/wire/packet-decoder.ts';
import type { Envelope, LinkDownEnvelope, LinkUpEnvelope } from '../../sim/envelope.ts';
import { EventQueue, SIM_EPOCH_MS } from '../../sim/event-queue.ts';
import { SimNetwork, type Dir, type NetFaults } from '../../sim/network.ts';
import { Streams } from '../../sim/rng.ts';
import { runScenario } from '../../sim/run.ts';

const T = SIM_EPOCH_MS + 100;
const FAULTS: NetFaults = { latencyMs: [1, 30], latencyTailProbability: 0, latencyTailMs: 0, dropProbability: 0, duplicateProbability: 0 };

function timersAtOneInstant(q: EventQueue, n: number): number[] {
  const ran: number[] = [];
  for (let i = 0; i < n; i++) q.schedule(T, 'timer', `w${i % 3}`, () => ran.push(i));
  for (let e = q.pop(); e; e = q.pop()) e.fire?.();
  return ran;
}

function seededQueue(seed: string): EventQueue {
  const streams = new Streams(seed);
  const q = new EventQueue(() => streams.get('queue'));
  q.now = SIM_EPOCH_MS;
  return q;
}

const up = (stream: number, bytes: number[]): LinkUpEnvelope => ({ kind: 'link-up', device: 'd', stream, serverLink: 1, bytes: Uint8Array.from(bytes) });
const down = (stream: number, bytes: number[]): LinkDownEnvelope => ({ kind: 'link-down', device: 'd', stream, instance: 1, link: 1, bytes: Uint8Array.from(bytes) });

describe('events due at the same instant', () => {
  it('run first in, first out without a stream', () => {
    const q = new EventQueue();
    q.now = SIM_EPOCH_MS;
    expect(timersAtOneInstant(q, 20)).toEqual([...Array(20).keys()]);
  });

  it('run in an order the seed chooses: the same for the same seed, another for another', () => {
    const a = timersAtOneInstant(seededQueue('1'), 20);
    expect(a).not.toEqual([...Array(20).keys()]);
    expect([...a].sort((x, y) => x - y)).toEqual([...Array(20).keys()]);
    expect(timersAtOneInstant(seededQueue('1'), 20)).toEqual(a);
    expect(timersAtOneInstant(seededQueue('2'), 20)).not.toEqual(a);
  });

  it("keep a stream's order one way (its bytes, then its close), while other events pass them", () => {
    for (const seed of ['1', '2', '3', '4', '5']) {
      const q = seededQueue(seed);
      const ran: string[] = [];
      for (let i = 0; i < 8; i++) {
        q.schedule(T, 'timer', 'w', () => ran.push(`t${i}`));
        q.post(T, up(1, [i]));
        q.post(T, down(1, [i]));
      }
      q.post(T, { kind: 'close-server', device: 'd', stream: 1, serverLink: 1 });
      for (let e = q.pop(); e; e = q.pop()) {
        if (e.fire) e.fire();
        else {
          const env = e.envelope!;
          ran.push(env.kind === 'close-server' ? 'close' : `${env.kind === 'link-up' ? 'u' : 'd'}${env.kind === 'link-up' || env.kind === 'link-down' ? env.bytes[0] : ''}`);
        }
      }
      expect(ran.filter((x) => x.startsWith('u') || x === 'close')).toEqual([...[...Array(8).keys()].map((i) => `u${i}`), 'close']);
      expect(ran.filter((x) => x.startsWith('d'))).toEqual([...Array(8).keys()].map((i) => `d${i}`));
      expect(ran.filter((x) => x.startsWith('t'))).not.toEqual([...Array(8).keys()].map((i) => `t${i}`));
    }
  });
});

interface StreamRun {
  written: Record<Dir, number[]>;
  read: Record<Dir, number[]>;
  /** Where each write ends, and each read, in the stream's bytes. */
  writeEnds: Record<Dir, number[]>;
  readEnds: Record<Dir, number[]>;
  closedAfterData: boolean;
  net: SimNetwork;
}

/** Bursts of writes both ways on one stream (several in one instant, as a server's answers come), then a close each way. */
function streamRun(seed: string, cutAtMs?: number): StreamRun {
  const streams = new Streams(seed);
  const q = new EventQueue(() => streams.get('queue'));
  q.now = SIM_EPOCH_MS;
  const net = new SimNetwork(q, streams.get('net'), FAULTS);
  const s = net.accept({ kind: 'connect', device: 'd', instance: 1, link: 1 })!;
  const driver = streams.get('driver');
  const r: StreamRun = { written: { up: [], down: [] }, read: { up: [], down: [] }, writeEnds: { up: [], down: [] }, readEnds: { up: [], down: [] }, closedAfterData: true, net };
  let next = 0;
  const write = (dir: Dir): void => {
    const bytes = Array.from({ length: driver.int(1, 40) }, () => next++ % 256);
    r.written[dir].push(...bytes);
    r.writeEnds[dir].push(r.written[dir].length);
    net.write(dir === 'up' ? up(s.id, bytes) : down(s.id, bytes));
  };
  for (let k = 0; k < 30; k++) {
    q.schedule(SIM_EPOCH_MS + k * 7, 'burst', 'driver', () => {
      for (let n = driver.int(1, 4); n > 0; n--) write(driver.chance(0.5) ? 'up' : 'down');
    });
  }
  q.schedule(SIM_EPOCH_MS + 300, 'close', 'driver', () => {
    net.finish({ kind: 'close-server', device: 'd', stream: s.id, serverLink: 1 });
    net.finish({ kind: 'close-client', device: 'd', stream: s.id, instance: 1, link: 1 });
  });
  if (cutAtMs !== undefined) {
    q.schedule(SIM_EPOCH_MS + cutAtMs, 'cut', 'driver', () =>
      net.cut(s.id, { kind: 'cut-client', device: 'd', instance: 1, link: 1 }, { kind: 'cut-server', device: 'd', serverLink: 1, onlyIfLinked: false }),
    );
  }
  const closed: Record<Dir, boolean> = { up: false, down: false };
  for (let e = q.pop(); e; e = q.pop()) {
    if (e.fire) {
      e.fire();
      continue;
    }
    const env: Envelope = e.envelope!;
    if (!net.arrives(env)) continue;
    if (env.kind === 'link-up' || env.kind === 'link-down') {
      const dir = env.kind === 'link-up' ? 'up' : 'down';
      if (closed[dir]) r.closedAfterData = false;
      r.read[dir].push(...env.bytes);
      r.readEnds[dir].push(r.read[dir].length);
    } else if (env.kind === 'close-server') closed.up = true;
    else if (env.kind === 'close-client') closed.down = true;
  }
  return r;
}

/** Ends of `parts` that fall strictly inside a piece ending at `ends`: how many pieces hold more than one part. */
function spanning(pieceEnds: number[], partEnds: number[]): number {
  const inner = new Set(partEnds);
  let from = 0;
  let n = 0;
  for (const to of pieceEnds) {
    for (let b = from + 1; b < to; b++) {
      if (inner.has(b)) {
        n++;
        break;
      }
    }
    from = to;
  }
  return n;
}

describe('a long link reads as TCP does', () => {
  it('delivers every byte once, in order, then the close; reads hold several writes and writes span reads', () => {
    let merged = 0;
    let split = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const r = streamRun(String(seed));
      for (const dir of ['up', 'down'] as const) {
        expect(r.read[dir]).toEqual(r.written[dir]);
        merged += spanning(r.readEnds[dir], r.writeEnds[dir]);
        split += spanning(r.writeEnds[dir], r.readEnds[dir]);
      }
      expect(r.closedAfterData).toBe(true);
      expect(r.net.stats.reads).toBe(r.readEnds.up.length + r.readEnds.down.length);
    }
    expect(merged).toBeGreaterThan(20);
    expect(split).toBeGreaterThan(20);
  });

  it('reads and their boundaries are the same for the same seed', () => {
    const a = streamRun('9');
    const b = streamRun('9');
    expect(b.readEnds).toEqual(a.readEnds);
    expect(b.net.stats).toEqual(a.net.stats);
    expect(streamRun('10').readEnds).not.toEqual(a.readEnds);
  });

  it('counts the reads that held bytes of several writes', () => {
    const r = streamRun('3');
    expect(r.net.stats.mergedReads).toBe(spanning(r.readEnds.up, r.writeEnds.up) + spanning(r.readEnds.down, r.writeEnds.down));
    expect(r.net.stats.mergedReads).toBeGreaterThan(0);
  });

  it('loses what is in flight when the stream is cut, bytes that joined an unread read included', () => {
    for (let seed = 1; seed <= 10; seed++) {
      // The first burst is still in flight half a millisecond later (latencies are 1 ms at least): none of it arrives.
      const r = streamRun(String(seed), 0.5);
      expect(r.read.up).toEqual([]);
      expect(r.read.down).toEqual([]);
      expect(r.net.stats.lostInFlight).toBe(r.net.stats.chunks);
    }
  });
});

describe('in a simulation run', () => {
  for (const [name, seed] of [
    ['calm', '1'],
    ['hostile-users', '2'],
  ] as const) {
    it(`${name} seed ${seed}: each end gets reads of several packets and packets over several reads, and keeps every guarantee`, () => {
      const decoders = new Map<string, PacketDecoder>();
      const seen = { several: { up: 0, down: 0 }, partial: { up: 0, down: 0 } };
      const r = runScenario(scenarioByName(name), seed, {
        watch: (world) => {
          const arrives = world.net.arrives.bind(world.net);
          world.net.arrives = (e: Envelope): boolean => {
            const through = arrives(e);
            if (through && (e.kind === 'link-up' || e.kind === 'link-down')) {
              const dir = e.kind === 'link-up' ? 'up' : 'down';
              const key = `${e.stream}${dir}`;
              let d = decoders.get(key);
              if (!d) decoders.set(key, (d = new PacketDecoder({ maxBody: 1 << 30 })));
              const { packets } = d.push(e.bytes);
              if (packets.length > 1) seen.several[dir]++;
              if (d.midPacket) seen.partial[dir]++;
            }
            return through;
          };
        },
      });
      expect(r.ok, JSON.stringify(r.failure)).toBe(true);
      expect(r.net.mergedReads).toBeGreaterThan(0);
      expect(r.net.splitWrites).toBeGreaterThan(0);
      for (const dir of ['up', 'down'] as const) {
        expect(seen.several[dir], `${dir}: reads of several packets`).toBeGreaterThan(0);
        expect(seen.partial[dir], `${dir}: reads ending inside a packet`).toBeGreaterThan(0);
      }
    });
  }
});
