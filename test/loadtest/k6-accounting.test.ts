// The k6 scripts' delivery accounting (loadtest/k6/ledger.js) and traffic plan
// (loadtest/k6/traffic-plan.js): plain JavaScript that imports nothing from k6,
// proved here without k6.
import { describe, expect, it } from 'vitest';
import { Ledger, MAX_UNACKED_CHARS, endOfRun, finContent, messageContent, parseContent } from '../../loadtest/k6/ledger.js';
import type { Tally } from '../../loadtest/k6/ledger.js';
import {
  Arrivals,
  accountStream,
  arrivalRateOption,
  cohortMembers,
  cohortOf,
  cohortSizeOf,
  makePlan,
  parseStream,
  route,
  vuStream,
} from '../../loadtest/k6/traffic-plan.js';
import type { Plan } from '../../loadtest/k6/traffic-plan.js';

const DEADLINE = 1_000_000;
const ON_TIME = DEADLINE - 1;
const LATE = DEADLINE + 1;

/** Three accounts, one cohort: account 0's stream sends its even numbers to 1 and its odd ones to 2. */
const small = makePlan(3, 50);
let nextMsgId = 1;
const msg = (stream: string, n: number) => messageContent(stream, n, 0, 60);

function deviceOf(me: number, plan: Plan = small, expectedStreams?: string[]): Ledger {
  return new Ledger({ me, plan, drainDeadline: DEADLINE, ...(expectedStreams ? { expectedStreams } : {}) });
}

