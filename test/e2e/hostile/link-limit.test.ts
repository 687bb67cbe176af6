// One long link too many for an account: it is refused (op 8 Ret 1108, then
// op 6) before anything of its auth is committed. The device's session
// (here a web session of the same DeviceID) is not replaced, and no other
// link of the account is closed.
import { describe, expect, it } from 'vitest';
import { HttpDevice } from '../raw-client/http-device.ts';
import { register } from '../raw-client/http.ts';
import { OP } from '../raw-client/packets.ts';
import { PASSWORD, expectDisconnect, useHostileServer } from './hostile-server.ts';

const MAX_LINKS = 2;

describe('hostile input', () => {
  const env = useHostileServer('e2e-hostile-link-limit', { node: { maxLinksPerAccount: MAX_LINKS } });

  describe('the per-account link limit', () => {
    it('refuses one link too many with nothing committed: no new session, no other link closed', async () => {
      await register(env.t.base, 'dana', PASSWORD);
      const links = [await env.authed('dana', 'dana-phone'), await env.authed('dana', 'dana-pad')];
      // A third device, logged in over HTTP, with a poll waiting.
      const web = new HttpDevice(env.t.base, 'dana', PASSWORD, 'dana-web');
      await web.login();
      expect((await web.init()).BaseResponse.Ret).toBe(0);

      // By password: a login of that device would replace its web session.
      const byPassword = await env.tcp();
      const r = await byPassword.auth({ UserName: 'dana', Password: PASSWORD, DeviceID: 'dana-web' });
      expect(r.BaseResponse.Ret).toBe(1108);
      await expectDisconnect(byPassword, 1108, 'too many long links for this account');

      // By Sid: the same refusal.
      const bySid = await env.tcp();
      expect((await bySid.auth({ Uin: web.uin, Sid: web.sid, DeviceID: web.deviceId })).BaseResponse.Ret).toBe(1108);
      await expectDisconnect(bySid, 1108, 'too many long links for this account');

      // The web session is still the device's, and the other links are still open and answered.
      expect((await web.syncOnce()).BaseResponse.Ret).toBe(0);
      for (const l of links) {
        await l.heartbeat();
        expect(l.frames.some((f) => f.op === OP.Disconnect)).toBe(false);
      }

      // A device that already has a link replaces it: that is not one more.
      const again = await env.authed('dana', 'dana-phone');
      await expectDisconnect(links[0]!, 1109, 'this device opened a newer long link');
      await again.heartbeat();
      await links[1]!.heartbeat();
    });
  });
});
