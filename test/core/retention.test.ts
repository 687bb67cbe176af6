// Retention (docs/protocol.md section 3): items are kept until every device
// acknowledged them and for a minimum time; a key older than what is retained
// gets Ret 1200, never a silent gap, and webwxinit gives a key that syncs on.
import { describe, expect, it } from 'vitest';
import { STORES } from '../harness/crash-store.ts';
import { OK, keyVal, syncKey } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';

const SMALL = { minRetentionMs: 1_000, maxRetentionMs: 10_000, pruneIntervalMs: 500 };

describe.each(STORES)('retention (%s)', (store) => {
  const harness = useHarness();

  it('a key older than retention gets 1200; webwxinit then gives a key that syncs on', () => {
    const h = harness({ store, core: SMALL });
    h.register('alice');
    const phone = h.login('alice');
    const web = h.login('alice');
    const bob = h.user('bob');
    h.sendOk(bob, 'alice', 'm1');
    const old = h.sync(web); // web holds a key at m1, never presented
    expect(old.AddMsgList).toHaveLength(1);
    const stale = web.key;
    h.sendOk(bob, 'alice', 'm2');
    h.sendOk(bob, 'alice', 'm3');
    h.advance(11_000); // past maxRetention: pruned even though web never acknowledged
    h.sendOk(bob, 'alice', 'm4');
    h.drain(phone); // alice's sync prunes her log
    expect(h.messages(phone.uin).map((m) => m.Content)).toEqual(['m4']);

    const snapshot = h.snapshot();
    const mark = h.store.writes.length;
    const r = h.sync(web, stale);
    expect(r.BaseResponse.Ret).toBe(1200);
    expect(r.BaseResponse.ErrMsg).toMatch(/webwxinit/);
    expect(h.writesSince(mark)).toEqual([]);
    expect(h.snapshot()).toEqual(snapshot);
    expect(web.key).toBe(stale);

    const init = h.init(web);
    expect(init.BaseResponse).toEqual(OK);
    expect(keyVal(init.SyncKey, 1)).toBeGreaterThanOrEqual(keyVal(stale, 1));
    const after = h.sync(web);
    expect(after.BaseResponse).toEqual(OK);
    expect(after.AddMsgList.map((m: any) => m.Content)).toEqual(['m4']);
    h.sendOk(bob, 'alice', 'm5');
    expect(h.sync(web).AddMsgList.map((m: any) => m.Content)).toEqual(['m5']);
  });

  it('synccheck with a pruned key answers at once so that the sync that follows gets 1200', () => {
    const h = harness({ store, core: SMALL });
    h.register('alice');
    const phone = h.login('alice');
    const web = h.login('alice');
    const bob = h.user('bob');
    h.sendOk(bob, 'alice', 'm1');
    h.sync(web);
    const stale = web.key;
    h.sendOk(bob, 'alice', 'm2');
    h.advance(11_000);
    h.drain(phone);
    const req = h.synccheck(web, stale);
    expect(h.syncCheckResult(req)).toEqual({ retcode: '0', selector: '2' });
    expect(h.sync(web, stale).BaseResponse.Ret).toBe(1200);
  });

  it('items not acknowledged by every live device are kept past the minimum time', () => {
    const h = harness({ store, core: { ...SMALL, maxRetentionMs: 1e9 } });
    h.register('alice');
    const phone = h.login('alice');
    const web = h.login('alice');
    const bob = h.user('bob');
    const ids = [h.sendOk(bob, 'alice', 'a'), h.sendOk(bob, 'alice', 'b')];
    h.drain(phone);
    h.sync(phone); // phone acknowledged both; web acknowledged nothing
    h.advance(60_000);
    h.sync(phone); // a prune pass
    h.advance(60_000);
    h.sync(phone);
    expect(h.messages(web.uin).map((m) => m.MsgId)).toEqual(ids);
    // web also fetched but did not present: still kept.
    h.sync(web);
    h.advance(60_000);
    h.sync(phone);
    expect(h.messages(web.uin).map((m) => m.MsgId)).toEqual(ids);
    // web's next sync presents its key: now everyone acknowledged, and the items go.
    h.sync(web);
    h.advance(60_000);
    h.sync(phone);
    expect(h.items(web.uin, 1)).toEqual([]);
    // Neither device's key is now behind: both sync on.
    expect(h.sync(web).BaseResponse).toEqual(OK);
    expect(h.sync(phone).BaseResponse).toEqual(OK);
  });

  it('items younger than the minimum time are kept even when everyone acknowledged them', () => {
    const h = harness({ store, core: { minRetentionMs: 100_000, maxRetentionMs: 1e9, pruneIntervalMs: 1 } });
    const a = h.user('alice');
    const b = h.user('bob');
    h.sendOk(a, 'bob', 'young');
    h.drain(b);
    h.advance(50_000);
    h.sync(b);
    h.advance(10);
    h.sync(b);
    expect(h.items(b.uin, 1)).toHaveLength(1);
    h.advance(60_000);
    h.sync(b);
    expect(h.items(b.uin, 1)).toHaveLength(0);
  });

  it('a logged-out device does not hold retention', () => {
    const h = harness({ store, core: { ...SMALL, maxRetentionMs: 1e9 } });
    h.register('alice');
    const phone = h.login('alice');
    const web = h.login('alice');
    const bob = h.user('bob');
    h.sendOk(bob, 'alice', 'a');
    h.drain(phone);
    h.sync(phone);
    expect(h.logout(web).BaseResponse).toEqual(OK);
    h.advance(2_000);
    h.sync(phone);
    expect(h.items(phone.uin, 1)).toEqual([]);
  });

  it('Count 0 asks for everything retained: a device that logs in after a prune gets it without 1200', () => {
    const h = harness({ store, core: SMALL });
    const a = h.user('alice');
    h.register('bob');
    const phone = h.login('bob');
    h.sendOk(a, 'bob', 'old');
    h.advance(11_000);
    h.sendOk(a, 'bob', 'new');
    h.drain(phone); // bob's sync prunes 'old' (past maxRetention)
    const fresh = h.login('bob'); // a device that did not exist when 'old' went
    for (const key of [{ Count: 0, List: [] }, syncKey({ 1: 0, 2: 0 })]) {
      const r = h.sync(fresh, key);
      expect(r.BaseResponse).toEqual(OK);
      expect(r.AddMsgList.map((m: any) => m.Content)).toEqual(['new']);
    }
  });

  it('Count 0 from a device that existed when items were pruned, and acknowledged nothing, gets 1200: never a silent gap', () => {
    const h = harness({ store, core: SMALL });
    const a = h.user('alice');
    h.register('bob');
    const phone = h.login('bob');
    const tablet = h.login('bob'); // logged in, never synced
    h.sendOk(a, 'bob', 'old');
    h.advance(11_000);
    h.sendOk(a, 'bob', 'new');
    h.drain(phone);
    const r = h.sync(tablet, { Count: 0, List: [] });
    expect(r.BaseResponse.Ret).toBe(1200);
    const init = h.init(tablet);
    expect(keyVal(init.SyncKey, 1)).toBeGreaterThan(0);
    expect(h.drain(tablet).messages.map((m: any) => m.Content)).toEqual(['new']);
  });

  it('the bounded log: past maxLogItemsPerCategory the oldest consumed items go, and a device behind gets 1200', () => {
    // Only items every live device consumed may go (mailbox-full.test.ts): the old key belongs to a
    // device that logged out, so it holds nothing back.
    const h = harness({ store, core: { maxLogItemsPerCategory: 3 } });
    const a = h.user('alice');
    const b = h.user('bob');
    const old = h.login('bob');
    h.sendOk(a, 'bob', 'm0');
    h.sync(old);
    const behind = old.key;
    h.logout(old);
    for (let i = 1; i <= 4; i++) {
      h.sendOk(a, 'bob', `m${i}`);
      h.drain(b);
      h.sync(b);
      h.drain(a);
      h.sync(a);
    }
    expect(h.messages(b.uin).map((m) => m.Content)).toEqual(['m2', 'm3', 'm4']);
    const again = h.login('bob', old.deviceId);
    expect(h.sync(again, behind).BaseResponse.Ret).toBe(1200);
    h.init(again);
    expect(h.drain(again).messages.map((m) => m.Content)).toEqual(['m2', 'm3', 'm4']);
  });
});

