// Before the faults: the accounts registered and the groups created, straight
// at the server (not through a proxy), as the simulator's setup calls the
// server directly. Returns each group's chat-room name, in plan order.
import http from 'node:http';
import { Ret } from '../server/core/ret.ts';
import { PATHS } from '../server/node/http-api.ts';
import { registerAccount } from '../client/net/register-account.ts';
import type { RunSpec } from '../sim/run-spec.ts';

const SETUP_TIMEOUT_MS = 30_000;

export function passwordOf(account: string): string {
  return `pw-${account}`;
}

export async function setUp(base: string, spec: RunSpec): Promise<string[]> {
  for (const [i, a] of spec.accounts.entries()) {
    const r = await registerAccount(base, a.name, passwordOf(a.name), `User ${i}`);
    if (r.ret !== Ret.Ok) throw new Error(`setup: register ${a.name}: Ret ${r.ret} ${r.errMsg}`);
  }
  const names: string[] = [];
  for (const [g, group] of spec.groups.entries()) {
    const owner = group.members[0]!;
    const login = await postJson(base, PATHS.manualauth, { UserName: owner, Password: passwordOf(owner), DeviceID: 'setup' });
    if (login.BaseResponse?.Ret !== Ret.Ok) throw new Error(`setup: log in ${owner}: Ret ${login.BaseResponse?.Ret}`);
    const BaseRequest = { Uin: login.Uin, Sid: login.Sid, Skey: login.Skey, DeviceID: 'setup' };
    const room = await postJson(base, PATHS.webwxcreatechatroom, {
      BaseRequest,
      MemberCount: group.members.length - 1,
      MemberList: group.members.slice(1).map((UserName) => ({ UserName })),
      Topic: `group ${g}`,
    });
    if (room.BaseResponse?.Ret !== Ret.Ok || typeof room.ChatRoomName !== 'string') throw new Error(`setup: create group ${g}: Ret ${room.BaseResponse?.Ret} ${room.BaseResponse?.ErrMsg ?? ''}`);
    // The setup device leaves, so it holds back no retention.
    await postJson(base, PATHS.webwxlogout, { BaseRequest });
    names.push(room.ChatRoomName);
  }
  return names;
}

/** The fields of the setup calls' answers that setup reads (docs/protocol.md). */
interface Answer {
  BaseResponse?: { Ret?: number; ErrMsg?: string };
  Uin?: number;
  Sid?: string;
  Skey?: string;
  ChatRoomName?: string;
}

function postJson(base: string, path: string, body: unknown): Promise<Answer> {
  const url = new URL(path, base);
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method: 'POST', path, headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer);
          } catch {
            reject(new Error(`setup: ${path} answered HTTP ${res.statusCode} with no JSON`));
          }
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(SETUP_TIMEOUT_MS, () => req.destroy(new Error(`setup: ${path} unanswered after ${SETUP_TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
    req.end(text);
  });
}
