// Hostile use of sessions: another account's Sid, and sessions a newer link
// or a new login replaced.
import { describe, expect, it } from 'vitest';
import { WEB, httpCall, manualAuth } from '../raw-client/http.ts';
import { HttpDevice } from '../raw-client/http-device.ts';
import { EMPTY_KEY } from '../raw-client/sync-key.ts';
import { until } from '../raw-client/wait.ts';
import { PASSWORD, expectDisconnect, useHostileServer } from './hostile-server.ts';

describe('hostile input', () => {
  const env = useHostileServer('e2e-hostile-sessions');
  const { tcp, ws } = env;

  describe('sessions', () => {
    it("treats another account's Sid as an unknown session (1100) everywhere", async () => {
      const bob = await manualAuth(env.t.base, 'bob', PASSWORD, 'bob-web');
      const stolen = { Uin: bob.Uin, Sid: env.web.sid, Skey: env.web.skey, DeviceID: env.web.deviceId };
      const sync = await httpCall(env.t.base, 'POST', `${WEB}webwxsync`, { BaseRequest: stolen, SyncKey: EMPTY_KEY });
      expect(sync.json).toEqual({ BaseResponse: { Ret: 1100, ErrMsg: 'unknown or expired session' } });
      const mixed = { Uin: env.web.uin, Sid: bob.Sid, Skey: bob.Skey, DeviceID: 'bob-web' };
      const send = await httpCall(env.t.base, 'POST', `${WEB}webwxsendmsg`, { BaseRequest: mixed, Msg: { ClientMsgId: 'steal', ToUserName: 'bob', Content: 'x' } });
      expect(send.json.BaseResponse.Ret).toBe(1100);
      const sc = new HttpDevice(env.t.base, 'bob', '', env.web.deviceId);
      Object.assign(sc, { uin: bob.Uin, sid: env.web.sid, skey: env.web.skey });
      expect(await sc.synccheck()).toMatchObject({ retcode: '1100', selector: '0' });
      const l = await tcp();
      const r = await l.auth({ Uin: bob.Uin, Sid: env.web.sid, DeviceID: env.web.deviceId });
      expect(r.BaseResponse.Ret).toBe(1100);
      await expectDisconnect(l, 1100, 'unknown or expired session');
    });

    it('closes the older long link of a device that opens a newer one (1109), keeping the session', async () => {
      const dev = new HttpDevice(env.t.base, 'carol', PASSWORD, 'carol-tablet');
      await dev.login();
      const older = await tcp();
      expect((await older.auth({ Uin: dev.uin, Sid: dev.sid, DeviceID: dev.deviceId })).BaseResponse.Ret).toBe(0);
      const newer = await ws();
      expect((await newer.auth({ Uin: dev.uin, Sid: dev.sid, DeviceID: dev.deviceId })).BaseResponse.Ret).toBe(0);
      await expectDisconnect(older, 1109, '');
      await newer.heartbeat();
      expect((await dev.syncOnce()).BaseResponse.Ret).toBe(0);
    });

    it('answers 1101 on synccheck and disconnects the old long link when a device logs in again', async () => {
      const first = new HttpDevice(env.t.base, 'carol', PASSWORD, 'carol-phone');
      await first.login();
      const link = await tcp();
      expect((await link.auth({ Uin: first.uin, Sid: first.sid, DeviceID: first.deviceId })).BaseResponse.Ret).toBe(0);
      const waiting = first.synccheck();
      await until(() => env.t.srv.stats().node.polls >= 1, 2000, 'the synccheck to wait');

      const second = new HttpDevice(env.t.base, 'carol', PASSWORD, 'carol-phone');
      await second.login();
      expect(second.sid).not.toBe(first.sid);
      expect(await waiting).toMatchObject({ retcode: '1101', selector: '0' });
      await expectDisconnect(link, 1101, 'session replaced');
      expect(await first.synccheck()).toMatchObject({ retcode: '1101' });
      expect((await first.syncOnce()).BaseResponse.Ret).toBe(1101);
      const again = await tcp();
      expect((await again.auth({ Uin: first.uin, Sid: first.sid, DeviceID: first.deviceId })).BaseResponse.Ret).toBe(1101);
      await expectDisconnect(again, 1101, '');
      // The new session works; logging it out ends it the same way.
      expect((await second.syncOnce()).BaseResponse.Ret).toBe(0);
      expect((await second.post('webwxlogout', {})).json.BaseResponse.Ret).toBe(0);
      expect(await second.synccheck()).toMatchObject({ retcode: '1101' });
    });
  });
});
