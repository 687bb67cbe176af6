import { describe, expect, it } from 'vitest';
import { emptyState, forgetSession, mergeSyncKey, restoreState, syncKeyPairs } from '../../client/client-state.ts';

describe('mergeSyncKey', () => {
  it('takes the per-key maximum and keeps keys it did not know', () => {
    const into = new Map([
      [1, 10],
      [2, 5],
    ]);
    expect(mergeSyncKey(into, new Map([[1, 7], [2, 6], [1000, 3]]))).toBe(true);
    expect(syncKeyPairs(into)).toEqual([
      [1, 10],
      [2, 6],
      [1000, 3],
    ]);
    expect(mergeSyncKey(into, new Map([[1, 9]]))).toBe(false);
    expect(mergeSyncKey(into, new Map())).toBe(false);
  });
});

describe('restoreState', () => {
  it('round-trips through JSON as a deep copy', () => {
    const s = { ...emptyState('alice', 'dev-a'), syncKey: [[1, 4], [2, 0]] as Array<[number, number]>, session: { uin: 1, sid: 'S', skey: 'K' } };
    const r = restoreState(JSON.parse(JSON.stringify(s)), 'alice', 'dev-a');
    expect(r).toEqual(s);
    expect(r).not.toBe(s);
  });

  it('refuses a state of another user or device, or a broken one', () => {
    const s = emptyState('alice', 'dev-a');
    expect(() => restoreState(s, 'bob', 'dev-a')).toThrow('persisted client state: it belongs to user alice, not bob');
    expect(() => restoreState(s, 'alice', 'dev-b')).toThrow(/belongs to device dev-a/);
    expect(() => restoreState({ ...s, version: 2 }, 'alice', 'dev-a')).toThrow(/version must be 1/);
    expect(() => restoreState({ ...s, syncKey: [[1, 2], [1, 3]] }, 'alice', 'dev-a')).toThrow(/syncKey: .*more than once/);
    expect(() => restoreState({ ...s, inbox: [{ MsgId: 'x' }] }, 'alice', 'dev-a')).toThrow(/inbox/);
    expect(() => restoreState({ ...s, nextLocalId: -1 }, 'alice', 'dev-a')).toThrow(/nextLocalId/);
    expect(() => restoreState(null, 'alice', 'dev-a')).toThrow(/not an object/);
  });
});

describe('forgetSession', () => {
  it('drops only the session, as a copy', () => {
    const s = { ...emptyState('alice', 'dev-a'), nextLocalId: 7, session: { uin: 1, sid: 'S', skey: 'K' } };
    const f = forgetSession(s);
    expect(f).toEqual({ ...s, session: null });
    expect(s.session).toEqual({ uin: 1, sid: 'S', skey: 'K' });
  });
});