describe('Ledger: one receiving device', () => {
  it('routes account 0 of three as the tests below assume', () => {
    const s = parseStream(small, 'a0')!;
    expect([0, 1, 2, 3].map((n) => route(small, s, n).to)).toEqual([1, 2, 1, 2]);
  });

  it('counts a gap below the announced total as missing, once', () => {
    const d = deviceOf(1);
    for (const n of [0, 4]) expect(d.observe(nextMsgId++, msg('a0', n), ON_TIME).kind).toBe('delivered');
    d.observe(nextMsgId++, finContent('a0', 6, []), ON_TIME);
    const t = d.settle();
    expect(t.missing).toBe(1); // n = 2
    expect(t.delivered).toBe(2);
    expect(d.settle()).toBe(t); // counted once
  });

  it('counts a second MsgId for the same number as duplicated, and the same MsgId again as a mere repeat', () => {
    const d = deviceOf(1);
    const id = nextMsgId++;
    expect(d.observe(id, msg('a0', 0), ON_TIME).kind).toBe('delivered');
    expect(d.observe(id, msg('a0', 0), ON_TIME).kind).toBe('repeat');
    expect(d.observe(nextMsgId++, msg('a0', 0), ON_TIME).kind).toBe('duplicate');
    d.observe(nextMsgId++, finContent('a0', 1, []), ON_TIME);
    expect(d.settle()).toMatchObject({ delivered: 1, duplicated: 1, missing: 0 });
  });

  it('counts a message after the drain deadline as late and delivered, not missing', () => {
    const d = deviceOf(1);
    d.observe(nextMsgId++, finContent('a0', 4, []), ON_TIME);
    d.observe(nextMsgId++, msg('a0', 0), ON_TIME);
    const r = d.observe(nextMsgId++, msg('a0', 2), LATE);
    expect(r.kind).toBe('late');
    expect(r.latencyMs).toBe(LATE);
    expect(d.settle()).toMatchObject({ delivered: 2, late: 1, missing: 0 });
  });

  it('expects the echo of its own stream: every number, whoever it went to', () => {
    const d = deviceOf(0);
    for (const n of [0, 1, 3]) d.observe(nextMsgId++, msg('a0', n), ON_TIME);
    d.observe(nextMsgId++, finContent('a0', 4, []), ON_TIME);
    expect(d.settle().missing).toBe(1); // n = 2
  });

  it('does not expect what the sender says was never acknowledged, and takes it if it came anyway', () => {
    const d = deviceOf(1);
    d.observe(nextMsgId++, msg('a0', 0), ON_TIME);
    d.observe(nextMsgId++, msg('a0', 4), ON_TIME);
    d.observe(nextMsgId++, finContent('a0', 8, [2, 3, 6]), ON_TIME);
    expect(d.settle()).toMatchObject({ missing: 0, beyondTotal: 0, misrouted: 0 });
    const e = deviceOf(1);
    e.observe(nextMsgId++, finContent('a0', 4, [2]), ON_TIME);
    expect(e.observe(nextMsgId++, msg('a0', 2), ON_TIME).kind).toBe('delivered');
    expect(e.settle()).toMatchObject({ missing: 1, delivered: 1 }); // n = 0 is the one lost
  });

  it('counts a stream whose fin never came apart, and does not judge its messages', () => {
    const d = deviceOf(1, small, ['a0', 'a1', 'a2']);
    d.observe(nextMsgId++, msg('a0', 4), ON_TIME); // 0 and 2 absent, but no total to hold them against
    d.observe(nextMsgId++, finContent('a1', 0, []), ON_TIME);
    d.observe(nextMsgId++, finContent('a2', 0, []), ON_TIME);
    expect(d.complete()).toBe(false);
    expect(d.settle()).toMatchObject({ finsMissing: 1, missing: 0, fins: 2 });
  });

  it('counts a message not meant for it, or numbered past the total, as unexpected', () => {
    const d = deviceOf(1);
    expect(d.observe(nextMsgId++, msg('a0', 1), ON_TIME).kind).toBe('misrouted'); // odd numbers go to 2
    const wide = makePlan(6, 3); // two cohorts: {0, 2, 4} and {1, 3, 5}
    const e = deviceOf(0, wide);
    expect(e.observe(nextMsgId++, msg('a1', 0), ON_TIME).kind).toBe('misrouted'); // another cohort's stream
    expect(e.observe(nextMsgId++, finContent('a1', 3, []), ON_TIME).kind).toBe('misrouted');
    const f = deviceOf(1);
    f.observe(nextMsgId++, msg('a0', 6), ON_TIME);
    f.observe(nextMsgId++, finContent('a0', 2, []), ON_TIME);
    expect(f.settle()).toMatchObject({ beyondTotal: 1, missing: 1 });
  });

  it('is complete once every expected fin is in and nothing announced is absent', () => {
    const d = deviceOf(1, small, ['a0']);
    expect(d.complete()).toBe(false);
    d.observe(nextMsgId++, finContent('a0', 3, []), ON_TIME);
    expect(d.outstanding()).toBe(2); // 0 and 2
    d.observe(nextMsgId++, msg('a0', 0), ON_TIME);
    expect(d.complete()).toBe(false);
    d.observe(nextMsgId++, msg('a0', 2), LATE);
    expect(d.complete()).toBe(true);
    expect(d.settle()).toMatchObject({ missing: 0, late: 1, finsMissing: 0 });
  });

  it('counts a second copy of a fin apart from the messages', () => {
    const d = deviceOf(1);
    expect(d.observe(nextMsgId++, finContent('a0', 0, []), ON_TIME).kind).toBe('fin');
    expect(d.observe(nextMsgId++, finContent('a0', 0, []), ON_TIME).kind).toBe('fin-duplicate');
    expect(d.settle()).toMatchObject({ finsDuplicated: 1, duplicated: 0 });
  });

  it('calls what a cut-off unacknowledged list cannot account for unverified, not missing', () => {
    const every3 = Array.from({ length: 20_000 }, (_, i) => i * 3);
    const content = finContent('a0', 60_000, every3);
    expect(content.length).toBeLessThan(MAX_UNACKED_CHARS + 40);
    const fin = parseContent(content);
    expect(fin).toMatchObject({ kind: 'fin', truncated: true });
    const d = deviceOf(1);
    d.observe(nextMsgId++, content, ON_TIME);
    const t = d.settle();
    expect(t.missing).toBe(0);
    expect(t.unverified).toBeGreaterThan(0);
  });
});

