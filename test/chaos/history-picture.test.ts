// The picture of a chaos history: a lane for the server and each device,
// a message as arrows from its send to the server and on to every device
// that applied it, crashes, kills and faults marked, each device's SyncKeys,
// and the violation with the arrow whose arrival broke it and the line that
// re-judges the history. One self-contained HTML page, as the simulator's.
// The history is written by hand: a send stored twice (what skip-dedup does
// with a duplicated request) reaches a device under two MsgIds.
import { describe, expect, it } from 'vitest';
import type { MessageItem } from '../../server/core/model.ts';
import { calm } from '../../scenarios/calm.ts';
import { SERVER_LANE } from '../../sim/picture/run-picture.ts';
import { HISTORY_FORMAT, type HistoryRecord, type NewRecord } from '../../chaos/history.ts';
import { historyPicture } from '../../chaos/history-picture.ts';
import { judge } from '../../chaos/judge.ts';
import { pictureHtml } from '../../sim/picture/picture-html.ts';
import { makePlan } from '../../chaos/plan.ts';
import { messageLines, namedMessages } from '../../chaos/named-messages.ts';
import { verdictLines } from '../../chaos/report.ts';

const PLAN = makePlan(calm, '1', { durationMs: 1000, livenessBoundMs: 1000, bugs: ['skip-dedup'] });
const REPLAY = 'npm run chaos -- --check .chaos/failures/x.jsonl';

function msg(id: number, clientMsgId: string, content: string): MessageItem {
  return { MsgId: id, NewMsgId: id, FromUserName: 'u0', ToUserName: 'u1', MsgType: 1, Content: content, CreateTime: 0, ClientMsgId: clientMsgId, Status: 3, GroupSeq: 0 };
}

/** u0.d0 (HTTP) sends u1 (one WebSocket device) two messages; 'twice': the second is stored twice; 'lost': it never reaches u1. */
function history(mode: 'clean' | 'twice' | 'lost'): HistoryRecord[] {
  const twice = mode === 'twice';
  const out: HistoryRecord[] = [{ t: 0, k: 'run', format: HISTORY_FORMAT, scenario: 'calm', seed: '1', plan: PLAN, note: 'the seed fixes the plan' }];
  const add = (r: NewRecord): void => void out.push({ t: out.length * 10, ...r } as HistoryRecord);
  add({ k: 'device', device: 'u0.d0', account: 'u0', transport: 'http', deviceId: 'e100000000000000' });
  add({ k: 'device', device: 'u1.d0', account: 'u1', transport: 'ws', deviceId: 'u1-d0' });
  add({ k: 'server-start', pid: 100, httpPort: 1, tcpPort: 2 });
  add({ k: 'begin' });
  add({ k: 'app-start', device: 'u0.d0', inst: 1, inbox: [], key: [] });
  add({ k: 'app-start', device: 'u1.d0', inst: 2, inbox: [], key: [] });
  add({ k: 'user-send', device: 'u0.d0', inst: 1, to: 'u1', content: 'hello', clientMsgId: 'c1', localId: '1' });
  add({ k: 'acked', device: 'u0.d0', inst: 1, clientMsgId: 'c1', localId: '1', msgId: 10 });
  add({ k: 'applied', device: 'u1.d0', inst: 2, msg: msg(10, 'c1', 'hello') });
  add({ k: 'synckey', device: 'u1.d0', inst: 2, key: [[1, 1]] });
  add({ k: 'applied', device: 'u0.d0', inst: 1, msg: msg(10, 'c1', 'hello') });
  add({ k: 'server-crash', pid: 100 });
  add({ k: 'server-start', pid: 101, httpPort: 1, tcpPort: 2 });
  add({ k: 'user-send', device: 'u0.d0', inst: 1, to: 'u1', content: 'again', clientMsgId: 'c2', localId: '2' });
  add({ k: 'fault', who: 'u0.d0', what: 'http-duplicate', detail: 'POST /cgi-bin/mmwebwx-bin/webwxsendmsg' });
  add({ k: 'acked', device: 'u0.d0', inst: 1, clientMsgId: 'c2', localId: '2', msgId: 11 });
  add({ k: 'applied', device: 'u0.d0', inst: 1, msg: msg(11, 'c2', 'again') });
  if (mode !== 'lost') add({ k: 'applied', device: 'u1.d0', inst: 2, msg: msg(11, 'c2', 'again') });
  if (twice) add({ k: 'applied', device: 'u1.d0', inst: 2, msg: msg(12, 'c2', 'again') });
  if (mode !== 'lost') add({ k: 'synckey', device: 'u1.d0', inst: 2, key: [[1, twice ? 3 : 2]] });
  add({ k: 'app-kill', device: 'u1.d0', inst: 2, torn: false });
  if (mode === 'lost') add({ k: 'app-start', device: 'u1.d0', inst: 3, inbox: [msg(10, 'c1', 'hello')], key: [[1, 1]] });
  else add({ k: 'app-start', device: 'u1.d0', inst: 3, inbox: [msg(10, 'c1', 'hello'), msg(11, 'c2', 'again')], key: [[1, 2]] });
  add({ k: 'heal' });
  add({ k: 'liveness', converged: true, afterMs: 5, detail: '' });
  add({ k: 'final', logs: { u0: twice ? [10, 11, 12] : [10, 11], u1: twice ? [10, 11, 12] : [10, 11] } });
  return out;
}

