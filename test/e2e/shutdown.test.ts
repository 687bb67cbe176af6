// close() drains: waiting polls get "nothing new", a request still uploading
// gets 503, long links are closed (TCP FIN, WebSocket 1001), the ports stop
// accepting, and it all takes well under the hold time.
import http from 'node:http';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDb } from './fixture.ts';
import { register } from './raw-client/http.ts';
import { HttpDevice } from './raw-client/http-device.ts';
import { TcpLink } from './raw-client/tcp-link.ts';
import { WsLink } from './raw-client/ws-link.ts';

describe('close()', () => {
  const tmp = tempDb('e2e-shutdown');
  afterAll(() => tmp.cleanup());

  it('answers what is waiting, closes the links and stops accepting', async () => {
    const t = await startTestServer(tmp.db, { node: { holdMs: 20_000 } });
    await register(t.base, 'frank', 'pw');
    const web = new HttpDevice(t.base, 'frank', 'pw', 'frank-web');
    await web.login();
    const tcp = await TcpLink.connect(t.tcpPort);
    expect((await tcp.auth({ UserName: 'frank', Password: 'pw', DeviceID: 'frank-phone' })).BaseResponse.Ret).toBe(0);
    const ws = await WsLink.connect(t.wsUrl);
    expect((await ws.auth({ UserName: 'frank', Password: 'pw', DeviceID: 'frank-pad' })).BaseResponse.Ret).toBe(0);
    const poll = web.synccheck();
    // A request whose body is still on its way when the server closes.
    const uploading = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: t.srv.httpPort, method: 'POST', path: '/cgi-bin/mmwebwx-bin/webwxsync', headers: { 'content-length': '100' } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write('{"BaseRequest":');
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(t.srv.stats().node.polls).toBe(1);

    const t0 = Date.now();
    await t.srv.close();
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await poll).toMatchObject({ retcode: '0', selector: '0' });
    const up = await uploading;
    expect(up.status).toBe(503);
    expect(JSON.parse(up.body).BaseResponse.Ret).toBe(2);
    await tcp.waitClosed(1000);
    await ws.waitClosed(1000);
    expect(ws.closeCode).toBe(1001);
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect(t.tcpPort, '127.0.0.1');
      s.on('connect', () => resolve('connected'));
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});
