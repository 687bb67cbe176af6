// Fuzzing the HTTP surface (server/node/http-api.ts): every endpoint, a known
// path with the wrong method, unknown paths; bodies built from a valid
// request of the endpoint with fields mutated, byte damage on top, arbitrary
// JSON, random bytes, bodies around the size limit; synccheck queries with
// parameters dropped, repeated or garbled. The property: an answer comes, it
// is an HTTP status with a JSON body (synccheck: its JavaScript line), and a
// refused request stores nothing.
import http from 'node:http';
import fc from 'fast-check';
import { ROUTES, type Endpoint } from '../../server/node/http-api.ts';
import type { FuzzTarget } from './fuzz-target.ts';
import { LIMITS, PASSWORD } from './fuzz-target.ts';
import {
  applyByteMutations,
  applyMutations,
  byteMutations,
  hostileValue,
  jsonText,
  mutations,
  preview,
  type ByteMutation,
  type JsonLike,
  type Mutation,
} from './mutations.ts';

const ANSWER_TIMEOUT_MS = 5000;
const SYNCCHECK_RE = /^window\.synccheck=\{retcode:"(\d+)",selector:"(\d+)"\}$/;
const UNKNOWN_PATHS = ['/', '/cgi-bin/mmwebwx-bin/nothing', '/cgi-bin/micromsg-bin/../micromsg-bin/register', '/cgi-bin/mmwebwx-bin/webwxsync/', '//cgi-bin/mmwebwx-bin/webwxinit'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'] as const;
const RECIPIENTS = ['peer', 'fuzz', 'GROUP', 'nobody', '@@999'] as const;
/** Query garbage: broken percent-escapes and separators (ASCII only: node:http refuses anything else in a path). */
const QUERY_GARBAGE = ['%', '%zz', '%E0%A4%A', '%00', '&&&', '=', '==x', '%FF%FE', '+', 'sid', '&sid=&sid='];

type BodyRecipe =
  | { kind: 'template'; json: Mutation[]; bytes: ByteMutation[] }
  | { kind: 'value'; value: JsonLike }
  | { kind: 'random'; bytes: Uint8Array }
  /** The valid body padded with whitespace to the limit plus `over` bytes (negative: under it). */
  | { kind: 'size'; over: number };

type QueryRecipe =
  | { kind: 'valid' }
  | { kind: 'none' }
  | { kind: 'mutated'; drop: string[]; set: Array<[string, string]>; garbage: string[] };

export interface HttpInput {
  target: Endpoint | { unknown: string };
  /** Undefined: the endpoint's own method. */
  method: (typeof METHODS)[number] | undefined;
  query: QueryRecipe;
  body: BodyRecipe;
  /** Send and recipient choices of the templates. */
  clientMsgId: string;
  to: (typeof RECIPIENTS)[number];
  userName: string;
}

const ENDPOINTS = [...ROUTES.values()].map((r) => r.endpoint);
const PARAMS = ['sid', 'uin', 'skey', 'deviceid', 'synckey', 'r', '_'];

const queryRecipe: fc.Arbitrary<QueryRecipe> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'valid' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('mutated' as const),
      drop: fc.subarray(PARAMS, { maxLength: 3 }),
      set: fc.array(fc.tuple(fc.constantFrom(...PARAMS), fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('', '0', '-1', '4294967296', '99999999999', '1_1|2_2', '1_0|1_0', '3_1', '1_-1', '1_01', '1_9007199254740993'))), { maxLength: 3 }),
      garbage: fc.array(fc.constantFrom(...QUERY_GARBAGE), { maxLength: 2 }),
    }),
  },
);

const bodyRecipe: fc.Arbitrary<BodyRecipe> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('template' as const), json: mutations, bytes: byteMutations }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('value' as const), value: fc.oneof(hostileValue, fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonLike>) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 300 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('size' as const), over: fc.integer({ min: -64, max: 4096 }) }) },
);

export const httpInput: fc.Arbitrary<HttpInput> = fc.record({
  target: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...ENDPOINTS) }, { weight: 1, arbitrary: fc.record({ unknown: fc.constantFrom(...UNKNOWN_PATHS) }) }),
  method: fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }),
  query: queryRecipe,
  body: bodyRecipe,
  clientMsgId: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 20 }),
  to: fc.constantFrom(...RECIPIENTS),
  userName: fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/),
});

/** The valid body of an endpoint for the current `fuzz` session. */
function template(x: FuzzTarget, e: Endpoint, inp: HttpInput): JsonLike {
  const BaseRequest = x.baseRequest;
  const to = inp.to === 'GROUP' ? x.group : inp.to;
  switch (e) {
    case 'register':
      return { UserName: inp.userName, Password: PASSWORD, NickName: 'fuzzed' };
    case 'manualauth':
      return { UserName: 'fuzzlogin', Password: PASSWORD, DeviceID: `fl-${inp.clientMsgId.length % 3}`, ClientLoginId: inp.clientMsgId.length };
    case 'webwxsync':
      return { BaseRequest, SyncKey: x.session.key as unknown as JsonLike, rr: -1 };
    case 'webwxsendmsg':
      return { BaseRequest, Msg: { ClientMsgId: inp.clientMsgId, LocalID: inp.clientMsgId, FromUserName: 'fuzz', ToUserName: to, Type: 1, Content: 'fuzz says hi' }, Scene: 0 };
    case 'webwxcreatechatroom':
      return { BaseRequest, MemberCount: 1, MemberList: [{ UserName: to }], Topic: 'fuzzed room' };
    case 'webwxoplog':
      return { BaseRequest, CmdId: 2, UserName: to, RemarkName: 'fuzzed remark' };
    case 'synccheck':
    case 'webwxinit':
    case 'webwxlogout':
      return { BaseRequest };
  }
}

