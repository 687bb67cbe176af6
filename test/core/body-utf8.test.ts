// One UTF-8 decoder for every JSON body (issue 11, finding 3): invalid UTF-8
// is refused on HTTP as on the long link, never stored as U+FFFD.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../server/transport/server-app.ts';
import { PATHS } from '../../server/node/http-api.ts';
import { decodeUtf8 } from '../../server/wire/packet.ts';

function post(port: number, path: string, body: Uint8Array): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** `{"UserName":"<name>","Password":"pw","NickName":"` + bytes + `"}`. */
function registerBody(name: string, nick: Uint8Array): Uint8Array {
  const head = Buffer.from(`{"UserName":"${name}","Password":"pw","NickName":"`);
  return Buffer.concat([head, nick, Buffer.from('"}')]);
}

describe('JSON bodies must be valid UTF-8', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await startServer({ host: '127.0.0.1', httpPort: 0, tcpPort: 0, db: ':memory:', scryptN: 2, tickMs: 25, closeGraceMs: 100 });
  });
  afterAll(async () => {
    await srv.close();
  });

  it.each([
    ['a lone 0xff', [0xff]],
    ['a truncated sequence', [0xc3]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['an overlong slash', [0xc0, 0xaf]],
  ])('HTTP refuses %s with 400 and Ret 1102, and stores nothing', async (_what, bytes) => {
    const r = await post(srv.httpPort, PATHS.register, registerBody('mallory', Uint8Array.from(bytes)));
    expect(r.status).toBe(400);
    expect(r.json.BaseResponse).toEqual({ Ret: 1102, ErrMsg: 'request body is not valid UTF-8' });
    // The name is still free: nothing was registered.
    const ok = await post(srv.httpPort, PATHS.register, registerBody(`mallory${bytes.length}${bytes[0]}`, Buffer.from('ok')));
    expect(ok.json.BaseResponse.Ret).toBe(0);
  });

  it('valid UTF-8 passes, byte for byte', async () => {
    const r = await post(srv.httpPort, PATHS.register, registerBody('zoe', Buffer.from('Zoë 🐼')));
    expect(r.json.BaseResponse).toEqual({ Ret: 0, ErrMsg: '' });
    const login = await post(srv.httpPort, PATHS.manualauth, Buffer.from(JSON.stringify({ UserName: 'zoe', Password: 'pw', DeviceID: 'e100000000000001' })));
    expect(login.json.BaseResponse.Ret).toBe(0);
  });

  it('the decoder throws on invalid UTF-8 and keeps a byte order mark (which JSON.parse refuses)', () => {
    expect(() => decodeUtf8(Uint8Array.from([0x7b, 0xff, 0x7d]))).toThrow(SyntaxError);
    expect(decodeUtf8(Uint8Array.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]))).toBe('\uFEFF{}');
  });
});
