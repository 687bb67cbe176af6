// The core alone, without a server: construction, idle behaviour, re-entrant drivers, bounds.
import { describe, expect, it } from 'vitest';
import { ClientCore, type ClientAction, type ClientEvent } from '../../client/core/client-core.ts';
import { PATHS } from '../../server/node/http-api.ts';
import { ClientWorld, eventsOf } from '../harness/client-world.ts';

const base = { userName: 'alice', password: 'pw', deviceId: 'dev-a', transport: 'http' as const, random: () => 0.5 };

describe('ClientCore', () => {
  it('checks its options', () => {
    const quiet = { out: () => {}, emit: () => {} };
    expect(() => new ClientCore({ ...base, ...quiet, deviceId: 'x'.repeat(41) })).toThrow(/deviceId must be 1-40 characters/);
    expect(() => new ClientCore({ ...base, ...quiet, deviceId: 'has space' })).toThrow(/deviceId/);
    expect(() => new ClientCore({ ...base, ...quiet, transport: 'udp' as never })).toThrow(/transport must be http, tcp or ws/);
    expect(() => new ClientCore({ ...base, ...quiet, config: { maxInbox: 0 } })).toThrow(/maxInbox/);
  });

  it('does nothing before start; a send made then is queued and goes after login', () => {
    const out: ClientAction[] = [];
    const core = new ClientCore({ ...base, out: (a) => out.push(a), emit: () => {} });
    const id = core.send('bob', 'early', 1_000);
    expect(out).toEqual([]);
    expect(core.state).toBe('idle');
    expect(core.nextWakeAt()).toBeUndefined();
    expect(core.outbox()).toMatchObject([{ localId: id, clientMsgId: `dev-a-${id}`, state: 'queued', attempts: 0 }]);
    // The first LocalID comes from the time and the random source: 1000 * 1000 + 500 + 1.
    expect(id).toBe('1000501');
    core.start(2_000);
    expect(out.map((a) => (a.kind === 'http' ? a.url : a.kind))).toEqual([PATHS.manualauth]);
    // The send's attempt started and waits for the session, at most replyTimeoutMs.
    expect(core.outbox()[0]!.state).toBe('sending');
    expect(core.nextWakeAt()).toBe(2_000 + 15_000);
  });

  it('tolerates a driver that calls back in from inside out(), and keeps the output in order', () => {
    const out: ClientAction[] = [];
    const events: ClientEvent[] = [];
    let failedOnce = false;
    const core: ClientCore = new ClientCore({
      ...base,
      out: (a) => {
        out.push(a);
        if (a.kind === 'http' && !failedOnce) {
          failedOnce = true;
          core.httpFailed(a.req, 0); // connection refused, reported synchronously
        }
      },
      emit: (e) => events.push(e),
    });
    core.start(0);
    expect(out).toHaveLength(1);
    expect(core.state).toBe('loggingIn');
    expect(core.nextWakeAt()).toBe(750); // backoff(1) with random 0.5
    core.tick(750);
    expect(out.map((a) => a.kind === 'http' && [a.req, a.url])).toEqual([
      [1, PATHS.manualauth],
      [2, PATHS.manualauth],
    ]);
    // One login, retried: the same ClientLoginId (from the time and the random source: 0 * 1000 + 500),
    // persisted until a session is made.
    expect(out.map((a) => a.kind === 'http' && (JSON.parse(a.body) as { ClientLoginId: string }).ClientLoginId)).toEqual(['dev-a-L500', 'dev-a-L500']);
    expect(core.persisted().loginId).toBe('dev-a-L500');
    // Answers to unknown or finished requests are ignored.
    core.httpResponse(1, 200, '{}', 800);
    core.httpResponse(99, 200, '{}', 800);
    expect(out).toHaveLength(2);
    expect(events).toEqual([]);
  });

  it('keeps the inbox to maxInbox, oldest out first', () => {
    const w = new ClientWorld();
    w.register('alice');
    w.register('bob');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'tcp', config: { maxInbox: 3 } });
    w.runFor(100);
    for (let i = 1; i <= 5; i++) a.core.send('bob', `m${i}`, w.now);
    w.runFor(1_000);
    expect(b.core.inbox().map((m) => m.Content)).toEqual(['m3', 'm4', 'm5']);
    expect(b.core.persisted().inbox.map((m) => m.Content)).toEqual(['m3', 'm4', 'm5']);
    expect(eventsOf(b, 'applied')).toHaveLength(5);
    expect(b.core.syncKey()).toEqual([
      [1, 5],
      [2, 0],
    ]);
  });

  it('resend refuses an unknown LocalID and leaves an unfailed one alone', () => {
    const core = new ClientCore({ ...base, out: () => {}, emit: () => {} });
    expect(() => core.resend('42', 0)).toThrow('resend: no outbox entry with LocalID 42');
    const id = core.send('bob', 'x', 0);
    core.resend(id, 0);
    expect(core.outbox()).toMatchObject([{ localId: id, state: 'queued' }]);
  });
});