function queryOf(x: FuzzTarget, e: Endpoint | undefined, q: QueryRecipe): string {
  if (q.kind === 'none') return '';
  const params = e === 'webwxsync' ? { sid: x.session.sid, skey: x.session.skey } : x.syncCheckParams();
  if (q.kind === 'valid') return `?${new URLSearchParams(params)}`;
  const p = new URLSearchParams(params);
  for (const d of q.drop) p.delete(d);
  for (const [k, v] of q.set) p.append(k, v);
  return `?${[p.toString(), ...q.garbage].filter(Boolean).join('&')}`;
}

function bodyOf(x: FuzzTarget, e: Endpoint | undefined, inp: HttpInput): Buffer {
  const valid = (): JsonLike => (e ? template(x, e, inp) : { BaseRequest: x.baseRequest });
  const b = inp.body;
  switch (b.kind) {
    case 'template':
      return applyByteMutations(Buffer.from(jsonText(applyMutations(valid(), b.json)), 'utf8'), b.bytes);
    case 'value':
      return Buffer.from(jsonText(b.value), 'utf8');
    case 'random':
      return Buffer.from(b.bytes);
    case 'size': {
      const text = jsonText(valid());
      const want = Math.max(text.length, LIMITS.maxHttpBody + b.over);
      return Buffer.from(text.slice(0, -1) + ' '.repeat(want - text.length) + text.slice(-1), 'utf8');
    }
  }
}

export interface HttpRequestPlan {
  method: string;
  path: string;
  body: Buffer;
}

export function planHttp(x: FuzzTarget, inp: HttpInput): HttpRequestPlan {
  const e = typeof inp.target === 'string' ? inp.target : undefined;
  const path = e ? [...ROUTES].find(([, r]) => r.endpoint === e)![0] : (inp.target as { unknown: string }).unknown;
  const method = inp.method ?? (e ? ROUTES.get(path)!.method : 'POST');
  const body = method === 'GET' ? Buffer.alloc(0) : bodyOf(x, e, inp);
  return { method, path: path + queryOf(x, e, inp.query), body };
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function send(port: number, p: HttpRequestPlan): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = p.method === 'GET' ? {} : { 'content-type': 'application/json', 'content-length': p.body.length };
    const req = http.request({ host: '127.0.0.1', port, method: p.method, path: p.path, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(ANSWER_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(p.method === 'GET' ? undefined : p.body);
  });
}

/** What an answer says: its status and Ret (or retcode), and whether it refused the request. */
function judge(p: HttpRequestPlan, a: Answer): { kind: string; refused: boolean; ret: number } {
  const where = `${p.method} ${p.path.slice(0, 120)} body ${preview(p.body)} → HTTP ${a.status} ${a.contentType} ${JSON.stringify(a.text.slice(0, 200))}`;
  if (a.status < 200 || a.status > 599) throw new Error(`no HTTP status: ${where}`);
  const sc = SYNCCHECK_RE.exec(a.text);
  if (sc && a.status === 200) {
    const retcode = Number(sc[1]);
    return { kind: `synccheck retcode ${retcode}`, refused: retcode !== 0, ret: retcode };
  }
  if (!a.contentType.startsWith('application/json')) throw new Error(`the answer is not JSON: ${where}`);
  let j: { BaseResponse?: { Ret?: unknown; ErrMsg?: unknown } };
  try {
    j = JSON.parse(a.text);
  } catch {
    throw new Error(`the JSON answer does not parse: ${where}`);
  }
  const ret = j?.BaseResponse?.Ret;
  if (typeof ret !== 'number' || typeof j.BaseResponse?.ErrMsg !== 'string') throw new Error(`the answer has no BaseResponse {Ret, ErrMsg}: ${where}`);
  return { kind: `HTTP ${a.status} Ret ${ret}`, refused: a.status !== 200 || ret !== 0, ret };
}

/** One HTTP input: sent, answered, judged; then the honest link must still answer. Returns the outcome's kind. */
export async function runHttpInput(x: FuzzTarget, inp: HttpInput): Promise<string> {
  const p = planHttp(x, inp);
  await x.settle();
  const before = x.store.writes;
  let a: Answer;
  try {
    a = await send(x.t.srv.httpPort, p);
  } catch (e) {
    throw new Error(`${p.method} ${p.path.slice(0, 120)} body ${preview(p.body)}: ${(e as Error).message}`);
  }
  const v = judge(p, a);
  await x.settle();
  const wrote = x.store.writes - before;
  if (v.refused && wrote > 0) throw new Error(`a refused request stored ${wrote} writes: ${p.method} ${p.path.slice(0, 120)} body ${preview(p.body)} → ${v.kind}`);
  // A fuzzed logout (or a session error on the harness's own session) ends the session the templates carry.
  if (inp.target === 'webwxlogout' || v.ret === 1100 || v.ret === 1101) {
    if (!(await x.sessionAlive())) await x.relogin();
  }
  await x.checkHonest();
  return v.kind;
}

