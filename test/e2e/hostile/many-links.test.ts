// Many connections at once, on a server of their own: the other hostile
// files close a link that does not authenticate within 400 ms, and on a busy
// machine 200 connects can take longer than that to be accepted, so here
// the auth deadline is long and the count measures the server, not the race.
import { describe, it } from 'vitest';
import { until } from '../raw-client/wait.ts';
import { useHostileServer } from './hostile-server.ts';

describe('hostile input', () => {
  const env = useHostileServer('e2e-hostile-many', { node: { authTimeoutMs: 60_000 } });
  const { tcp, ws } = env;

  it('serves 200 connections at once (150 TCP, 50 WebSocket)', async () => {
    const links = await Promise.all([...Array.from({ length: 150 }, () => tcp()), ...Array.from({ length: 50 }, () => ws())]);
    await until(() => env.t.srv.stats().node.links >= 200, 10_000, '200 links');
    await Promise.all(links.map((l) => l.heartbeat()));
    for (const l of links) l.destroy();
    await until(() => env.t.srv.stats().node.links === 0, 10_000, 'the links to close');
  });
});
