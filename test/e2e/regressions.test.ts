// Found from the outside: a full group-commit batch once dropped its effects,
// and the key answered by init/auth needed settling (docs/protocol.md section 3.7).
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDb } from './fixture.ts';
import { register } from './raw-client/http.ts';
import { HttpDevice } from './raw-client/http-device.ts';
import { OP } from './raw-client/packets.ts';
import { keyVal } from './raw-client/sync-key.ts';
import { TcpLink } from './raw-client/tcp-link.ts';
import { until } from './raw-client/wait.ts';

describe('regressions', () => {
  const tmp = tempDb('e2e-bugs');
  afterAll(() => tmp.cleanup());

  // A batch that commits because it is full (maxBatch 1: every batch) still
  // notifies; on the storage thread, a full batch that wrote nothing (a
  // synccheck) was once never answered.
  it.each([false, true])('notifies the long links and completes synccheck when a batch fills up (maxBatch; storage thread %s)', async (storageThread) => {
    const t = await startTestServer(`${tmp.db}-${storageThread}`, { node: { maxBatch: 1, holdMs: 1500 }, storageThread });
    try {
      await register(t.base, 'gina', 'pw');
      await register(t.base, 'hank', 'pw');
      const gina = new HttpDevice(t.base, 'gina', 'pw', 'gina-web');
      await gina.login();
      const hankWeb = new HttpDevice(t.base, 'hank', 'pw', 'hank-web');
      await hankWeb.login();
      const hank = await TcpLink.connect(t.tcpPort);
      expect((await hank.auth({ UserName: 'hank', Password: 'pw', DeviceID: 'hank-phone' })).BaseResponse.Ret).toBe(0);
      const poll = hankWeb.synccheck();
      await until(() => t.srv.stats().node.polls === 1, 2000, 'the poll');
      expect((await gina.send('hank', 'hello', 'b1')).BaseResponse.Ret).toBe(0);
      const sc = await poll;
      expect(sc.selector).toBe('2');
      expect(sc.ms).toBeLessThan(1000);
      await hank.waitOp(OP.Notify, 1000);
      hank.destroy();
    } finally {
      await t.srv.close();
    }
  });

  // webwxinit and link auth answer the acknowledged position, not the last key a
  // sync reply carried: that reply may never have arrived, and answering its key
  // would skip its items. The client merges by per-key maximum, so the key it
  // holds never goes back (docs/protocol.md section 3.7).
  it('answers init and link auth with the acknowledged position, so a lost sync reply loses nothing', async () => {
    const t = await startTestServer(tmp.db + '-2');
    try {
      await register(t.base, 'ivy', 'pw');
      await register(t.base, 'jon', 'pw');
      const ivy = new HttpDevice(t.base, 'ivy', 'pw', 'ivy-web');
      await ivy.login();
      const jon = new HttpDevice(t.base, 'jon', 'pw', 'jon-web');
      await jon.login();
      expect((await ivy.send('jon', 'hi', 'k1')).BaseResponse.Ret).toBe(0);
      const sent = keyVal((await jon.syncOnce()).SyncKey, 1);
      expect(sent).toBeGreaterThan(0);
      const link = await TcpLink.connect(t.tcpPort);
      const auth = await link.auth({ Uin: jon.uin, Sid: jon.sid, DeviceID: jon.deviceId });
      link.destroy();
      const init = await jon.init();
      // Nothing presented yet beyond the login key: both answer it, below what the lost-or-not reply carried.
      expect(keyVal(init.SyncKey, 1)).toBeLessThan(sent);
      expect(keyVal(auth.SyncKey, 1)).toBe(keyVal(init.SyncKey, 1));
      // Presenting the key acknowledges it; from then on init answers it.
      // (init reset the raw client's key: the first sync fetches again, the second presents `sent`.)
      await jon.syncOnce();
      await jon.syncOnce();
      expect(keyVal((await jon.init()).SyncKey, 1)).toBe(sent);
    } finally {
      await t.srv.close();
    }
  });
});
