// Creating an account before the first login: one POST to the server's
// register endpoint, outside any ClientCore (an account is not a session).
import http from 'node:http';
import { PATHS } from '../../server/node/http-api.ts';
import { NO_ANSWER } from '../core/client-core.ts';
import { parseServerUrl } from './server-address.ts';

const REGISTER_TIMEOUT_MS = 30_000;

/** The answer of a registration: `ret` is the server's Ret (NO_ANSWER when unreadable). */
export interface Registration {
  ret: number;
  errMsg: string;
  /** 0 unless registered. */
  uin: number;
}

/** POST /cgi-bin/micromsg-bin/register. Resolves with the Ret (0, or 1104 when the name is taken) and the Uin. */
export function registerAccount(
  server: string,
  userName: string,
  password: string,
  nickName?: string,
  agent?: http.Agent,
): Promise<Registration> {
  const { host, port } = parseServerUrl(server);
  const body = JSON.stringify({ UserName: userName, Password: password, ...(nickName ? { NickName: nickName } : {}) });
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host,
        port,
        method: 'POST',
        path: PATHS.register,
        ...(agent ? { agent } : {}),
        headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            const o = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { BaseResponse?: { Ret?: number; ErrMsg?: string }; Uin?: number };
            resolve({ ret: o.BaseResponse?.Ret ?? NO_ANSWER, errMsg: o.BaseResponse?.ErrMsg ?? '', uin: o.Uin ?? 0 });
          } catch {
            reject(new Error(`register: unreadable answer (HTTP ${res.statusCode})`));
          }
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(REGISTER_TIMEOUT_MS, () => req.destroy(new Error(`register: no answer within ${REGISTER_TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
    req.end(body);
  });
}
