// The upload's transport bounds over real sockets: a body over one chunk and
// its form is 413, a body that does not arrive in time is 408, both close the
// connection and leave no upload behind; the web login's cookies authenticate
// an upload; and the storage thread commits a media record like any write.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDb, type TestServer } from '../fixture.ts';
import { HttpDevice } from '../raw-client/http-device.ts';
import { WEB, register } from '../raw-client/http.ts';
import { until } from '../raw-client/wait.ts';
import { CHUNK, request, upload, uploadForm } from './upload-client.ts';

const PW = 'pw';
const BODY_TIMEOUT_MS = 400;

/** Write `bytes` on a fresh connection and read until the server closes it: the raw answer. */
function rawExchange(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    sock.on('data', (c: Buffer) => got.push(c));
    sock.on('error', () => {});
    sock.on('close', () => resolve(Buffer.concat(got).toString('latin1')));
    sock.on('connect', () => sock.write(bytes));
    setTimeout(() => reject(new Error('no close')), 10_000).unref();
  });
}

async function userOn(t: TestServer, name: string): Promise<HttpDevice> {
  await register(t.base, name, PW);
  const d = new HttpDevice(t.base, name, PW, `web-${name}`);
  await d.login();
  await d.init();
  return d;
}

describe('upload bounds', () => {
  const tmp = tempDb('media-limits');
  let t: TestServer;
  let alice: HttpDevice;

  beforeAll(async () => {
    t = await startTestServer(tmp.db, { limits: { bodyTimeoutMs: BODY_TIMEOUT_MS } });
    alice = await userOn(t, 'alice');
    await register(t.base, 'bob', PW);
  });

  afterAll(async () => {
    await t?.srv.close();
    tmp.cleanup();
  });

  it('answers 413 to a declared body over the limit, and to one that grows past it, closing the connection', async () => {
    const declared = await request(t.base, 'POST', `${WEB}webwxuploadmedia?f=json`, Buffer.alloc(t.srv.uploads.maxBody + 1), { 'Content-Type': 'multipart/form-data; boundary=x' });
    expect(declared.status).toBe(413);
    expect(declared.headers.connection).toBe('close');

    // A valid chunk behind a preamble the form parser skips, sent without a length: only the count sees it.
    const file = Buffer.alloc(3 * CHUNK, 7);
    const form = Buffer.concat([Buffer.alloc(2 * CHUNK, 'x'), Buffer.from('\r\n'), uploadForm(alice, { clientMediaId: 'huge', file, name: 'h.bin', to: 'bob', chunk: 0 })]);
    const head = `POST ${WEB}webwxuploadmedia?f=json HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=----WebKitFormBoundaryMediaTest7x\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const chunked = Buffer.concat([Buffer.from(head), Buffer.from(`${form.length.toString(16)}\r\n`), form, Buffer.from('\r\n0\r\n\r\n')]);
    const answer = await rawExchange(t.srv.httpPort, chunked);
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(answer).toMatch(/Connection: close/i);
    await until(() => t.srv.uploads.active === 0, 5000, 'the refused upload to end');
    expect(t.srv.uploads.assembler.missing(alice.uin, 'huge')).toBeUndefined();
  });

  it('answers 408 to a body that stops arriving, and the chunk does not count', async () => {
    const file = Buffer.alloc(CHUNK + 10, 3);
    const form = uploadForm(alice, { clientMediaId: 'slow', file, name: 's.bin', to: 'bob', chunk: 0 });
    const head = `POST ${WEB}webwxuploadmedia?f=json HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=----WebKitFormBoundaryMediaTest7x\r\nContent-Length: ${form.length}\r\n\r\n`;
    const answer = await rawExchange(t.srv.httpPort, Buffer.concat([Buffer.from(head), form.subarray(0, 100_000)]));
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toContain('HTTP_BODY_TIMEOUT');
    await until(() => t.srv.uploads.active === 0, 5000, 'the late upload to end');
    expect(t.srv.uploads.assembler.missing(alice.uin, 'slow')).toBeUndefined();
  });

  it('authenticates an upload by the wxuin and wxsid cookies when the BaseRequest names no Uin', async () => {
    const file = Buffer.from('cookie-authenticated bytes');
    const spec = { clientMediaId: 'by-cookie', file, name: 'c.txt', to: 'bob' };
    const form = uploadForm(alice, spec).toString('latin1').replace(JSON.stringify(alice.baseRequest), '{}');
    const type = { 'Content-Type': 'multipart/form-data; boundary=----WebKitFormBoundaryMediaTest7x' };
    const ok = await request(t.base, 'POST', `${WEB}webwxuploadmedia?f=json`, Buffer.from(form, 'latin1'), { ...type, Cookie: `wxuin=${alice.uin}; wxsid=${alice.sid}` });
    expect(ok.json.BaseResponse.Ret, ok.json.BaseResponse.ErrMsg).toBe(0);
    expect(ok.json.MediaId).toMatch(/^@media_/);
    const refused = await request(t.base, 'POST', `${WEB}webwxuploadmedia?f=json`, Buffer.from(form.replace('by-cookie', 'by-cookie2'), 'latin1'), { ...type, Cookie: `wxuin=${alice.uin}; wxsid=not-a-session` });
    expect(refused.json.BaseResponse.Ret).toBe(1100);
    expect(refused.json.MediaId).toBe('');
    expect(refused.headers.connection).toBe('close');
    // And with neither: no sender.
    const none = await request(t.base, 'POST', `${WEB}webwxuploadmedia?f=json`, Buffer.from(form.replace('by-cookie', 'by-cookie3'), 'latin1'), type);
    expect(none.json.BaseResponse.Ret).toBe(1102);
  });
});

describe('media on the storage thread', () => {
  const tmp = tempDb('media-thread');
  let t: TestServer;

  afterAll(async () => {
    await t?.srv.close();
    tmp.cleanup();
  });

  it('uploads, sends and fetches with records committed on the storage thread', async () => {
    t = await startTestServer(tmp.db, { storageThread: true });
    const alice = await userOn(t, 'alice');
    const bob = await userOn(t, 'bob');
    const file = Buffer.from('threaded media '.repeat(100));
    const up = await upload(alice, { clientMediaId: 't1', file, name: 't.png', to: 'bob' });
    expect(up.json.MediaId, up.json.BaseResponse.ErrMsg).toMatch(/^@media_/);
    const sent = await alice.post('webwxsendmsgimg', { Msg: { Type: 3, MediaId: up.json.MediaId, Content: '', FromUserName: 'alice', ToUserName: 'bob', ClientMsgId: 'ti', LocalID: 'ti' } });
    expect(sent.json.BaseResponse.Ret, sent.text).toBe(0);
    await until(async () => (await bob.syncOnce()).AddMsgList?.some((m: { MsgId: number }) => m.MsgId === sent.json.MsgID) === true, 5000, 'bob to sync the image');
    const got = await request(t.base, 'GET', `${WEB}webwxgetmsgimg?MsgID=${sent.json.MsgID}&type=big&uin=${bob.uin}&sid=${encodeURIComponent(bob.sid)}&skey=${encodeURIComponent(bob.skey)}`);
    expect(got.status).toBe(200);
    expect(got.body.equals(file)).toBe(true);
  });
});
