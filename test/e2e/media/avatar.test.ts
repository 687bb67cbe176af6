// Avatars (webwxgeticon, webwxgetheadimg): the server keeps no pictures and
// draws one from the user name (server/web/identicon.ts), so the HeadImgUrl
// every contact carries answers a picture to a session, by its cookies or
// its parameters, and nothing to a caller without one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDb, type TestServer } from '../fixture.ts';
import { HttpDevice } from '../raw-client/http-device.ts';
import { WEB } from '../raw-client/http.ts';
import { decodePng } from '../web-login/png.ts';
import { request } from './upload-client.ts';
import { webUsers } from './web-users.ts';

describe('avatars', () => {
  const tmp = tempDb('media-avatar');
  let t: TestServer;
  let alice: HttpDevice;

  beforeAll(async () => {
    t = await startTestServer(tmp.db);
    [alice] = (await webUsers(t.base, ['alice'], 'pw')) as [HttpDevice];
  });
  afterAll(async () => {
    await t?.srv.close();
    tmp.cleanup();
  });

  const session = (): string => `uin=${alice.uin}&sid=${encodeURIComponent(alice.sid)}`;

  it('the HeadImgUrl of webwxinit answers a PNG drawn from the name: the same name the same bytes, another name others', async () => {
    const init = await alice.post('webwxinit', {});
    const url = init.json.User.HeadImgUrl as string;
    expect(url).toMatch(new RegExp(`^${WEB}webwxgeticon\\?seq=0&username=alice&skey=$`));
    const mine = await request(t.base, 'GET', `${url}&${session()}`);
    expect(mine.status).toBe(200);
    expect(mine.headers['content-type']).toBe('image/png');
    const png = decodePng(mine.body);
    expect([png.width, png.height]).toEqual([84, 84]);
    const again = await request(t.base, 'GET', `${WEB}webwxgeticon?seq=1&username=alice&${session()}`);
    expect(again.body.equals(mine.body)).toBe(true);
    const other = await request(t.base, 'GET', `${WEB}webwxgeticon?seq=0&username=someone-else&${session()}`);
    expect(other.status).toBe(200);
    expect(other.body.equals(mine.body)).toBe(false);
    const room = await request(t.base, 'GET', `${WEB}webwxgetheadimg?seq=0&username=@@42&${session()}`);
    expect(room.status).toBe(200);
  });

  it('answers no picture without a session, and a clear error without a name', async () => {
    const none = await request(t.base, 'GET', `${WEB}webwxgeticon?seq=0&username=alice`);
    expect(none.status).toBe(404);
    expect(none.json.BaseResponse.Ret).toBe(1102);
    const wrong = await request(t.base, 'GET', `${WEB}webwxgeticon?seq=0&username=alice&uin=${alice.uin}&sid=AAAAAAAAAAAAAAAAAAAAAA`);
    expect(wrong.status).toBe(404);
    expect(wrong.json.BaseResponse.Ret).toBe(1100);
    const nameless = await request(t.base, 'GET', `${WEB}webwxgeticon?seq=0&${session()}`);
    expect(nameless.status).toBe(400);
  });
});