describe('the picture of a chaos history', () => {
  it('draws a lane per device and the server, every message, the faults and the SyncKeys of a passing history', () => {
    const records = history('clean');
    const v = judge(records);
    expect(v.failure).toBeUndefined();
    const p = historyPicture(records, v, { replay: REPLAY });
    expect(p.lanes).toEqual([SERVER_LANE, 'u0.d0', 'u1.d0']);
    expect(p.violation).toBeUndefined();
    expect(p.title).toContain('skip-dedup');
    // Per message: the send up to the server, then the answer to the sender and the application on each device of both accounts.
    const c1 = p.arrows.filter((a) => a.text.includes('c1') || a.text.includes('MsgId 10'));
    expect(c1.map((a) => `${a.from}>${a.to} ${a.text.split(' ')[0]}`).sort()).toEqual(['server>u0.d0 answer', 'server>u0.d0 u0.d0', 'server>u1.d0 u1.d0', 'u0.d0>server u0.d0']);
    for (const a of p.arrows) {
      expect(a.atMs).toBeGreaterThanOrEqual(a.sentMs);
      expect(a.event).toBeGreaterThan(a.sentEvent);
    }
    // The HTTP device's arrows are HTTP, the WebSocket device's the long link's.
    expect(p.arrows.find((a) => a.from === 'u0.d0')!.kind).toBe('http-req');
    expect(p.arrows.find((a) => a.to === 'u1.d0')!.kind).toBe('link-down');
    const marks = p.marks.map((m) => `${m.lane} ${m.cls} ${m.label}`);
    expect(marks).toContain('server crash SIGKILL pid 100');
    expect(marks).toContain('u1.d0 crash app-kill #2');
    expect(marks).toContain('u1.d0 key 1_1');
    expect(marks).toContain('u0.d0 fault http-duplicate POST /cgi-bin/mmwebwx-bin/webwxsendmsg');
  });

  it('marks the violation, the arrow whose arrival broke it, and the line that re-judges the history', () => {
    const records = history('twice');
    const v = judge(records);
    expect(v.failure?.guarantee).toBe('exactly-once');
    const p = historyPicture(records, v, { replay: REPLAY });
    expect(p.violation).toMatchObject({ guarantee: 'exactly-once', who: 'u1.d0', lane: 'u1.d0', event: v.failure!.line });
    const culprit = p.arrows.filter((a) => a.event === v.failure!.line);
    expect(culprit.map((a) => `${a.from}>${a.to} ${a.text}`)).toEqual(['server>u1.d0 u1.d0 #2 applies MsgId 12 u0→u1 c2']);
    // One send, two commits: two arrows leave the same point of the sender's lane.
    const sends = p.arrows.filter((a) => a.from === 'u0.d0' && a.text.includes('c2'));
    const sendLine = records.findIndex((r) => r.k === 'user-send' && r.clientMsgId === 'c2') + 1;
    expect(sends.map((a) => a.sentEvent)).toEqual([sendLine, sendLine]);
    expect(p.violation!.recent.join('\n')).toContain('user-send c2 → u1');

    const html = pictureHtml(p);
    // The lanes go to the page's script as data, the devices' also to the filter.
    expect(html).toContain('"lanes":["server","u0.d0","u1.d0"]');
    for (const lane of p.lanes.slice(1)) expect(html).toContain(`value="${lane}"`);
    expect(html).toContain('exactly-once violated at u1.d0');
    expect(html).toContain(REPLAY);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
  });

  it('caps a long history at the arrows before its violation, and says what it left out', () => {
    const records = history('twice');
    const v = judge(records);
    const full = historyPicture(records, v, { replay: REPLAY });
    const p = historyPicture(records, v, { replay: REPLAY, maxArrows: 3 });
    expect(full.omitted).toBe('');
    expect(p.arrows.length).toBe(3);
    expect(p.omitted).toMatch(/^3 of \d+ arrows drawn: those leaving from [\d.]+ ms up to the violation/);
    expect(p.arrows.some((a) => a.event === v.failure!.line)).toBe(true);
    expect(Object.keys(p.keysBefore)).toContain('u1.d0');
  });

  it('draws a message the violation says a device lacks as lost on its way there', () => {
    const records = history('lost');
    const v = judge(records);
    expect(v.failure).toMatchObject({ guarantee: 'convergence', who: 'u1.d0' });
    expect(v.failure!.detail).toContain('missing MsgIds 11');
    const p = historyPicture(records, v, { replay: REPLAY });
    const missing = p.arrows.filter((a) => a.fate === 'lost');
    expect(missing.map((a) => `${a.from}>${a.to} ${a.event} ${a.text}`)).toEqual([`server>u1.d0 ${v.failure!.line} MsgId 11 c2 never reached u1.d0`]);
  });

  it('prints the message a violation names, through the run', () => {
    const records = history('twice');
    const v = judge(records);
    const named = namedMessages(v.failure!.detail, records);
    expect([...named.msgIds].sort()).toEqual([11, 12]);
    const life = messageLines(records, named, v.failure!.line, v.failure!.who);
    expect(life.some((l) => l.includes('user-send c2'))).toBe(true);
    expect(life.some((l) => l.includes('acked c2 MsgId 11'))).toBe(true);
    expect(life.filter((l) => l.includes('u1.d0 #2 applied')).length).toBe(2);
    expect(life[life.length - 1]).toMatch(/^ {2}and applied on 1 other device \(u0\.d0\)/);
    const text = verdictLines(v, records).join('\n');
    expect(text).toContain('violated: exactly-once at u1.d0');
    expect(text).toContain('the message it names, through the run:');
  });
});
