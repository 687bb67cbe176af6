// The acknowledged position moves only when a key is presented (webwxsync,
// the long link's sync, synccheck), never when items are merely fetched, and
// it never moves back.
import { describe, expect, it } from 'vitest';
import { STORES } from '../harness/crash-store.ts';
import { OK, syncKey } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';

describe.each(STORES)('acknowledgement (%s)', (store) => {
  const harness = useHarness();

  it('fetching does not acknowledge; presenting the new key does', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    h.sendOk(a, 'bob', 'one');
    h.oplog(b, 'alice', 'Al');
    const r = h.sync(b, syncKey({ 1: 0, 2: 0 }));
    expect(r.AddMsgCount).toBe(1);
    expect(r.ModContactCount).toBe(1);
    expect(h.deviceRecord(b)!.acked).toEqual({ 1: 0, 2: 0 });
    const k = r.SyncKey;
    h.sync(b, k);
    const acked = h.deviceRecord(b)!.acked;
    expect(acked[1]).toBe(k.List.find((p: any) => p.Key === 1).Val);
    expect(acked[2]).toBe(k.List.find((p: any) => p.Key === 2).Val);
  });

  it('presenting an older key is allowed, returns those items again, and does not move the position back', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    h.sendOk(a, 'bob', 'one');
    const k0 = b.key;
    h.sync(b);
    const k1 = b.key;
    h.sync(b); // acknowledges k1
    const again = h.sync(b, k0);
    expect(again.BaseResponse).toEqual(OK);
    expect(again.AddMsgList.map((m: any) => m.Content)).toEqual(['one']);
    expect(h.deviceRecord(b)!.acked[1]).toBe(k1.List[0]!.Val);
    expect(h.init(b).SyncKey).toEqual(k1);
  });

  it('the long link sync acknowledges the key it presents, not the one it returns', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    h.sendOk(a, 'bob', 'one');
    const link = h.link(b);
    const r = link.sync(b.key, 1);
    expect(h.deviceRecord(b)!.acked).toEqual({ 1: 0, 2: 0 });
    link.sync(r.SyncKey, 2);
    expect(h.deviceRecord(b)!.acked[1]).toBe(r.SyncKey.List[0].Val);
  });

  it('synccheck presents its key: it acknowledges', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    h.sendOk(a, 'bob', 'one');
    h.sync(b);
    const req = h.synccheck(b);
    expect(h.syncCheckResult(req)).toBeUndefined();
    expect(h.deviceRecord(b)!.acked[1]).toBe(b.key.List[0]!.Val);
  });

  it('one device\'s acknowledgement does not move another\'s', () => {
    const h = harness({ store });
    h.register('alice');
    const phone = h.login('alice');
    const web = h.login('alice');
    const bob = h.user('bob');
    h.sendOk(bob, 'alice', 'x');
    h.drain(phone);
    h.sync(phone);
    expect(h.deviceRecord(phone)!.acked[1]).toBeGreaterThan(0);
    expect(h.deviceRecord(web)!.acked).toEqual({ 1: 0, 2: 0 });
    expect(h.init(web).SyncKey.List.every((p: any) => p.Val === 0)).toBe(true);
  });

  it('a sync whose answer is lost acknowledges nothing beyond what it presented', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    h.sendOk(a, 'bob', 'one');
    const k0 = b.key;
    h.call('webwxsync', { BaseRequest: h.base(b), SyncKey: k0 }); // the answer is lost
    h.sendOk(a, 'bob', 'two');
    const r = h.sync(b, k0); // the client retries with the key it has
    expect(r.AddMsgList.map((m: any) => m.Content)).toEqual(['one', 'two']);
  });
});
