// The judge feeds a chaos history to the simulator's checkers. A clean
// history passes; each planted bad one fails with the guarantee it breaks:
// an acknowledged message lost, one applied twice, two applied out of order,
// content changed, a key going back, a message of a group the device's
// account is not in, an unasked resync; a run that stops early is no pass.
// What a ghost (a replaced install) or a killed instance applies is not held
// against the device, as in the simulator. Histories survive the file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MessageItem } from '../../server/core/model.ts';
import { calm } from '../../scenarios/calm.ts';
import { HISTORY_FORMAT, parseHistory, readHistory, type HistoryRecord, type NewRecord } from '../../chaos/history.ts';
import { judge } from '../../chaos/judge.ts';
import { makePlan } from '../../chaos/plan.ts';

const PLAN = makePlan(calm, '1', { durationMs: 1000, livenessBoundMs: 1000 });

function msg(id: number, from: string, to: string, clientMsgId: string, content: string): MessageItem {
  return { MsgId: id, NewMsgId: id, FromUserName: from, ToUserName: to, MsgType: 1, Content: content, CreateTime: 0, ClientMsgId: clientMsgId, Status: 3, GroupSeq: 0 };
}

/** Builds a history record by record, with times one ms apart. */
function history(build: (add: (r: NewRecord) => void) => void): HistoryRecord[] {
  const out: HistoryRecord[] = [{ t: 0, k: 'run', format: HISTORY_FORMAT, scenario: 'calm', seed: '1', plan: PLAN, note: '' }];
  build((r) => out.push({ t: out.length, ...r } as HistoryRecord));
  return out;
}

const M1 = msg(10, 'u0', 'u1', 'c1', 'hello');
const M2 = msg(11, 'u0', 'u1', 'c2', 'again');

/** u0 (one device) sends u1 (two devices) two messages; every device gets both; `edit` plants a fault. */
function conversation(edit: { skip?: (r: NewRecord) => boolean; extra?: (add: (r: NewRecord) => void) => void; logs?: Record<string, number[]> } = {}): HistoryRecord[] {
  return history((add0) => {
    const add = (r: NewRecord): void => {
      if (!edit.skip?.(r)) add0(r);
    };
    add({ k: 'device', device: 'u0.d0', account: 'u0', transport: 'tcp', deviceId: 'u0-d0' });
    add({ k: 'device', device: 'u1.d0', account: 'u1', transport: 'ws', deviceId: 'u1-d0' });
    add({ k: 'device', device: 'u1.d1', account: 'u1', transport: 'http', deviceId: 'e100000000000002' });
    add({ k: 'app-start', device: 'u0.d0', inst: 1, inbox: [], key: [] });
    add({ k: 'app-start', device: 'u1.d0', inst: 2, inbox: [], key: [] });
    add({ k: 'app-start', device: 'u1.d1', inst: 3, inbox: [], key: [] });
    add({ k: 'user-send', device: 'u0.d0', inst: 1, to: 'u1', content: 'hello', clientMsgId: 'c1', localId: '1' });
    add({ k: 'user-send', device: 'u0.d0', inst: 1, to: 'u1', content: 'again', clientMsgId: 'c2', localId: '2' });
    add({ k: 'acked', device: 'u0.d0', inst: 1, clientMsgId: 'c1', localId: '1', msgId: 10 });
    add({ k: 'acked', device: 'u0.d0', inst: 1, clientMsgId: 'c2', localId: '2', msgId: 11 });
    for (const [device, inst] of [['u0.d0', 1], ['u1.d0', 2], ['u1.d1', 3]] as const) {
      add({ k: 'applied', device, inst, msg: M1 });
      add({ k: 'synckey', device, inst, key: [[1, 1]] });
      add({ k: 'applied', device, inst, msg: M2 });
      add({ k: 'synckey', device, inst, key: [[1, 2]] });
    }
    edit.extra?.(add0);
    add({ k: 'heal' });
    add({ k: 'liveness', converged: true, afterMs: 5, detail: '' });
    add({ k: 'final', logs: edit.logs ?? { u0: [10, 11], u1: [10, 11] } });
  });
}

const isApply = (device: string, id: number) => (r: NewRecord) => r.k === 'applied' && r.device === device && r.msg.MsgId === id;

