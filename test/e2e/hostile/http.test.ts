// Hostile input over HTTP: bodies that are not JSON objects or are too large,
// unknown paths and methods, unparseable HTTP, abandoned polls, bad synckeys.
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { WEB, httpCall } from '../raw-client/http.ts';
import { until } from '../raw-client/wait.ts';
import { MAX_HTTP_BODY, useHostileServer } from './hostile-server.ts';

describe('hostile input', () => {
  const env = useHostileServer('e2e-hostile-http');

  describe('HTTP', () => {
    it.each([
      ['not JSON', '{"BaseRequest":', 'request body is not valid JSON'],
      ['an array', '[1,2,3]', 'request body must be a JSON object'],
      ['empty', '', 'request body must be a JSON object'],
    ])('answers a body that is %s with 400 and Ret 1102', async (_n, body, errMsg) => {
      const r = await httpCall(env.t.base, 'POST', `${WEB}webwxsync`, body);
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(r.json).toEqual({ BaseResponse: { Ret: 1102, ErrMsg: errMsg } });
    });

    it('answers 404 for an unknown path and 405 for a wrong method, with Ret 1102', async () => {
      const nf = await httpCall(env.t.base, 'GET', '/cgi-bin/mmwebwx-bin/nothing?x=1');
      expect(nf.status).toBe(404);
      expect(nf.json.BaseResponse).toEqual({ Ret: 1102, ErrMsg: 'no endpoint at /cgi-bin/mmwebwx-bin/nothing' });
      const get = await httpCall(env.t.base, 'GET', `${WEB}webwxsync`);
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
      expect(get.json.BaseResponse.Ret).toBe(1102);
      const post = await httpCall(env.t.base, 'POST', `${WEB}synccheck`, {});
      expect(post.status).toBe(405);
      expect(post.headers.get('allow')).toBe('GET');
    });

    it('answers a body over maxHttpBody with 413 and Ret 1102, declared or chunked', async () => {
      const big = JSON.stringify({ BaseRequest: env.web.baseRequest, Msg: { ClientMsgId: 'big', ToUserName: 'bob', Content: 'y'.repeat(MAX_HTTP_BODY) } });
      const r = await httpCall(env.t.base, 'POST', `${WEB}webwxsendmsg`, big);
      expect(r.status).toBe(413);
      expect(r.json).toEqual({ BaseResponse: { Ret: 1102, ErrMsg: `request body is larger than ${MAX_HTTP_BODY} bytes` } });
      const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port: env.t.srv.httpPort, method: 'POST', path: `${WEB}webwxsendmsg`, headers: { 'transfer-encoding': 'chunked' } },
          (res) => {
            let body = '';
            res.on('data', (c) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        for (let i = 0; i < 8; i++) req.write(Buffer.alloc(16 * 1024, 0x20));
        req.end();
      });
      expect(chunked.status).toBe(413);
      expect(JSON.parse(chunked.body).BaseResponse.Ret).toBe(1102);
    });

    it('forgets a waiting synccheck whose client went away', async () => {
      const aborted = env.t.srv.stats().http.aborted;
      const ac = new AbortController();
      const poll = env.web.synccheck(ac.signal).catch((e: Error) => e);
      await until(() => env.t.srv.stats().node.polls === 1, 2000, 'the poll');
      ac.abort();
      expect(await poll).toBeInstanceOf(Error);
      await until(() => env.t.srv.stats().node.polls === 0, 2000, 'the poll to be dropped');
      expect(env.t.srv.stats().http.aborted).toBe(aborted + 1);
    });

    it('answers unparseable HTTP with 400 and no stack trace', async () => {
      const text = await new Promise<string>((resolve) => {
        const s = net.connect(env.t.srv.httpPort, '127.0.0.1');
        let got = '';
        s.on('data', (c) => (got += c));
        s.on('close', () => resolve(got));
        s.on('error', () => {});
        s.write('THIS IS NOT HTTP\r\n\r\n');
      });
      expect(text).toMatch(/^HTTP\/1\.1 400 /);
      expect(text).not.toMatch(/\n\s+at /);
    });

    it('answers a malformed synckey in synccheck with retcode 1102, and in webwxsync with Ret 1102', async () => {
      for (const synckey of ['abc', '1_5|1_6', '1_-3', '01_5']) {
        const q = new URLSearchParams({ sid: env.web.sid, uin: String(env.web.uin), skey: env.web.skey, deviceid: env.web.deviceId, synckey });
        const r = await httpCall(env.t.base, 'GET', `${WEB}synccheck?${q}`);
        expect(r.text, synckey).toBe('window.synccheck={retcode:"1102",selector:"0"}');
        expect(r.headers.get('content-type')).toMatch(/^text\/javascript/);
      }
      const bad = await env.web.post('webwxsync', { SyncKey: { Count: 3, List: [] } });
      expect(bad.json.BaseResponse.Ret).toBe(1102);
      expect(bad.json.BaseResponse.ErrMsg).toMatch(/^SyncKey: /);
      const missing = await httpCall(env.t.base, 'GET', `${WEB}synccheck?sid=${env.web.sid}`);
      expect(missing.text).toBe('window.synccheck={retcode:"1102",selector:"0"}');
    });
  });
});
