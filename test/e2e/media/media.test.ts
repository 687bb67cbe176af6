// Media end to end over real sockets (docs/protocol.md 5.14): the web
// client's upload form, in one part and in chunks out of order with one
// repeated, the refusals (MD5, a chunk past the end, a cut connection), the
// image and attachment sends, and the fetches: the recipient's bytes are the
// uploader's, a Range is a 206 slice, and a non-member gets no byte.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDb, type TestServer } from '../fixture.ts';
import { HttpDevice } from '../raw-client/http-device.ts';
import { WEB } from '../raw-client/http.ts';
import { until } from '../raw-client/wait.ts';
import { CHUNK, cutUpload, request, upload } from './upload-client.ts';
import { sessionQuery, webUsers } from './web-users.ts';

const PW = 'pw';

/** Bytes that differ at every offset, so a misplaced chunk cannot pass for the right one. */
function fileOf(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed * 7 + (i >> 9)) & 0xff;
  return b;
}

describe('media upload, send and fetch (real sockets)', () => {
  const tmp = tempDb('media-e2e');
  let t: TestServer;
  let alice: HttpDevice;
  let bob: HttpDevice;
  let carol: HttpDevice;
  const partsDir = (): string => path.join(tmp.dir, 'media', 'tmp');

  beforeAll(async () => {
    t = await startTestServer(tmp.db);
    [alice, bob, carol] = (await webUsers(t.base, ['alice', 'bob', 'carol'], PW)) as [HttpDevice, HttpDevice, HttpDevice];
  });

  afterAll(async () => {
    await t?.srv.close();
    tmp.cleanup();
  });

  const getMsgImg = (d: HttpDevice, msgId: number, type = 'big') => request(t.base, 'GET', `${WEB}webwxgetmsgimg?MsgID=${msgId}&type=${type}&${sessionQuery(d)}`);
  const getMedia = (d: HttpDevice, mediaId: string, range?: string) =>
    request(t.base, 'GET', `${WEB}webwxgetmedia?sender=alice&mediaid=${encodeURIComponent(mediaId)}&filename=f.bin&fromuser=${d.uin}&pass_ticket=p&webwx_data_ticket=t&${sessionQuery(d)}`, undefined, range ? { Range: range } : {});

  it('takes a small file in one part, and answers its MediaId again for a retried request', async () => {
    const file = fileOf(1000, 1);
    const a = await upload(alice, { clientMediaId: 'small-1', file, name: 'small.png', to: 'bob' });
    expect(a.status).toBe(200);
    expect(a.json.BaseResponse.Ret, a.json.BaseResponse.ErrMsg).toBe(0);
    expect(a.json.MediaId).toMatch(/^@media_/);
    expect(a.json.StartPos).toBe(1000);
    expect(a.json).toMatchObject({ CDNThumbImgHeight: 0, CDNThumbImgWidth: 0 });
    const again = await upload(alice, { clientMediaId: 'small-1', file, name: 'small.png', to: 'bob' });
    expect(again.json.MediaId).toBe(a.json.MediaId);
    // The uploader may fetch its own upload.
    const own = await getMedia(alice, a.json.MediaId);
    expect(own.status).toBe(200);
    expect(own.body.equals(file)).toBe(true);
  });

  it('refuses a file whose bytes do not match FileMd5, closing the connection, and stores nothing', async () => {
    const file = fileOf(2000, 2);
    const a = await upload(alice, { clientMediaId: 'bad-md5', file, name: 'x.png', to: 'bob', md5: '0'.repeat(32) });
    expect(a.json.BaseResponse.Ret).not.toBe(0);
    expect(a.json.BaseResponse.ErrMsg).toMatch(/^MEDIA_MD5_MISMATCH/);
    expect(a.json.MediaId).toBe('');
    expect(a.headers.connection).toBe('close');
    expect(t.srv.uploads.assembler.missing(alice.uin, 'bad-md5')).toBeUndefined();
  });

  it('refuses a chunk beyond TotalLen', async () => {
    const file = fileOf(CHUNK + 100, 3);
    const a = await upload(alice, { clientMediaId: 'beyond', file, name: 'b.png', to: 'bob', chunk: 5 });
    expect(a.json.BaseResponse.ErrMsg).toMatch(/^MEDIA_CHUNK_BEYOND_END/);
    expect(a.json.MediaId).toBe('');
    expect(a.headers.connection).toBe('close');
  });

  let bigId = '';
  const big = fileOf(2 * CHUNK + 12345, 4);

  it('assembles a file over 512 KiB from chunks out of order, one repeated', async () => {
    const spec = { clientMediaId: 'big-1', file: big, name: 'big photo.png', to: 'bob' };
    const c2 = await upload(alice, { ...spec, chunk: 2 });
    expect(c2.json.BaseResponse.Ret, c2.json.BaseResponse.ErrMsg).toBe(0);
    expect(c2.json).toMatchObject({ MediaId: '', StartPos: 0 });
    const c0 = await upload(alice, { ...spec, chunk: 0 });
    expect(c0.json).toMatchObject({ MediaId: '', StartPos: CHUNK });
    const c0again = await upload(alice, { ...spec, chunk: 0 });
    expect(c0again.json.BaseResponse.Ret).toBe(0);
    expect(c0again.json).toMatchObject({ MediaId: '', StartPos: CHUNK });
    const c1 = await upload(alice, { ...spec, chunk: 1 });
    expect(c1.json.BaseResponse.Ret, c1.json.BaseResponse.ErrMsg).toBe(0);
    expect(c1.json.MediaId).toMatch(/^@media_/);
    expect(c1.json.StartPos).toBe(big.length);
    bigId = c1.json.MediaId;
  });

  let imgMsgId = 0;

  it('sends it with webwxsendmsgimg; the recipient syncs it and fetches it byte for byte, whole and by Range', async () => {
    const msg = { Type: 3, MediaId: bigId, Content: '', FromUserName: 'alice', ToUserName: 'bob', ClientMsgId: 'img-1', LocalID: 'img-1' };
    const sent = await alice.post('webwxsendmsgimg', { Msg: msg, Scene: 0 }, '?fun=async&f=json');
    expect(sent.json.BaseResponse.Ret, sent.text).toBe(0);
    imgMsgId = sent.json.MsgID;
    // A retry of the same ClientMsgId is the same message.
    const retry = await alice.post('webwxsendmsgimg', { Msg: msg, Scene: 0 }, '?fun=async&f=json');
    expect(retry.json.MsgID).toBe(imgMsgId);

    const synced = await bob.syncOnce();
    const item = synced.AddMsgList.find((m: { MsgId: number }) => m.MsgId === imgMsgId);
    expect(item).toMatchObject({ MsgType: 3, MediaId: bigId, FromUserName: 'alice' });
    expect(synced.AddMsgList.filter((m: { MsgId: number }) => m.MsgId === imgMsgId)).toHaveLength(1);

    const whole = await getMsgImg(bob, imgMsgId);
    expect(whole.status).toBe(200);
    expect(whole.body.equals(big)).toBe(true);
    const slave = await getMsgImg(bob, imgMsgId, 'slave');
    expect(slave.body.equals(big)).toBe(true);

    const ranged = await getMedia(bob, bigId, 'bytes=600000-600099');
    expect(ranged.status).toBe(206);
    expect(ranged.headers['content-range']).toBe(`bytes 600000-600099/${big.length}`);
    expect(ranged.body.equals(big.subarray(600000, 600100))).toBe(true);
    const past = await getMedia(bob, bigId, `bytes=${big.length}-`);
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${big.length}`);
  });

  it('refuses a non-member\'s fetch without a byte, and a send of another account\'s MediaId', async () => {
    const byMsg = await getMsgImg(carol, imgMsgId);
    expect(byMsg.status).toBe(404);
    expect(byMsg.json.BaseResponse.ErrMsg).toMatch(/^MEDIA_UNKNOWN/);
    const byId = await getMedia(carol, bigId);
    expect(byId.status).toBe(404);
    expect(byId.json.BaseResponse.ErrMsg).toMatch(/^MEDIA_UNKNOWN/);

    const before = await carol.syncOnce();
    expect(before.BaseResponse.Ret).toBe(0);
    const stolen = await carol.post('webwxsendmsgimg', { Msg: { Type: 3, MediaId: bigId, Content: '', FromUserName: 'carol', ToUserName: 'bob', ClientMsgId: 'steal', LocalID: 'steal' } });
    expect(stolen.json.BaseResponse.Ret).not.toBe(0);
    expect(stolen.json.BaseResponse.ErrMsg).toMatch(/^MEDIA_UNKNOWN/);
    const after = await carol.syncOnce();
    expect(after.AddMsgList).toHaveLength(0);
  });

  it('sends an attachment with webwxsendappmsg; the recipient fetches it with webwxgetmedia', async () => {
    const doc = fileOf(3000, 5);
    const up = await upload(alice, { clientMediaId: 'doc-1', file: doc, name: 'notes.txt', to: 'bob' });
    const mediaId = up.json.MediaId as string;
    expect(mediaId).toMatch(/^@media_/);
    const content = `<appmsg appid='wxeb7ec651dd0aefa9' sdkver=''><title>notes.txt</title><type>6</type><appattach><totallen>3000</totallen><attachid>${mediaId}</attachid><fileext>txt</fileext></appattach></appmsg>`;
    const sent = await alice.post('webwxsendappmsg', { Msg: { Type: 6, MediaId: mediaId, Content: content, FromUserName: 'alice', ToUserName: 'bob', ClientMsgId: 'app-1', LocalID: 'app-1' }, Scene: 0 }, '?fun=async&f=json');
    expect(sent.json.BaseResponse.Ret, sent.text).toBe(0);
    const synced = await bob.syncOnce();
    expect(synced.AddMsgList.find((m: { MsgId: number }) => m.MsgId === sent.json.MsgID)).toMatchObject({ MsgType: 49, MediaId: mediaId, Content: content });
    const got = await getMedia(bob, mediaId);
    expect(got.status).toBe(200);
    expect(got.headers['content-disposition']).toContain('notes.txt');
    expect(got.body.equals(doc)).toBe(true);
  });

  it('an upload cut mid-chunk leaves nothing stored, and resumes', async () => {
    const file = fileOf(CHUNK + 5000, 6);
    const spec = { clientMediaId: 'cut-1', file, name: 'cut.png', to: 'bob' };
    const partSize = (): number => fs.readdirSync(partsDir()).reduce((n, f) => Math.max(n, fs.statSync(path.join(partsDir(), f)).size), 0);

    // Cut inside the first chunk of a new upload: no upload, no part file remains.
    await cutUpload(alice, { ...spec, chunk: 0 }, 200_000, () => until(() => partSize() > 0, 5000, 'the first chunk to reach the part file'));
    await until(() => t.srv.uploads.active === 0 && t.srv.uploads.assembler.missing(alice.uin, 'cut-1') === undefined, 5000, 'the cut upload to be dropped');
    await until(() => fs.readdirSync(partsDir()).length === 0, 5000, 'the part file to be deleted');

    // Chunk 0 whole, then chunk 1 cut: only chunk 0 counts.
    const c0 = await upload(alice, { ...spec, chunk: 0 });
    expect(c0.json).toMatchObject({ MediaId: '', StartPos: CHUNK });
    await cutUpload(alice, { ...spec, chunk: 1 }, 2000, () => until(() => t.srv.uploads.active === 1, 5000, 'the server to read the cut chunk'));
    await until(() => t.srv.uploads.active === 0, 5000, 'the cut request to end');
    expect(t.srv.uploads.assembler.missing(alice.uin, 'cut-1')).toEqual([{ start: CHUNK, end: file.length }]);
    const again0 = await upload(alice, { ...spec, chunk: 0 });
    expect(again0.json).toMatchObject({ MediaId: '', StartPos: CHUNK });

    // Resumed: the missing chunk completes it, with the right bytes.
    const c1 = await upload(alice, { ...spec, chunk: 1 });
    expect(c1.json.BaseResponse.Ret, c1.json.BaseResponse.ErrMsg).toBe(0);
    expect(c1.json.MediaId).toMatch(/^@media_/);
    const got = await getMedia(alice, c1.json.MediaId);
    expect(got.body.equals(file)).toBe(true);
  });

  it('keeps a MediaId across a restart (its record is durable)', async () => {
    await t.srv.close();
    t = await startTestServer(tmp.db);
    for (const d of [alice, bob]) d.base = t.base;
    const got = await getMsgImg(bob, imgMsgId);
    expect(got.status).toBe(200);
    expect(got.body.equals(big)).toBe(true);
  });
});
