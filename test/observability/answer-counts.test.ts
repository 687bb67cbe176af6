// The node's own answer counts (server/node/answer-counts.ts), which the
// metrics read at scrape time instead of reading each encoded answer back:
// checked against what actually went out, decoded here the slow way (JSON
// bodies, synccheck text, op 6 ErrMsg codes), so the two cannot drift apart.
import { describe, expect, it } from 'vitest';
import { Ret } from '../../server/core/ret.ts';
import { AnswerCounts, KNOWN_RETS, type AnswerTally, type Answered, type Disconnected, type RetColumn } from '../../server/node/answer-counts.ts';
import { PATHS, ROUTES } from '../../server/node/http-api.ts';
import { Op, encodePacket } from '../../server/wire/packet.ts';
import type { Harness } from '../harness/core-harness.ts';
import type { LinkClient } from '../harness/link-client.ts';
import { useHarness } from '../harness/use-harness.ts';

const column = (ret: number | undefined): RetColumn => (ret === undefined ? 'none' : KNOWN_RETS.includes(ret) ? ret : 'other');

function add(m: Map<string, number>, key: string, n = 1): void {
  m.set(key, (m.get(key) ?? 0) + n);
}

/** The tally as plain maps, to compare with the oracle's. */
function read(t: AnswerTally): { answers: Map<string, number>; disconnects: Map<string, number>; notifications: Map<string, number> } {
  const answers = new Map<string, number>();
  const disconnects = new Map<string, number>();
  t.forEachAnswer((transport, command, ret, n) => add(answers, `${transport} ${command} ${ret}`, n));
  t.forEachDisconnect((transport, code, ret, n) => add(disconnects, `${transport} ${code ?? `ret_${String(ret)}`}`, n));
  const notifications = new Map([
    ['tcp', t.notifications('tcp')],
    ['ws', t.notifications('ws')],
  ]);
  return { answers, disconnects, notifications };
}

/** What went out, decoded from the bytes and bodies themselves. */
class WireOracle {
  private readonly urls = new Map<number, string>();
  private readonly links: Array<{ link: LinkClient; transport: 'tcp' | 'ws' }> = [];

  constructor(private readonly h: Harness) {
    const request = h.request.bind(h);
    h.request = (method, url, body) => {
      const req = request(method, url, body);
      this.urls.set(req, url);
      return req;
    };
  }

  open(transport: 'tcp' | 'ws'): LinkClient {
    const link = this.h.openLink(transport);
    this.links.push({ link, transport });
    return link;
  }

  read(): ReturnType<typeof read> {
    const answers = new Map<string, number>();
    const disconnects = new Map<string, number>();
    const notifications = new Map([
      ['tcp', 0],
      ['ws', 0],
    ]);
    for (const [req, url] of this.urls) {
      const route = ROUTES.get(url.split('?')[0]!);
      const a = this.h.answers.get(req);
      if (!route || !a) continue;
      const sc = /retcode:"(\d+)"/.exec(a.body);
      const ret = sc ? Number(sc[1]) : (JSON.parse(a.body) as { BaseResponse: { Ret: number } }).BaseResponse.Ret;
      add(answers, `http ${route.endpoint} ${column(ret)}`);
    }
    const command = new Map<number, string>([
      [Op.HeartbeatReply, 'heartbeat'],
      [Op.SendReply, 'send'],
      [Op.SyncReply, 'sync'],
      [Op.AuthReply, 'auth'],
    ]);
    for (const { link, transport } of this.links) {
      for (const p of link.packets) {
        if (p.op === Op.Notify) notifications.set(transport, notifications.get(transport)! + 1);
        else if (p.op === Op.Disconnect) {
          const code = /^([A-Z]+_[A-Z_]+): /.exec(p.body.ErrMsg)?.[1];
          add(disconnects, `${transport} ${code ?? `ret_${String(column(p.body.Ret))}`}`);
        } else add(answers, `${transport} ${command.get(p.op)} ${column(p.body?.BaseResponse.Ret)}`);
      }
    }
    return { answers, disconnects, notifications };
  }
}

