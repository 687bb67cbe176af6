import { describe, expect, it } from 'vitest';
import { STATE_VERSION, emptyState, forgetSession, mergeSyncKey, restoreState, syncKeyPairs } from '../../client/core/client-state.ts';

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
    expect(() => restoreState({ ...s, version: 3 }, 'alice', 'dev-a')).toThrow('persisted client state: version must be 1 or 2, got 3');
    expect(() => restoreState({ ...s, loginId: 'has space' }, 'alice', 'dev-a')).toThrow(/loginId must be null or 1-64 characters/);
    expect(() => restoreState({ ...s, loginId: 'x'.repeat(65) }, 'alice', 'dev-a')).toThrow(/loginId/);
    expect(() => restoreState({ ...s, syncKey: [[1, 2], [1, 3]] }, 'alice', 'dev-a')).toThrow(/syncKey: .*more than once/);
    expect(() => restoreState({ ...s, inbox: [{ MsgId: 'x' }] }, 'alice', 'dev-a')).toThrow(/inbox/);
    expect(() => restoreState({ ...s, nextLocalId: -1 }, 'alice', 'dev-a')).toThrow(/nextLocalId/);
    expect(() => restoreState(null, 'alice', 'dev-a')).toThrow(/not an object/);
  });
});

describe('the state versions', () => {
  it('writes version 2, with the ClientLoginId of a login under way', () => {
    expect(STATE_VERSION).toBe(2);
    const s = { ...emptyState('alice', 'dev-a'), loginId: 'dev-a-L1700000000000123' };
    expect(restoreState(JSON.parse(JSON.stringify(s)), 'alice', 'dev-a')).toEqual(s);
    expect(emptyState('alice', 'dev-a')).toMatchObject({ version: 2, loginId: null });
  });

  it('reads a version 1 state (no loginId) as version 2 with no login under way', () => {
    const v1 = {
      version: 1,
      userName: 'alice',
      deviceId: 'dev-a',
      session: { uin: 1, sid: 'S', skey: 'K' },
      syncKey: [[1, 4], [2, 0]],
      inbox: [{ MsgId: 9 }],
      contacts: [],
      nextLocalId: 12,
      outbox: [],
    };
    const { version: _, ...rest } = v1;
    expect(restoreState(v1, 'alice', 'dev-a')).toEqual({ ...rest, version: 2, loginId: null });
    expect(restoreState({ ...v1, session: null }, 'alice', 'dev-a')).toMatchObject({ version: 2, session: null, loginId: null });
  });

  it('keeps no login under way next to a session', () => {
    const s = { ...emptyState('alice', 'dev-a'), session: { uin: 1, sid: 'S', skey: 'K' }, loginId: 'dev-a-L5' };
    expect(restoreState(s, 'alice', 'dev-a').loginId).toBeNull();
  });
});

describe('forgetSession', () => {
  it('drops only the session and any login under way, as a copy', () => {
    const s = { ...emptyState('alice', 'dev-a'), nextLocalId: 7, session: { uin: 1, sid: 'S', skey: 'K' } };
    const f = forgetSession(s);
    expect(f).toEqual({ ...s, session: null });
    expect(s.session).toEqual({ uin: 1, sid: 'S', skey: 'K' });
    // The next start is a new login, with a new ClientLoginId.
    expect(forgetSession({ ...s, session: null, loginId: 'dev-a-L5' }).loginId).toBeNull();
  });
});