describe('content', () => {
  it('carries stream, number and send time, padded to the size asked', () => {
    const c = messageContent('c2v17', 41, 1234.6, 100);
    expect(c).toHaveLength(100);
    expect(parseContent(c)).toEqual({ kind: 'message', stream: 'c2v17', n: 41, sentAt: 1235 });
  });

  it('lists unacknowledged numbers as ranges', () => {
    const c = finContent('a3', 12, [9, 3, 4, 5, 6, 7, 3]);
    expect(c).toBe('k6fin|a3|12|3-7,9|');
    expect(parseContent(c)).toEqual({ kind: 'fin', stream: 'a3', total: 12, unacked: [3, 4, 5, 6, 7, 9], truncated: false });
    expect(parseContent('hello')).toBeUndefined();
  });
});

describe('traffic plan', () => {
  it('splits any number of accounts into cohorts of 2 up to the size asked', () => {
    const wrong: string[] = [];
    for (const size of [3, 4, 5, 7, 50, 500]) {
      for (let n = 2; n <= 600; n++) {
        const plan = makePlan(n, size);
        let sum = 0;
        for (let c = 0; c < plan.cohorts; c++) {
          const members = cohortMembers(plan, c);
          const S = members.length;
          if (S !== cohortSizeOf(plan, c) || S < 2 || S > size || members.some((a) => cohortOf(plan, a) !== c)) wrong.push(`${n}/${size} cohort ${c}`);
          sum += S;
        }
        if (sum !== n) wrong.push(`${n}/${size}: ${sum} accounts in cohorts`);
      }
    }
    expect(wrong).toEqual([]);
    expect(makePlan(10, 1).cohortSize).toBe(3);
    expect(makePlan(10, 10_000).cohortSize).toBe(500);
  });

  it('routes a cohort stream over every ordered pair once per round, and an account stream over its peers in turn', () => {
    const plan = makePlan(23, 5); // five cohorts of 4 or 5
    const s = parseStream(plan, vuStream(2, 99))!;
    const S = s.size;
    const pairs = new Set<string>();
    for (let n = 0; n < S * (S - 1); n++) {
      const r = route(plan, s, n);
      expect(r.from).not.toBe(r.to);
      expect(cohortOf(plan, r.from)).toBe(2);
      expect(cohortOf(plan, r.to)).toBe(2);
      pairs.add(`${r.from}>${r.to}`);
    }
    expect(pairs.size).toBe(S * (S - 1));
    const a = parseStream(plan, accountStream(7))!;
    const peers = new Set(Array.from({ length: a.size - 1 }, (_, n) => route(plan, a, n).to));
    expect([...peers].sort((x, y) => x - y)).toEqual(cohortMembers(plan, cohortOf(plan, 7)).filter((m) => m !== 7));
    expect(parseStream(plan, 'a23')).toBeUndefined();
    expect(parseStream(plan, 'c5v1')).toBeUndefined();
  });

  it('lets arrivals come at their times whatever happened since (open model), and none at or after the end', () => {
    const once = new Arrivals(10_000, 20_000, 2, 0.5);
    const all = once.take(60_000);
    expect(all.map((a) => a.dueAt)).toEqual(Array.from({ length: 20 }, (_, n) => 10_250 + n * 500));
    expect(once.done()).toBe(true);
    expect(once.nextDueAt()).toBeUndefined();
    // Taken in small steps, or after a 6 s outage, the same arrivals with the same due times.
    const steps = new Arrivals(10_000, 20_000, 2, 0.5);
    const got = [...steps.take(11_000), ...steps.take(17_000), ...steps.take(30_000)];
    expect(got).toEqual(all);
    expect(steps.taken).toBe(20);
    // An arrival due exactly at the end of the window does not come.
    expect(new Arrivals(0, 2000, 1, 0).take(5000).map((a) => a.n)).toEqual([0, 1]);
    expect(arrivalRateOption(0.3)).toEqual({ rate: 18, timeUnit: '1m' });
  });
});