describe('answer counts kept by the node', () => {
  const harness = useHarness();

  it('match every answer, op 6 and notification that went out, by transport, command and Ret', () => {
    const h = harness({ core: { sendMessagesPerSec: 1, sendMessageBurst: 1 } });
    const wire = new WireOracle(h);
    const alice = h.user('alice');
    const bob = h.user('bob');
    const carol = h.user('carol');
    h.send(alice, 'bob', 'hi');
    expect(h.send(alice, 'bob', 'again').BaseResponse.Ret).toBe(Ret.RateLimited);
    h.request('GET', PATHS.webwxsendmsg);
    h.request('POST', PATHS.webwxsync, '{not json');
    h.request('GET', '/nowhere');
    h.synccheck(bob);
    h.advance(h.node.config.holdMs + 1);

    const link = wire.open('tcp');
    expect(link.resume(bob).BaseResponse.Ret).toBe(0);
    link.raw(encodePacket(Op.Heartbeat, 2));
    h.send(carol, 'bob', 'to the link');
    link.sendMsg(h.msg(bob, 'carol', 'back'), 3);
    link.sync(bob.key, 4);
    const again = wire.open('tcp');
    expect(again.resume(bob).BaseResponse.Ret).toBe(0); // same device: the first link is replaced
    h.node.linkFault(again.id, 'LINK_WRITE_QUEUE_FULL');
    const garbage = wire.open('ws');
    garbage.raw(new TextEncoder().encode('not a packet header at all'));
    const stranger = wire.open('tcp');
    stranger.auth({ Uin: bob.uin, Sid: 'not-a-sid', DeviceID: 'e000000000000999' });

    const counted = read(h.node.stats().answers);
    const sent = wire.read();
    expect(counted).toEqual(sent);
    // The scenario reached what it meant to: otherwise the equality above proves little.
    expect(counted.answers.get(`http webwxsendmsg ${Ret.RateLimited}`)).toBe(1);
    expect(counted.answers.get(`http webwxsendmsg ${Ret.BadRequest}`)).toBe(1);
    expect(counted.answers.get(`http webwxsync ${Ret.BadRequest}`)).toBe(1);
    expect(counted.answers.get('http synccheck 0')).toBe(1);
    expect(counted.answers.get('tcp heartbeat none')).toBe(1);
    expect(counted.answers.get('tcp send 0')).toBe(1);
    expect(counted.answers.get('tcp sync 0')).toBe(1);
    expect(counted.answers.get('tcp auth 0')).toBe(2);
    expect([...counted.answers.keys()].some((k) => k.startsWith('tcp auth ') && !k.endsWith(' 0'))).toBe(true);
    expect([...counted.answers.keys()].filter((k) => k.includes('nowhere'))).toEqual([]);
    expect(counted.notifications.get('tcp')).toBeGreaterThanOrEqual(1);
    expect(counted.disconnects.get(`tcp ret_${Ret.LinkReplaced}`)).toBe(1);
    expect(counted.disconnects.get('tcp LINK_WRITE_QUEUE_FULL')).toBe(1);
    expect([...counted.disconnects.keys()].some((k) => k.startsWith('ws WIRE_'))).toBe(true);
  });

  it('tells the watch of throttled answers, disconnects and auths, and of every answer only if it asks', () => {
    const quiet: Answered[] = [];
    const c = new AnswerCounts({ throttled: (a) => quiet.push(a) });
    c.answered('http', 'webwxsendmsg', 0, 7, '192.0.2.1');
    c.answered('http', 'webwxsendmsg', Ret.RateLimited, 7, '192.0.2.1');
    c.answered('tcp', 'send', Ret.MailboxFull, 0, undefined);
    expect(quiet).toEqual([
      { transport: 'http', command: 'webwxsendmsg', ret: Ret.RateLimited, uin: 7, remote: '192.0.2.1' },
      { transport: 'tcp', command: 'send', ret: Ret.MailboxFull, uin: undefined, remote: undefined },
    ]);
    const every: Answered[] = [];
    const cuts: Disconnected[] = [];
    const authed: Array<[number, number]> = [];
    const loud = new AnswerCounts({ answered: (a) => every.push(a), disconnected: (d) => cuts.push(d), authenticated: (l, u) => authed.push([l, u]) });
    loud.answered('ws', 'heartbeat', undefined, 0, undefined);
    loud.disconnected(4, 'ws', Ret.BadRequest, 'LINK_INPUT_OVERFLOW', 9);
    loud.authenticated(4, 9);
    expect(every).toEqual([{ transport: 'ws', command: 'heartbeat', ret: undefined, uin: undefined, remote: undefined }]);
    expect(cuts).toEqual([{ link: 4, transport: 'ws', ret: Ret.BadRequest, code: 'LINK_INPUT_OVERFLOW', uin: 9 }]);
    expect(authed).toEqual([[4, 9]]);
  });

  it('keeps a Ret it does not know in one bucket, and hands out copies', () => {
    const c = new AnswerCounts();
    c.answered('http', 'webwxsync', 4242, 0, undefined);
    c.answered('http', 'webwxsync', 99, 0, undefined);
    c.disconnected(1, 'tcp', 4242, undefined, 0);
    const before = c.tally();
    c.answered('http', 'webwxsync', 0, 0, undefined);
    c.notification('ws');
    expect(read(before)).toEqual({
      answers: new Map([['http webwxsync other', 2]]),
      disconnects: new Map([['tcp ret_other', 1]]),
      notifications: new Map([
        ['tcp', 0],
        ['ws', 0],
      ]),
    });
    const after = read(c.tally());
    expect(after.answers.get('http webwxsync 0')).toBe(1);
    expect(after.notifications.get('ws')).toBe(1);
  });
});
