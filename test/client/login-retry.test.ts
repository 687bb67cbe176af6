// Logins whose answers went missing or failed after the server carried
// them out: every retry carries the same ClientLoginId and gets the session
// the first attempt made.
import { describe, expect, it } from 'vitest';
import { PATHS } from '../../server/node/http-api.ts';
import { ALL_TRANSPORTS as ALL, loginIds, loseLoginAnswers } from './login-probes.ts';
import { ClientWorld, eventsOf } from '../harness/client-world.ts';

describe.each(ALL)('a login whose answer went missing (%s)', (transport) => {
  it('is retried with the same ClientLoginId and gets the session it made', () => {
    const w = new ClientWorld();
    w.register('alice');
    w.register('bob');
    const lost = loseLoginAnswers(w, 'a', 2);
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport, config: { replyTimeoutMs: 5_000 } });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'http' });
    w.runFor(60_000);
    b.core.send('alice', 'hello', w.now);
    w.runFor(1_000);

    const ids = loginIds(w, a);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
    expect(lost).toHaveLength(2);
    expect(lost[1]).toBe(lost[0]);
    expect(eventsOf(a, 'loggedIn').map((e) => e.sid)).toEqual([lost[0]]);
    expect(a.core.session()!.sid).toBe(lost[0]);
    expect(eventsOf(a, 'sessionLost')).toEqual([]);
    expect(a.core.inbox().map((m) => m.Content)).toEqual(['hello']);
    expect(a.core.persisted().loginId).toBeNull();
  });

  it('an app killed before the answer starts again with the same ClientLoginId, and a late copy of the old request changes nothing', () => {
    const w = new ClientWorld();
    w.register('alice');
    w.register('bob');
    const lost = loseLoginAnswers(w, 'a1', 1);
    const a1 = w.startPeer('a1', { userName: 'alice', deviceId: 'dev-a', transport, config: { replyTimeoutMs: 5_000 } });
    w.runFor(1);
    const saved = JSON.parse(JSON.stringify(a1.core.persisted())) as ReturnType<typeof a1.core.persisted>;
    expect(saved.session).toBeNull();
    expect(saved.loginId).toBe(loginIds(w, a1)[0]);
    w.kill(a1);
    const a2 = w.startPeer('a2', { userName: 'alice', deviceId: 'dev-a', transport, persisted: saved });
    const b = w.startPeer('b', { userName: 'bob', deviceId: 'dev-b', transport: 'http' });
    w.runFor(100);
    expect(loginIds(w, a2)).toEqual([saved.loginId]);
    expect(a2.core.session()!.sid).toBe(lost[0]);

    // The killed app's request, held up in the network, arrives now.
    const late = JSON.stringify({ UserName: 'alice', Password: 'pw-alice', DeviceID: 'dev-a', ClientLoginId: saved.loginId });
    w.node.httpRequest(1_000_000_000, 'POST', PATHS.manualauth, late, 'late-copy', w.now);
    w.settle();
    b.core.send('alice', 'still here', w.now);
    w.runFor(1_000);
    expect(eventsOf(a2, 'sessionLost')).toEqual([]);
    expect(a2.core.session()!.sid).toBe(lost[0]);
    expect(a2.core.inbox().map((m) => m.Content)).toEqual(['still here']);
  });
});

describe('a login answered with Ret 1 after the server carried it out (HTTP)', () => {
  it('the retry carries the same ClientLoginId and gets that session', () => {
    const w = new ClientWorld();
    w.register('alice');
    const made = loseLoginAnswers(w, 'a', 1, 'Ret 1');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    w.runFor(10_000);
    const ids = loginIds(w, a);
    expect(ids).toHaveLength(2);
    expect(ids[1]).toBe(ids[0]);
    expect(a.core.session()!.sid).toBe(made[0]);
    expect(eventsOf(a, 'sessionLost')).toEqual([]);
  });

  it('so does a retry after a refused connection', () => {
    const w = new ClientWorld();
    w.register('alice');
    let n = 0;
    w.httpFate = (_p, req) => (req.url === PATHS.manualauth && n++ < 2 ? 'fail' : 'pass');
    const a = w.startPeer('a', { userName: 'alice', deviceId: 'dev-a', transport: 'http' });
    w.runFor(10_000);
    const ids = loginIds(w, a);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
    expect(a.core.state).toBe('ready');
  });
});
