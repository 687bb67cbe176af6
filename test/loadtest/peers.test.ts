// The peers of the load test (loadtest/peers/): Redis Streams and NATS
// JetStream started on a temporary folder and a free loopback port, a short
// closed-loop phase through the same delivery ledger as the server's phases
// (nothing lost, nothing twice, one id per message on every device), and the
// idempotent append: a send repeated with the same ClientMsgId gets the same
// id and reaches each device once. Each peer is skipped, with the reason
// printed, when its binary is not on PATH (CI does not install them).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startJetStream } from '../../loadtest/peers/jetstream.ts';
import { runPeerPhase } from '../../loadtest/peers/peer-phase.ts';
import { PeerPopulation } from '../../loadtest/peers/peer-population.ts';
import { findOnPath } from '../../loadtest/peers/peer-process.ts';
import { peersMarkdown, ratio } from '../../loadtest/peers/peer-report.ts';
import type { PeerSystem } from '../../loadtest/peers/peer-system.ts';
import { startRedisStreams } from '../../loadtest/peers/redis-streams.ts';
import { until } from '../../loadtest/wait-until.ts';

const HOST = '127.0.0.1';

const PEERS = [
  { what: 'Redis Streams', bin: 'redis-server', start: startRedisStreams },
  { what: 'NATS JetStream', bin: 'nats-server', start: startJetStream },
] as const;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loadtest-peers-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

for (const peer of PEERS) {
  const bin = findOnPath(peer.bin);
  if (!bin) process.stdout.write(`peers.test.ts: skipping ${peer.what}: ${peer.bin} is not on PATH (apt-get install ${peer.bin})\n`);

  describe.skipIf(!bin)(`the ${peer.what} peer`, () => {
    it('delivers every acknowledged message once to every device meant, and appends a repeated send once', async () => {
      const log: string[] = [];
      const system: PeerSystem = await peer.start(bin!, HOST, dir, (l) => log.push(l));
      let pop: PeerPopulation | undefined;
      try {
        // Two devices per account and a group, so that messages go to several logs and to the sender's other device.
        pop = await PeerPopulation.create(system, { prefix: 't', devices: 8, devicesPerAccount: 2, groups: 1, groupSize: 3 });
        const r = await runPeerPhase(pop, {
          name: 'peak',
          mode: 'saturate',
          window: 4,
          durationMs: 700,
          maxMessages: 5_000,
          groupSendFraction: 0.3,
          contentBytes: [100, 100],
          quiesceTimeoutMs: 8_000,
        });
        expect(r.quiesced, log.join('\n')).toBe(true);
        expect(r.sent).toBeGreaterThan(0);
        expect(r.acked).toBe(r.sent);
        expect(r.durable).toBe(r.acked);
        expect({ lost: r.lost, duplicated: r.duplicated, mismatched: r.mismatched, failed: r.failed }).toEqual({ lost: 0, duplicated: 0, mismatched: 0, failed: 0 });
        expect(r.deliveryLatencyMs.count).toBeGreaterThanOrEqual(r.durable);

        // A message the ledger did not send counts as foreign on each device that gets it: account 0 to account 1 reaches
        // both of account 1's devices and both of account 0's (the sender reads its own account's log too).
        const m = { from: 't0', to: 't1', clientMsgId: 'again', targets: ['t1', 't0'], content: 'lt:0:0.000:once' };
        const foreign0 = pop.ledger.foreign;
        const first = await system.send(0, m);
        const second = await system.send(0, m);
        expect(second).toBe(first);
        await until(() => pop!.ledger.foreign - foreign0 >= 4, 5_000, () => 'the repeated message to arrive');
        await new Promise((res) => setTimeout(res, 300));
        expect(pop.ledger.foreign - foreign0).toBe(4);
        expect(await system.send(0, { ...m, clientMsgId: 'another' })).not.toBe(first);
      } finally {
        if (pop) await pop.close();
        else await system.close();
      }
    }, 20_000);
  });
}

describe('the peers section of the report', () => {
  it('prints ratios as a×, or 1/x below 1, and says why a peer was not measured', () => {
    expect(ratio(10, 4)).toBe('2.50×');
    expect(ratio(1, 4)).toBe('1/4.00');
    expect(ratio(undefined, 4)).toBe('–');
    expect(ratio(3, 0)).toBe('–');
    const md = peersMarkdown({ shape: 's', rate: 2000, loadAvg: [0, 0], cpus: 2, fsync: { writes: 1, p50Ms: 0.2, p99Ms: 0.8, maxMs: 5 }, peers: [], notes: ['NATS JetStream: not measured, `nats-server` is not on PATH (apt-get install nats-server).'] });
    expect(md).toMatch(/at 2,000\/s/);
    expect(md).toMatch(/- NATS JetStream: not measured, `nats-server` is not on PATH/);
  });
});
