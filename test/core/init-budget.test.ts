// Rooms as a lever (issue 11, finding 7): anyone may put anyone in a room, so
// webwxinit's contact list is bounded in bytes as well as in count, and
// creating rooms is a quota per account (Ret 1111 with a retry-after hint).
import { describe, expect, it } from 'vitest';
import { STORES } from '../harness/crash-store.ts';
import { OK } from '../harness/dev.ts';
import { useHarness } from '../harness/use-harness.ts';

/** The JSON size of a contact list as the budget counts it: each entry and a comma. */
function listBytes(contacts: unknown[]): number {
  return contacts.reduce<number>((n, c) => n + Buffer.byteLength(JSON.stringify(c)) + 1, 0);
}

describe.each(STORES)("webwxinit's byte budget (%s)", (store) => {
  const harness = useHarness();

  it('lists contacts up to maxInitContactBytes of JSON and leaves the rest to sync', () => {
    // One room of 13 member objects fits, not two.
    const budget = 2000;
    const h = harness({ store, core: { maxInitContactBytes: budget } });
    const names = Array.from({ length: 12 }, (_, i) => `member_with_a_long_name_${i}`);
    for (const n of names) h.register(n);
    const spammer = h.user('spammer');
    const victim = h.user('victim');
    for (let i = 0; i < 4; i++) expect(h.createRoom(spammer, ['victim', ...names], `room ${i}`).BaseResponse).toEqual(OK);
    h.oplog(victim, 'spammer', 'who is this');

    const r = h.init(victim);
    expect(r.BaseResponse).toEqual(OK);
    expect(r.Count).toBe(r.ContactList.length);
    expect(r.ContactList.length).toBeGreaterThan(0);
    expect(r.ContactList.length).toBeLessThan(4);
    expect(listBytes(r.ContactList)).toBeLessThanOrEqual(budget);
    // Every room still comes through sync (key 2).
    expect(h.drain(victim).contacts.filter((c: any) => c.UserName.startsWith('@@'))).toHaveLength(4);
  });

  it('lists everything when it fits (the default budget)', () => {
    const h = harness({ store });
    const a = h.user('alice');
    h.user('bob');
    h.createRoom(a, ['bob'], 'one');
    h.createRoom(a, ['bob'], 'two');
    h.oplog(a, 'bob', 'Bobby');
    expect(h.init(a).ContactList.map((c: any) => c.UserName)).toEqual(['@@1', '@@2', 'bob']);
  });
});

describe.each(STORES)('the room quota (%s)', (store) => {
  const harness = useHarness();

  it('creating rooms past groupCreateBurst gets 1111 with a retry-after hint, and nothing is written', () => {
    const h = harness({ store, core: { groupCreateBurst: 2, groupCreatesPerHour: 60 } });
    const a = h.user('alice');
    h.user('bob');
    expect(h.createRoom(a, ['bob']).BaseResponse).toEqual(OK);
    expect(h.createRoom(a, ['bob']).BaseResponse).toEqual(OK);
    const r = h.unchanged(() => h.createRoom(a, ['bob']));
    expect(r.BaseResponse).toEqual({ Ret: 1111, ErrMsg: 'too many chat rooms created: retry after 60000 ms' });
    // Per account: bob may still create one.
    const bob = h.login('bob');
    expect(h.createRoom(bob, ['alice']).BaseResponse).toEqual(OK);
    h.advance(60_000);
    expect(h.createRoom(a, ['bob']).BaseResponse).toEqual(OK);
  });
});
