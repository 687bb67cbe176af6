// How the checkers match what devices apply to what users sent: by (sender,
// ClientMsgId), the latest send under it, one MsgID each (a power cut's lost
// one may be replaced), and the final no-loss check in the order of sending.
import { describe, expect, it } from 'vitest';
import type { MessageItem } from '../../server/core/model.ts';
import { Checkers } from '../../sim/checkers.ts';
import { Violation } from '../../sim/violation.ts';

function checkers(): Checkers {
  const c = new Checkers({ isMember: () => false, resyncAllowed: false });
  c.deviceStarted('a.d0', 'a', [], []);
  c.deviceStarted('b.d0', 'b', [], []);
  return c;
}

function msg(msgId: number, from: string, to: string, clientMsgId: string, content: string): MessageItem {
  return { MsgId: msgId, NewMsgId: msgId, FromUserName: from, ToUserName: to, MsgType: 1, Content: content, CreateTime: 0, ClientMsgId: clientMsgId, Status: 3, GroupSeq: 0 };
}

function send(c: Checkers, from: string, to: string, clientMsgId: string, content: string): void {
  c.userSent({ device: `${from}.d0`, fromUser: from, to, content, clientMsgId, localId: clientMsgId, sentAt: 0 });
}

function guarantee(f: () => void): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof Violation) return e.guarantee;
    throw e;
  }
  return undefined;
}

describe('checkers: sends', () => {
  it('judge an applied message by the latest send under its (sender, ClientMsgId)', () => {
    for (const [content, expected] of [
      ['first', 'integrity'],
      ['second', undefined],
    ] as const) {
      const c = checkers();
      send(c, 'a', 'b', 'm1', 'first');
      send(c, 'a', 'b', 'm1', 'second');
      expect(guarantee(() => c.applied('b.d0', msg(1, 'a', 'b', 'm1', content), 0))).toBe(expected);
    }
  });

  it('keep one ClientMsgId of two senders apart', () => {
    const c = checkers();
    send(c, 'a', 'b', 'same', 'from a');
    send(c, 'b', 'a', 'same', 'from b');
    c.applied('b.d0', msg(1, 'a', 'b', 'same', 'from a'), 0);
    c.applied('a.d0', msg(2, 'b', 'a', 'same', 'from b'), 0);
    expect(guarantee(() => c.applied('b.d0', msg(3, 'a', 'b', 'nothing-sent', 'x'), 0))).toBe('integrity');
  });

  it('allow one MsgID per send, unless a power cut took the first', () => {
    const c = checkers();
    send(c, 'a', 'b', 'm1', 'hi');
    c.sendAcked('a', 'm1', 7, 'a.d0');
    expect(guarantee(() => c.sendAcked('a', 'm1', 8, 'a.d0'))).toBe('exactly-once');
    c.lost([7]);
    expect(guarantee(() => c.sendAcked('a', 'm1', 8, 'a.d0'))).toBeUndefined();
    expect(guarantee(() => c.applied('b.d0', msg(7, 'a', 'b', 'm1', 'hi'), 0))).toBe('exactly-once');
  });

  it('report, at the end, the first acknowledged send that never arrived, in the order sent', () => {
    const c = checkers();
    send(c, 'a', 'b', 'm2', 'x');
    send(c, 'a', 'b', 'm1', 'y');
    c.sendAcked('a', 'm1', 2, 'a.d0');
    c.sendAcked('a', 'm2', 1, 'a.d0');
    const devices = new Map([
      ['a', ['a.d0']],
      ['b', ['b.d0']],
    ]);
    try {
      c.final(devices, () => [], () => []);
      expect.unreachable('no-loss should fail');
    } catch (e) {
      expect(e).toBeInstanceOf(Violation);
      expect((e as Violation).guarantee).toBe('no-loss');
      expect((e as Violation).detail).toContain('ClientMsgId m2');
    }
  });
});