describe.each(STORES)('the background retention sweep (%s)', (store) => {
  const harness = useHarness();

  it('prunes an account that never syncs once its items pass maxRetention, in steps of sweepBatch', () => {
    const h = harness({ store, core: { ...SMALL, sweepAccountIntervalMs: 5_000, sweepBatch: 2 }, node: { sweepIntervalMs: 1_000 } });
    const a = h.user('alice');
    const quiet = ['q1', 'q2', 'q3'].map((name) => {
      h.register(name);
      return name;
    });
    for (const name of quiet) h.sendOk(a, name, `hello ${name}`);
    const uinOf = (name: string): number => h.store.read({ kind: 'accountByName', userName: name })!.uin;
    for (const name of quiet) expect(h.messages(uinOf(name))).toHaveLength(1);
    // Nobody of q1..q3 ever syncs (they never even log in): only the sweep can prune them.
    for (let i = 0; i < 20; i++) h.advance(1_000);
    for (const name of quiet) {
      expect(h.messages(uinOf(name)), name).toHaveLength(0);
      expect(h.store.read({ kind: 'accountByName', userName: name })!.floor[1]).toBeGreaterThan(0);
    }
  });

  it('leaves alone what is younger than maxRetention or was pruned recently', () => {
    const h = harness({ store, core: { ...SMALL, sweepAccountIntervalMs: 5_000 } });
    const a = h.user('alice');
    h.register('quiet');
    h.sendOk(a, 'quiet', 'young');
    for (let i = 0; i < 8; i++) h.advance(1_000);
    const uin = h.store.read({ kind: 'accountByName', userName: 'quiet' })!.uin;
    expect(h.messages(uin).map((m) => m.Content)).toEqual(['young']);
  });
});