/** A deterministic stream of numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface RunFigures {
  tally: Tally;
  endOfRunSends: number;
  endOfRunDeliveries: number;
  injected: { lost: number; duplicated: number; late: number; unacked: number };
}

/**
 * A long-link run of `vus` accounts, the server simulated: each account's
 * stream sends `perStream` messages, each stored for its recipient and echoed
 * to its sender, with faults drawn from a seed; then each stream's end-of-run
 * messages, delivered to every member of the room they go to, after the deadline.
 */
function simulate(vus: number, perStream: number, faults: boolean): RunFigures {
  const plan = makePlan(vus, 50);
  const rooms = Array.from({ length: plan.cohorts }, (_, c) => `@@${c + 1}`);
  const devices = Array.from({ length: vus }, (_, me) => deviceOf(me, plan, cohortMembers(plan, cohortOf(plan, me)).map(accountStream)));
  const random = rng(vus * 7919 + perStream);
  const injected = { lost: 0, duplicated: 0, late: 0, unacked: 0 };
  let id = 1;
  let endOfRunSends = 0;
  let endOfRunDeliveries = 0;
  for (let a = 0; a < vus; a++) {
    const stream = parseStream(plan, accountStream(a))!;
    const unacked: number[] = [];
    for (let n = 0; n < perStream; n++) {
      if (faults && random() < 0.01) {
        unacked.push(n); // never stored: the server refused it to the end
        injected.unacked++;
        continue;
      }
      const r = route(plan, stream, n);
      const msgId = id++;
      for (const d of [r.to, r.from]) {
        const x = faults ? random() : 1;
        if (x < 0.01) {
          injected.lost++;
          continue;
        }
        const late = x < 0.02;
        if (late) injected.late++;
        devices[d]!.observe(msgId, messageContent(stream.id, n, 0, 48), late ? LATE : ON_TIME);
        if (faults && random() < 0.01) {
          devices[d]!.observe(id++, messageContent(stream.id, n, 0, 48), ON_TIME); // stored twice
          injected.duplicated++;
        }
      }
    }
    for (const m of endOfRun(plan, stream.id, perStream, unacked, rooms)) {
      endOfRunSends++;
      const msgId = id++;
      for (const d of cohortMembers(plan, rooms.indexOf(m.to))) {
        endOfRunDeliveries++;
        devices[d]!.observe(msgId, m.content, LATE); // the fin backlog comes after the deadline: never counted as messages
      }
    }
  }
  const tally = devices.map((d) => d.settle()).reduce((t, u) => {
    for (const k of Object.keys(t) as Array<keyof Tally>) t[k] += u[k];
    return t;
  });
  return { tally, endOfRunSends, endOfRunDeliveries, injected };
}

describe('a simulated run', () => {
  it('reports exactly the injected loss, duplicates and lateness at 200 VUs, and never the fins', () => {
    const { tally, injected } = simulate(200, 60, true);
    expect(injected.lost).toBeGreaterThan(0);
    expect(injected.duplicated).toBeGreaterThan(0);
    expect(injected.late).toBeGreaterThan(0);
    expect(tally.missing).toBe(injected.lost);
    expect(tally.duplicated).toBe(injected.duplicated);
    expect(tally.late).toBe(injected.late);
    expect(tally).toMatchObject({ finsMissing: 0, misrouted: 0, beyondTotal: 0, unverified: 0, fins: 200 * 50 });
  });

  it('is clean on a clean run of 200 VUs whose fins all come after the drain deadline', () => {
    const { tally } = simulate(200, 60, false);
    expect(tally).toMatchObject({ missing: 0, duplicated: 0, late: 0, finsMissing: 0, delivered: 200 * 60 * 2 });
  });

  it('ends a run with one send per VU and cohort-size deliveries each: linear in the VUs', () => {
    const at200 = simulate(200, 4, false);
    const at400 = simulate(400, 4, false);
    expect(at200.endOfRunSends).toBe(200); // one fin per sender per other account was 200 × 199
    expect(at400.endOfRunSends).toBe(400);
    expect(at200.endOfRunDeliveries).toBe(200 * 50);
    expect(at400.endOfRunDeliveries).toBe(2 * at200.endOfRunDeliveries);
  });
});
