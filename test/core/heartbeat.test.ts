// A long link's heartbeat keeps its session alive: a connected device that
// only heartbeats neither expires nor stops holding retention.
import { describe, expect, it } from 'vitest';
import { Op } from '../../server/wire/packet.ts';
import { STORES } from '../harness/crash-store.ts';
import { useHarness } from '../harness/use-harness.ts';

describe.each(STORES)('heartbeat (%s)', (store) => {
  const harness = useHarness();

  it('heartbeats refresh last-seen at most every lastSeenGranularityMs, and keep the session from expiring', () => {
    const h = harness({ store, core: { sessionTtlMs: 10_000, lastSeenGranularityMs: 1_000 } });
    const carol = h.user('carol');
    const link = h.link(carol);
    const seenAt = (): number => h.store.read({ kind: 'device', uin: carol.uin, deviceId: carol.deviceId })!.lastSeenAt;
    const before = seenAt();
    let seq = 10;
    const beat = (): void => {
      link.send(Op.Heartbeat, ++seq);
      expect(link.last(Op.HeartbeatReply, seq)).toBeDefined();
    };
    h.advance(500);
    beat();
    expect(seenAt()).toBe(before); // within the granularity: nothing written
    h.advance(600);
    beat();
    expect(seenAt()).toBe(before + 1_100);
    // Only heartbeats, for longer than the session TTL: the session is still good.
    for (let i = 0; i < 15; i++) {
      h.advance(1_000);
      beat();
    }
    expect(link.sync(carol.key, ++seq).BaseResponse.Ret).toBe(0);
  });

  it('without heartbeats the same session expires (1100)', () => {
    const h = harness({ store, core: { sessionTtlMs: 10_000, lastSeenGranularityMs: 1_000 } });
    const carol = h.user('carol');
    const link = h.link(carol);
    h.advance(15_000);
    expect(link.sync(carol.key, 5).BaseResponse.Ret).toBe(1100);
  });
});
