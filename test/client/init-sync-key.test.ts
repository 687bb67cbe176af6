// The SyncKey a login or init hands the client: it never moves a known
// position forward, and a gap in the log is announced by a resync.
import { describe, expect, it } from 'vitest';
import { PATHS } from '../../server/node/http-api.ts';
import { Op } from '../../server/wire/packet.ts';
import { ALL_TRANSPORTS as ALL } from './login-probes.ts';
import { ClientWorld, assertKeyMonotonic, eventsOf, sentPackets } from '../harness/client-world.ts';

describe.each(ALL)('the init/auth SyncKey (%s)', (transport) => {
  it('does not move a known position forward: a restart from an older save gets the rest again', () => {
    const w = new ClientWorld();
    w.register('alice');
    const bobUin = w.register('bob');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    // A short safety sync, so that a link client presents (acknowledges) its newest key too.
    const b1 = w.startPeer('b1', { userName: 'bob', deviceId: 'dev-b', transport, config: { safetySyncMs: 500 } });
    w.runFor(100);
    a.core.send('bob', 'm1', w.now);
    w.runFor(100);
    const older = b1.core.persisted();
    a.core.send('bob', 'm2', w.now);
    w.runFor(1_000);
    expect(b1.core.syncKey()[0]).toEqual([1, 2]);
    expect(w.store.read({ kind: 'device', uin: bobUin, deviceId: 'dev-b' })!.acked[1]).toBe(2); // the server holds bob's device at 2
    w.kill(b1);
    const b2 = w.startPeer('b2', { userName: 'bob', deviceId: 'dev-b', transport, persisted: older });
    w.runFor(1_000);
    expect(b2.core.inbox().map((m) => m.Content)).toEqual(['m1', 'm2']);
    expect(eventsOf(b2, 'resync')).toEqual([]);
  });

  it('after a 1200, an older save still gets what is retained beyond the floor, though its device acknowledged it', () => {
    // m2 and m3 are pruned (3 items kept); m4-m6 are retained but were acknowledged by the
    // instance the save came from, so the server's init key (the device's position, 6) is past them.
    // A save from another instance of the device is behind what the server holds: the checkers take the 1200 for a lost item.
    const w = new ClientWorld({ core: { maxLogItemsPerCategory: 3 }, checks: false });
    w.register('alice');
    const bobUin = w.register('bob');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    const b1 = w.startPeer('b1', { userName: 'bob', deviceId: 'dev-b', transport, config: { safetySyncMs: 500 } });
    w.runFor(100);
    a.core.send('bob', 'm1', w.now);
    w.runFor(100);
    const older = b1.core.persisted();
    for (let i = 2; i <= 6; i++) a.core.send('bob', `m${i}`, w.now);
    w.runFor(1_000);
    expect(w.store.read({ kind: 'device', uin: bobUin, deviceId: 'dev-b' })!.acked[1]).toBe(6);
    w.kill(b1);
    const b2 = w.startPeer('b2', { userName: 'bob', deviceId: 'dev-b', transport, persisted: older });
    w.runFor(5_000);

    expect(eventsOf(b2, 'resync')).toHaveLength(1);
    expect(b2.core.inbox().map((m) => m.Content)).toEqual(['m1', 'm4', 'm5', 'm6']);
    expect(b2.core.syncKey()).toEqual([
      [1, 6],
      [2, 0],
    ]);
    assertKeyMonotonic(b2);
    // The sync after the resync asked for everything retained in key 1 (0), and echoed key 2.
    const presented =
      transport === 'http'
        ? w.requests(b2, PATHS.webwxsync).map((r) => (JSON.parse(r.body) as { SyncKey: unknown }).SyncKey)
        : sentPackets(b2)
            .filter((p) => p.op === Op.Sync)
            .map((p) => (p.body as { SyncKey: unknown }).SyncKey);
    expect(presented.slice(0, 2)).toEqual([
      { Count: 2, List: [{ Key: 1, Val: 1 }, { Key: 2, Val: 0 }] },
      { Count: 2, List: [{ Key: 1, Val: 0 }, { Key: 2, Val: 0 }] },
    ]);
    // Only one init (or auth) after the 1200: no second resync round.
    expect(eventsOf(b2, 'loggedIn')).toHaveLength(1);
  });

  it('if asking for everything retained gets a 1200 too (the device acknowledged nothing there), takes the server key', () => {
    // dev-b is live and acknowledged nothing: only maxRetentionMs may prune past it.
    const w = new ClientWorld({ core: { maxRetentionMs: 5_000, pruneIntervalMs: 1_000 }, checks: false });
    w.register('alice');
    const bobUin = w.register('bob');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    // bob's other device keeps syncing (and so pruning) bob's account.
    w.startPeer('c', { userName: 'bob', deviceId: 'dev-c', transport: 'http' });
    // dev-b logs in, acknowledges nothing, and goes away; the account is pruned after that.
    const b1 = w.startPeer('b1', { userName: 'bob', deviceId: 'dev-b', transport });
    w.setDown(b1, true);
    w.kill(b1);
    w.runFor(2_000);
    for (let i = 1; i <= 3; i++) a.core.send('bob', `m${i}`, w.now);
    w.runFor(5_500);
    for (let i = 4; i <= 6; i++) a.core.send('bob', `m${i}`, w.now);
    w.runFor(1_000);
    const dev = w.store.read({ kind: 'device', uin: bobUin, deviceId: 'dev-b' })!;
    expect(dev.acked[1]).toBe(0);
    expect(w.store.read({ kind: 'account', uin: bobUin })!.lastPrunedAt).toBeGreaterThan(dev.createdAt);
    // A save from elsewhere holds a key (1) the server never saw this device present.
    const saved = { ...b1.core.persisted(), syncKey: [[1, 1], [2, 0]] as Array<[number, number]> };
    const b2 = w.startPeer('b2', { userName: 'bob', deviceId: 'dev-b', transport, persisted: saved });
    w.runFor(5_000);

    // 1200 for key 1; 1200 again for key 0 (this device may have missed what was pruned); then the floor.
    expect(eventsOf(b2, 'resync')).toHaveLength(2);
    expect(b2.core.inbox().map((m) => m.Content)).toEqual(['m4', 'm5', 'm6']);
    expect(b2.core.syncKey()).toEqual([
      [1, 6],
      [2, 0],
    ]);
    assertKeyMonotonic(b2);
    expect(eventsOf(b2, 'sessionLost')).toEqual([]);
  });

  it('a first login after the log was pruned announces the gap with a resync event', () => {
    // bob has no device: nothing holds his log, and the sweep prunes it once m1 and m2 pass maxRetentionMs.
    const w = new ClientWorld({ core: { maxRetentionMs: 3_000, pruneIntervalMs: 500, sweepAccountIntervalMs: 1_000 } });
    w.register('alice');
    w.register('bob');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    w.runFor(100);
    for (let i = 1; i <= 2; i++) a.core.send('bob', `m${i}`, w.now);
    w.runFor(3_500);
    for (let i = 3; i <= 4; i++) a.core.send('bob', `m${i}`, w.now);
    w.runFor(1_000);
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport });
    w.runFor(1_000);
    expect(eventsOf(b, 'resync')).toHaveLength(1);
    expect(b.core.inbox().map((m) => m.Content)).toEqual(['m3', 'm4']);
  });
});
