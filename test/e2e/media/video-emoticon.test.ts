// The other media sends and fetches of the web protocol (docs/protocol.md
// 5.14): webwxsendvideomsg (Type 43) and webwxsendemoticon (Type 47) name an
// upload like a picture does; webwxgetvideo and webwxgetvoice fetch a message
// of the caller's log by `msgid`, a video by Range as players ask for it; a
// non-member gets no byte, and a Type that does not fit the endpoint is
// refused with nothing stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDb, type TestServer } from '../fixture.ts';
import { HttpDevice } from '../raw-client/http-device.ts';
import { WEB } from '../raw-client/http.ts';
import { request, upload } from './upload-client.ts';
import { sessionQuery as q, webUsers } from './web-users.ts';

const PW = 'pw';

describe('video and emoticon messages (real sockets)', () => {
  const tmp = tempDb('media-video');
  let t: TestServer;
  let alice: HttpDevice;
  let bob: HttpDevice;
  let carol: HttpDevice;
  const video = Buffer.from(Array.from({ length: 20_000 }, (_, i) => (i * 13 + 5) & 0xff));
  const sticker = Buffer.from(Array.from({ length: 700 }, (_, i) => (i * 7 + 1) & 0xff));

  beforeAll(async () => {
    t = await startTestServer(tmp.db);
    [alice, bob, carol] = (await webUsers(t.base, ['alice', 'bob', 'carol'], PW)) as [HttpDevice, HttpDevice, HttpDevice];
  });
  afterAll(async () => {
    await t?.srv.close();
    tmp.cleanup();
  });

  const send = (endpoint: string, type: number, mediaId: string, id: string) =>
    alice.post(endpoint, { Msg: { Type: type, MediaId: mediaId, Content: '', FromUserName: 'alice', ToUserName: 'bob', ClientMsgId: id, LocalID: id }, Scene: 0 }, '?fun=async&f=json');

  it('a video goes as MsgType 43 and comes back whole and by Range through webwxgetvideo; a non-member gets 404', async () => {
    const up = await upload(alice, { clientMediaId: 'vid-1', file: video, name: 'clip.mp4', to: 'bob' });
    const mediaId = up.json.MediaId as string;
    expect(mediaId).toMatch(/^@media_/);
    const sent = await send('webwxsendvideomsg', 43, mediaId, 'vid-1');
    expect(sent.json.BaseResponse.Ret, sent.text).toBe(0);
    const synced = await bob.syncOnce();
    expect(synced.AddMsgList.find((m: { MsgId: number }) => m.MsgId === sent.json.MsgID)).toMatchObject({ MsgType: 43, MediaId: mediaId });

    const whole = await request(t.base, 'GET', `${WEB}webwxgetvideo?msgid=${sent.json.MsgID}&${q(bob)}`);
    expect(whole.status).toBe(200);
    expect(whole.headers['content-type']).toBe('video/mp4');
    expect(whole.body.equals(video)).toBe(true);
    const ranged = await request(t.base, 'GET', `${WEB}webwxgetvideo?msgid=${sent.json.MsgID}&${q(bob)}`, undefined, { Range: 'bytes=0-1023' });
    expect(ranged.status).toBe(206);
    expect(ranged.body.equals(video.subarray(0, 1024))).toBe(true);

    const stranger = await request(t.base, 'GET', `${WEB}webwxgetvideo?msgid=${sent.json.MsgID}&${q(carol)}`);
    expect(stranger.status).toBe(404);
    expect(stranger.json.BaseResponse.ErrMsg).toMatch(/^MEDIA_UNKNOWN/);
  });

  it('an emoticon goes as MsgType 47; webwxgetvoice serves a message of the caller\'s log by msgid', async () => {
    const up = await upload(alice, { clientMediaId: 'emo-1', file: sticker, name: 'sticker.gif', to: 'bob' });
    const sent = await send('webwxsendemoticon', 47, up.json.MediaId, 'emo-1');
    expect(sent.json.BaseResponse.Ret, sent.text).toBe(0);
    const synced = await bob.syncOnce();
    expect(synced.AddMsgList.find((m: { MsgId: number }) => m.MsgId === sent.json.MsgID)).toMatchObject({ MsgType: 47 });
    const got = await request(t.base, 'GET', `${WEB}webwxgetvoice?msgid=${sent.json.MsgID}&${q(bob)}`);
    expect(got.status).toBe(200);
    expect(got.body.equals(sticker)).toBe(true);
    const bad = await request(t.base, 'GET', `${WEB}webwxgetvoice?msgid=x&${q(bob)}`);
    expect(bad.status).toBe(400);
    expect(bad.json.BaseResponse.ErrMsg).toMatch(/^MEDIA_BAD_REQUEST: msgid/);
  });

  it('refuses a Type that does not fit the endpoint, storing nothing', async () => {
    const up = await upload(alice, { clientMediaId: 'vid-2', file: video.subarray(0, 100), name: 'c.mp4', to: 'bob' });
    const before = await bob.syncOnce();
    expect(before.BaseResponse.Ret).toBe(0);
    const wrong = await send('webwxsendvideomsg', 3, up.json.MediaId, 'vid-2');
    expect(wrong.json.BaseResponse.Ret).toBe(1102);
    expect(wrong.json.BaseResponse.ErrMsg).toMatch(/Type must be 43/);
    const emo = await send('webwxsendemoticon', 43, up.json.MediaId, 'emo-2');
    expect(emo.json.BaseResponse.ErrMsg).toMatch(/Type must be 47/);
    expect((await bob.syncOnce()).AddMsgList).toHaveLength(0);
  });
});