describe('chaos judge', () => {
  it('passes a clean history', () => {
    const v = judge(conversation());
    expect(v.failure).toBeUndefined();
    expect(v.ok).toBe(true);
    expect(v.counts).toMatchObject({ sends: 2, acked: 2, applied: 6 });
  });

  it('fails an acknowledged message that never reached a recipient device (no loss)', () => {
    // The server pruned it from u1's log, so only no-loss can tell.
    const v = judge(conversation({ skip: isApply('u1.d1', 10), logs: { u0: [11], u1: [11] } }));
    expect(v.failure?.guarantee).toBe('no-loss');
    expect(v.failure?.who).toBe('u1.d1');
    expect(v.failure?.detail).toContain('MsgId 10');
  });

  it('fails a device that lacks a message its account still holds (convergence)', () => {
    const v = judge(conversation({ skip: isApply('u1.d0', 11) }));
    expect(v.failure?.guarantee).toBe('convergence');
    expect(v.failure?.who).toBe('u1.d0');
  });

  it('fails a message applied twice (exactly once)', () => {
    const v = judge(conversation({ extra: (add) => add({ k: 'applied', device: 'u1.d0', inst: 2, msg: M1 }) }));
    expect(v.failure?.guarantee).toBe('exactly-once');
    expect(v.failure?.recent.some((l) => l.includes('applied MsgId 10'))).toBe(true);
  });

  it('fails messages applied out of the log order (order)', () => {
    const v = judge(
      conversation({
        skip: (r) => r.k === 'applied' && r.device === 'u1.d1',
        extra: (add) => {
          add({ k: 'applied', device: 'u1.d1', inst: 3, msg: M2 });
          add({ k: 'applied', device: 'u1.d1', inst: 3, msg: M1 });
        },
      }),
    );
    expect(v.failure?.guarantee).toBe('order');
    expect(v.failure?.who).toBe('u1.d1');
  });

  it('fails content that differs from what was sent (integrity)', () => {
    const v = judge(
      conversation({
        extra: (add) => {
          add({ k: 'user-send', device: 'u0.d0', inst: 1, to: 'u1', content: 'third', clientMsgId: 'c3', localId: '3' });
          add({ k: 'applied', device: 'u1.d0', inst: 2, msg: msg(12, 'u0', 'u1', 'c3', 'thirD') });
        },
      }),
    );
    expect(v.failure?.guarantee).toBe('integrity');
  });

  it('fails a key that goes back (monotonicity)', () => {
    const v = judge(conversation({ extra: (add) => add({ k: 'synckey', device: 'u1.d0', inst: 2, key: [[1, 1]] }) }));
    expect(v.failure?.guarantee).toBe('synckey-monotonic');
  });

  it("fails a group message on a device whose account is not in the group (isolation)", () => {
    const v = judge(
      conversation({
        extra: (add) => {
          add({ k: 'group', name: '@@g', members: ['u0', 'u2'] });
          add({ k: 'user-send', device: 'u0.d0', inst: 1, to: '@@g', content: 'secret', clientMsgId: 'c3', localId: '3' });
          add({ k: 'applied', device: 'u1.d0', inst: 2, msg: msg(12, 'u0', '@@g', 'c3', 'secret') });
        },
      }),
    );
    expect(v.failure?.guarantee).toBe('isolation');
  });

  it('fails a resync the scenario does not allow (retention)', () => {
    expect(PLAN.resyncAllowed).toBe(false);
    const v = judge(conversation({ extra: (add) => add({ k: 'resync', device: 'u1.d0', inst: 2 }) }));
    expect(v.failure?.guarantee).toBe('retention');
  });

  it("does not hold a ghost's or a killed instance's applies against the device", () => {
    const v = judge(
      conversation({
        extra: (add) => {
          add({ k: 'session-replace', device: 'u1.d0', ghost: 2 });
          add({ k: 'app-start', device: 'u1.d0', inst: 4, inbox: [M1, M2], key: [[1, 2]] });
          add({ k: 'applied', device: 'u1.d0', inst: 2, msg: M1 });
          add({ k: 'app-kill', device: 'u1.d1', inst: 3, torn: false });
          add({ k: 'applied', device: 'u1.d1', inst: 3, msg: M2 });
          add({ k: 'app-start', device: 'u1.d1', inst: 5, inbox: [M1, M2], key: [[1, 2]] });
        },
      }),
    );
    expect(v.failure).toBeUndefined();
  });

  it("fails when the current instance's session ends unasked (liveness)", () => {
    const v = judge(conversation({ extra: (add) => add({ k: 'session-lost', device: 'u1.d0', inst: 2, ret: 1101 }) }));
    expect(v.failure?.guarantee).toBe('liveness');
  });

  it('fails devices that did not converge, and a server that died unasked', () => {
    const lagging = conversation({ skip: (r) => r.k === 'liveness', extra: (add) => add({ k: 'liveness', converged: false, afterMs: 60_000, detail: 'u1.d1: client login' }) });
    expect(judge(lagging).failure).toMatchObject({ guarantee: 'liveness', who: 'u1.d1' });
    const died = conversation({ extra: (add) => add({ k: 'server-exit', pid: 1, code: 1, signal: null, stderr: 'boom' }) });
    expect(judge(died).failure?.guarantee).toBe('server-exit');
  });

  it('does not pass a history that stops before its final record', () => {
    const cut = conversation().filter((r) => r.k !== 'final');
    expect(judge(cut).failure?.guarantee).toBe('incomplete');
  });

  it('judges a history read back from its file the same', () => {
    const bad = conversation({ skip: isApply('u1.d1', 10), logs: { u0: [11], u1: [11] } });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-judge-')), 'h.jsonl');
    try {
      fs.writeFileSync(file, bad.map((r) => JSON.stringify(r)).join('\n') + '\n');
      expect(judge(readHistory(file))).toEqual(judge(bad));
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
    expect(() => parseHistory('{"t":0,"k":"applied"}\n')).toThrow(/not a chaos history/);
    expect(() => parseHistory('{"t":0,"k":"run","format":"synckey-chaos-history/1"}\nnot json\n')).toThrow(/line 2/);
  });
});
