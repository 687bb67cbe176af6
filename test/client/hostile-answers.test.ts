// The reference client and the answers of issue 11: a send refused for now
// (1110 mailbox full, 1111 rate limited) is retried, after the server's
// retry-after hint when it gives one; a 1101 stops the core without a new
// login; and a trimmed inbox still drops what a resync from key 0 replays.
import { describe, expect, it } from 'vitest';
import type { MessageItem } from '../../server/core/model.ts';
import { PATHS } from '../../server/node/http-api.ts';
import { ClientCore, type ClientAction, type ClientEvent } from '../../client/core/client-core.ts';
import { OutputQueue } from '../../client/core/client-output.ts';
import { Inbox } from '../../client/core/inbox.ts';

const KEY = { Count: 2, List: [{ Key: 1, Val: 0 }, { Key: 2, Val: 0 }] };
const OK = { Ret: 0, ErrMsg: '' };

type Http = Extract<ClientAction, { kind: 'http' }>;

/** A client core over HTTP whose requests the test answers by hand. */
function webClient(): { core: ClientCore; http: Http[]; events: ClientEvent[]; answer: (a: Http, body: unknown, now: number) => void } {
  const http: Http[] = [];
  const events: ClientEvent[] = [];
  const core = new ClientCore({
    userName: 'alice',
    password: 'pw',
    deviceId: 'dev-a',
    transport: 'http',
    random: () => 0.5,
    out: (a) => {
      if (a.kind === 'http') http.push(a);
    },
    emit: (e) => events.push(e),
    config: { retryBaseMs: 1_000, retryMaxMs: 8_000 },
  });
  const answer = (a: Http, body: unknown, now: number): void => core.httpResponse(a.req, 200, JSON.stringify(body), now);
  return { core, http, events, answer };
}

function last(http: Http[], path: string): Http | undefined {
  return http.filter((a) => a.url.split('?')[0] === path).at(-1);
}

function sends(http: Http[]): Array<{ ClientMsgId: string }> {
  return http.filter((a) => a.url === PATHS.webwxsendmsg).map((a) => (JSON.parse(a.body) as { Msg: { ClientMsgId: string } }).Msg);
}

/** Logged in and initialised: sends may go out. */
function ready(): ReturnType<typeof webClient> {
  const c = webClient();
  c.core.start(0);
  c.answer(last(c.http, PATHS.manualauth)!, { BaseResponse: OK, Uin: 7, Sid: 'SID', Skey: 'SKEY', SyncKey: KEY }, 1);
  c.answer(last(c.http, PATHS.webwxinit)!, { BaseResponse: OK, SyncKey: KEY, SKey: 'SKEY', ContactList: [] }, 2);
  return c;
}

describe('the client and a refused send', () => {
  it('1111: waits for the retry-after hint (when longer than its backoff), then retries with the same ClientMsgId', () => {
    const c = ready();
    c.core.send('bob', 'hi', 10);
    const first = last(c.http, PATHS.webwxsendmsg)!;
    c.answer(first, { BaseResponse: { Ret: 1111, ErrMsg: 'too many messages sent: retry after 5000 ms' } }, 20);
    expect(c.core.outbox()[0]).toMatchObject({ state: 'queued', lastRet: 1111 });
    c.core.tick(5_019);
    expect(sends(c.http)).toHaveLength(1);
    c.core.tick(5_020);
    expect(sends(c.http)).toHaveLength(2);
    expect(sends(c.http)[1]!.ClientMsgId).toBe(sends(c.http)[0]!.ClientMsgId);
    c.answer(last(c.http, PATHS.webwxsendmsg)!, { BaseResponse: OK, MsgID: 42, LocalID: '1' }, 5_030);
    expect(c.events.filter((e) => e.kind === 'sendAcked')).toHaveLength(1);
    expect(c.events.filter((e) => e.kind === 'sendFailed')).toEqual([]);
  });

  it('1110: not failed for good; retried after a backoff', () => {
    const c = ready();
    c.core.send('bob', 'hi', 10);
    c.answer(last(c.http, PATHS.webwxsendmsg)!, { BaseResponse: { Ret: 1110, ErrMsg: 'the mailbox of bob is full; try again later' } }, 20);
    expect(c.events.filter((e) => e.kind === 'sendFailed')).toEqual([]);
    c.core.tick(20 + 8_000);
    expect(sends(c.http)).toHaveLength(2);
  });

  it('1101 stops the core: no new login with the saved password', () => {
    const c = ready();
    const check = last(c.http, PATHS.synccheck);
    expect(check).toBeDefined();
    c.core.httpResponse(check!.req, 200, 'window.synccheck={retcode:"1101",selector:"0"}', 30);
    c.core.tick(120_000);
    expect(c.http.filter((a) => a.url === PATHS.manualauth)).toHaveLength(1);
    expect(c.events.filter((e) => e.kind === 'sessionLost')).toEqual([{ kind: 'sessionLost', ret: 1101 }]);
  });
});

function msg(id: number): MessageItem {
  return { MsgId: id, NewMsgId: id, FromUserName: 'bob', ToUserName: 'alice', MsgType: 1, Content: `m${id}`, CreateTime: id, ClientMsgId: `c${id}`, Status: 3, GroupSeq: 0 };
}

describe('a trimmed inbox', () => {
  function inbox(saved: MessageItem[], max: number): { box: Inbox; applied: number[]; take: (ids: number[]) => void } {
    const applied: number[] = [];
    const q = new OutputQueue({ out: () => {}, emit: (e) => e.kind === 'applied' && applied.push(e.msg.MsgId) });
    const box = new Inbox(saved, [], max, false, q);
    return { box, applied, take: (ids) => q.run(() => void box.take({ messages: ids.map(msg), contacts: [], deleted: [] })) };
  }

  it('applies nothing twice when a resync from key 0 replays messages it trimmed', () => {
    const b = inbox([], 2);
    b.take([1, 2, 3]);
    expect(b.box.messages().map((m) => m.MsgId)).toEqual([2, 3]);
    b.take([1, 2, 3, 4]); // the log replayed from its floor
    expect(b.applied).toEqual([1, 2, 3, 4]);
  });

  it('a full saved inbox counts what came before its oldest message as applied', () => {
    const b = inbox([msg(5), msg(6)], 2);
    b.take([3, 4, 5, 6, 7]);
    expect(b.applied).toEqual([7]);
    const notFull = inbox([msg(5)], 2);
    notFull.take([3, 5, 6]);
    expect(notFull.applied).toEqual([3, 6]);
  });
});
