// synccheck: answers at once when there is news, otherwise holds; a new item
// completes every waiting synccheck of every device of the account at once,
// and the hold time ends it with selector 0.
import { describe, expect, it } from 'vitest';
import { Op } from '../../server/wire/packet.ts';
import { STORES } from '../harness/crash-store.ts';
import { useHarness } from '../harness/use-harness.ts';

const HOLD = 25_000;

describe.each(STORES)('synccheck (%s)', (store) => {
  const harness = useHarness();

  it('answers at once with the selector of what is new: 2 messages, 4 contacts, 6 both', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    const k0 = b.key;
    h.sendOk(a, 'bob', 'm');
    expect(h.syncCheckResult(h.synccheck(b, k0))).toEqual({ retcode: '0', selector: '2' });
    h.drain(b);
    const k1 = b.key;
    h.oplog(b, 'alice', 'Al'); // a contact change on key 2
    expect(h.syncCheckResult(h.synccheck(b, k1))).toEqual({ retcode: '0', selector: '4' });
    h.sendOk(a, 'bob', 'm2');
    expect(h.syncCheckResult(h.synccheck(b, k1))).toEqual({ retcode: '0', selector: '6' });
    h.drain(b);
    expect(h.syncCheckResult(h.synccheck(b))).toBeUndefined();
  });

  it('a held synccheck is completed by a new item, at the commit of that item', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    const poll = h.synccheck(b);
    expect(h.syncCheckResult(poll)).toBeUndefined();
    h.advance(HOLD - 1);
    expect(h.syncCheckResult(poll)).toBeUndefined();
    const commits = h.store.commits;
    const send = h.batch(() => h.sendReq(a, 'bob', 'ping'));
    expect(h.syncCheckResult(poll)).toBeUndefined();
    h.flush();
    expect(h.store.commits).toBe(commits + 1);
    expect(h.syncCheckResult(poll)).toEqual({ retcode: '0', selector: '2' });
    expect(h.json(send).BaseResponse.Ret).toBe(0);
    // The answer left after the commit.
    const commitAt = h.timeline.map((e) => e.kind).lastIndexOf('commit');
    const answerAt = h.timeline.findIndex((e) => e.kind === 'respond' && e.req === poll);
    expect(answerAt).toBeGreaterThan(commitAt);
  });

  it('a new item completes every waiting synccheck of every device of that account at once', () => {
    const h = harness({ store });
    h.register('alice');
    const phone = h.login('alice');
    const web = h.login('alice');
    const bob = h.user('bob');
    const carolDev = h.user('carol');
    const polls = [h.synccheck(phone), h.synccheck(web)];
    const other = h.synccheck(carolDev);
    const send = h.batch(() => h.sendReq(bob, 'alice', 'hey'));
    for (const p of polls) expect(h.syncCheckResult(p)).toBeUndefined();
    h.flush();
    expect(h.json(send).BaseResponse.Ret).toBe(0);
    for (const p of polls) expect(h.syncCheckResult(p)).toEqual({ retcode: '0', selector: '2' });
    expect(h.syncCheckResult(other)).toBeUndefined();
    // The sender's own polls are completed too (its log got the echo).
    const bobPoll = h.synccheck(bob);
    expect(h.syncCheckResult(bobPoll)).toEqual({ retcode: '0', selector: '2' });
  });

  it('with nothing new the hold time answers selector 0', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const poll = h.synccheck(a);
    h.advance(HOLD - 1);
    expect(h.syncCheckResult(poll)).toBeUndefined();
    h.advance(1);
    expect(h.syncCheckResult(poll)).toEqual({ retcode: '0', selector: '0' });
  });

  it('the hold time is configurable', () => {
    const h = harness({ store, node: { holdMs: 1_000 } });
    const a = h.user('alice');
    const poll = h.synccheck(a);
    expect(h.node.nextWakeAt()).toBeLessThanOrEqual(h.now + 1_000);
    h.advance(999);
    expect(h.syncCheckResult(poll)).toBeUndefined();
    h.advance(1);
    expect(h.syncCheckResult(poll)).toEqual({ retcode: '0', selector: '0' });
  });

  it('a synccheck in the same batch as a send (before it) is completed by that send', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    const poll = h.batch(() => {
      const p = h.synccheck(b);
      h.sendReq(a, 'bob', 'racing');
      return p;
    });
    h.flush();
    expect(h.syncCheckResult(poll)).toEqual({ retcode: '0', selector: '2' });
  });

  it('a synccheck that checked before an append committed earlier completes at once, not after the hold', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    const k = b.key;
    h.sendOk(a, 'bob', 'first');
    // A client that has not synced yet asks with its old key: news at once.
    expect(h.syncCheckResult(h.synccheck(b, k))).toEqual({ retcode: '0', selector: '2' });
  });

  it('a device\'s new synccheck replaces its waiting one, which is answered selector 0', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const p1 = h.synccheck(a);
    const p2 = h.synccheck(a);
    expect(h.syncCheckResult(p1)).toEqual({ retcode: '0', selector: '0' });
    expect(h.syncCheckResult(p2)).toBeUndefined();
  });

  it('a long link is notified (op 122) after the commit of a new item', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    const link = h.link(b);
    link.take();
    h.batch(() => h.sendReq(a, 'bob', 'x'));
    expect(link.take()).toEqual([]);
    h.flush();
    expect(link.take()).toEqual([{ op: Op.Notify, seq: 0, body: { Selector: 2 } }]);
  });

  it('a held synccheck is lost with a crash; after the restart it answers again', () => {
    const h = harness({ store });
    const a = h.user('alice');
    const b = h.user('bob');
    const poll = h.synccheck(b);
    h.restart();
    expect(h.lostRequests.has(poll)).toBe(true);
    h.sendOk(a, 'bob', 'after');
    expect(h.syncCheckResult(h.synccheck(b))).toEqual({ retcode: '0', selector: '2' });
  });
});
