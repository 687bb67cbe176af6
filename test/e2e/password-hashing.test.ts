// Password hashing off the event loop, on real sockets (issue 11, item 4):
// while a costly hash is out (the server's stats say so), an authenticated
// link's heartbeats are answered, round trip after round trip, and the login
// waiting for the hash is not; one more login meanwhile answers Busy (Ret 2)
// with a retry-after hint. Ordering only: no timing thresholds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ret } from '../../server/core/ret.ts';
import { startTestServer, tempDb, type TestServer } from './fixture.ts';
import { MICRO, httpCall, register } from './raw-client/http.ts';
import { TcpLink } from './raw-client/tcp-link.ts';
import { until } from './raw-client/wait.ts';

/** A cost that takes the thread pool a good while per hash (64 MiB, tens to hundreds of ms). */
const SLOW_SCRYPT_N = 1 << 16;
const HEARTBEATS = 5;

describe('password hashing on a real server', () => {
  const tmp = tempDb('e2e-hash');
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(tmp.db, { scryptN: SLOW_SCRYPT_N, node: { maxHashJobs: 1, hashBusyRetryMs: 700 } });
  }, 30_000);
  afterAll(async () => {
    await t?.srv.close();
    tmp.cleanup();
  });

  it('answers heartbeats while a login waits for its hash, and Busy to a login past maxHashJobs', async () => {
    await register(t.base, 'alice', 'pw');
    const link = await TcpLink.connect(t.tcpPort);
    try {
      expect((await link.auth({ UserName: 'alice', Password: 'pw', DeviceID: 'e000000000000001' })).BaseResponse.Ret).toBe(0);

      let answered = false;
      const login = httpCall(t.base, 'POST', `${MICRO}manualauth`, { UserName: 'alice', Password: 'pw', DeviceID: 'e000000000000002' }).then((r) => {
        answered = true;
        return r;
      });
      await until(() => t.srv.stats().node.hashJobs === 1, 10_000, 'the login to be hashing');
      for (let i = 0; i < HEARTBEATS; i++) await link.heartbeat();
      const busy = await httpCall(t.base, 'POST', `${MICRO}manualauth`, { UserName: 'alice', Password: 'pw', DeviceID: 'e000000000000003' });
      // All of that while the one hash was out, and its login unanswered.
      expect(answered).toBe(false);
      expect(t.srv.stats().node.hashJobs).toBe(1);
      expect(busy.json.BaseResponse.Ret).toBe(Ret.Busy);
      expect(busy.json.BaseResponse.ErrMsg).toMatch(/retry after 700 ms$/);

      const r = await login;
      expect(r.json.BaseResponse.Ret).toBe(0);
      expect(t.srv.stats().node.hashJobs).toBe(0);
    } finally {
      link.destroy();
    }
  }, 60_000);
});
