// Malformed SyncKeys, over webwxsync, the long link and synccheck: 1102 and
// nothing changes (no acknowledgement, no write).
import { describe, expect, it } from 'vitest';
import { Op } from '../../server/wire/packet.ts';
import type { Harness } from '../harness/core-harness.ts';
import { STORES } from '../harness/crash-store.ts';
import { useHarness } from '../harness/use-harness.ts';

const pairs = (n: number) => Array.from({ length: n }, (_, i) => ({ Key: i + 1, Val: 0 }));

const BAD_JSON_KEYS: Array<[string, unknown]> = [
  ['missing', undefined],
  ['null', null],
  ['a number', 5],
  ['the query form as a string', '1_1|2_0'],
  ['an array', [{ Key: 1, Val: 0 }]],
  ['an empty object', {}],
  ['List not an array', { Count: 1, List: { Key: 1, Val: 0 } }],
  ['Count missing', { List: [{ Key: 1, Val: 0 }] }],
  ['Count a string', { Count: '1', List: [{ Key: 1, Val: 0 }] }],
  ['Count does not match List', { Count: 2, List: [{ Key: 1, Val: 0 }] }],
  ['a pair not an object', { Count: 1, List: [[1, 0]] }],
  ['Val missing', { Count: 1, List: [{ Key: 1 }] }],
  ['Val negative', { Count: 1, List: [{ Key: 1, Val: -1 }] }],
  ['Val fractional', { Count: 1, List: [{ Key: 1, Val: 1.5 }] }],
  ['Val a string', { Count: 1, List: [{ Key: 1, Val: '1' }] }],
  ['Val unsafe', { Count: 1, List: [{ Key: 1, Val: 2 ** 53 }] }],
  ['Key 0', { Count: 1, List: [{ Key: 0, Val: 0 }] }],
  ['Key too large', { Count: 1, List: [{ Key: 2 ** 32, Val: 0 }] }],
  ['a duplicate Key', { Count: 2, List: [{ Key: 1, Val: 0 }, { Key: 1, Val: 0 }] }],
  ['too many pairs', { Count: 33, List: pairs(33) }],
  ['ahead of the server', { Count: 2, List: [{ Key: 1, Val: 1_000_000 }, { Key: 2, Val: 0 }] }],
];

const BAD_QUERY_KEYS = ['abc', '1_', '_1', '1-2', '1_2|1_3', '01_2', '1_02', '1_-1', '1_1.5', '0_1', '1_99999999999999999', '1_1000000', '|', '1_1|'];

/** An account with some history, and a device that synced part of it. */
function world(h: Harness) {
  const a = h.user('alice');
  const b = h.user('bob');
  h.sendOk(a, 'bob', 'one');
  h.sync(b);
  h.sendOk(a, 'bob', 'two');
  return { a, b };
}

describe.each(STORES)('malformed SyncKeys (%s)', (store) => {
  const harness = useHarness();

  it.each(BAD_JSON_KEYS)('webwxsync with a SyncKey %s: 1102, nothing changes', (_what, key) => {
    const h = harness({ store });
    const { b } = world(h);
    const before = b.key;
    const r = h.unchanged(() => h.call('webwxsync', { BaseRequest: h.base(b), SyncKey: key, rr: 1 }));
    expect(r.BaseResponse.Ret).toBe(1102);
    expect(r.BaseResponse.ErrMsg).toMatch(/SyncKey/);
    expect(r.AddMsgList).toBeUndefined();
    // The device's position did not move: its real key still gets 'two'.
    expect(h.sync(b, before).AddMsgList.map((m: any) => m.Content)).toEqual(['two']);
  });

  it('the long link answers a malformed SyncKey with Ret 1102 and changes nothing', () => {
    const h = harness({ store });
    const { b } = world(h);
    const link = h.link(b);
    let seq = 10;
    for (const [what, key] of BAD_JSON_KEYS) {
      const s = seq++;
      const r = h.unchanged(() => link.sync(key, s));
      expect(r.BaseResponse.Ret, what).toBe(1102);
    }
    // The link is still usable.
    expect(link.sync(b.key, seq).BaseResponse.Ret).toBe(0);
    expect(link.last(Op.Disconnect)).toBeUndefined();
  });

  it.each(BAD_QUERY_KEYS)('synccheck with synckey %j: retcode 1102, nothing changes', (key) => {
    const h = harness({ store });
    const { b } = world(h);
    expect(h.unchanged(() => h.syncCheckResult(h.synccheck(b, key)))).toEqual({ retcode: '1102', selector: '0' });
  });

  it('unknown extra keys (3, 11, 201, 1000) are accepted and ignored', () => {
    const h = harness({ store });
    const { b } = world(h);
    const key = { Count: 5, List: [...b.key.List, { Key: 3, Val: 7 }, { Key: 201, Val: 0 }, { Key: 1000, Val: 9 }] };
    key.Count = key.List.length;
    const r = h.call('webwxsync', { BaseRequest: h.base(b), SyncKey: key });
    expect(r.BaseResponse.Ret).toBe(0);
    expect(r.AddMsgList.map((m: any) => m.Content)).toEqual(['two']);
  });
});
