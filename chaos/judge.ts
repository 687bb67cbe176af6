// Judges a chaos history with the simulator's own checkers (sim/checkers.ts):
// the history's events are fed to them as the simulator's observer feeds a
// simulated run's (sim/observer.ts): what an instance applies, its keys and
// resyncs count while it is its device's current one; a ghost's or a killed
// instance's do not, though its acknowledgements and the keys it held do.
// Then the liveness record and the store's final logs, as sim/run.ts ends a
// run. The verdict of a history never depends on anything but the history.
import { Checkers } from '../sim/checkers.ts';
import { Violation } from '../sim/violation.ts';
import { concerns, describeRecord, type HistoryRecord } from './history.ts';

export interface JudgeFailure {
  /** A guarantee of the checkers, 'server-exit' (the server died unasked), or 'incomplete' (the history stops early). */
  guarantee: string;
  who: string;
  detail: string;
  /** The record's time (ms into the run) and line in the history file (1-based). */
  t: number;
  line: number;
  /** The last records about `who` and the server up to the failure, one line each. */
  recent: string[];
}

export interface Verdict {
  ok: boolean;
  failure?: JudgeFailure;
  counts: {
    records: number;
    sends: number;
    acked: number;
    applied: number;
    resyncs: number;
    kills: number;
    replaced: number;
    crashes: number;
    skipped: number;
    faults: Record<string, number>;
  };
  /** Ms from healing until every device converged, if it did. */
  convergedAfterMs?: number;
}

const RECENT = 24;

export function judge(records: readonly HistoryRecord[]): Verdict {
  const head = records[0];
  if (!head || head.k !== 'run') throw new Error('judge: a history begins with its run record');
  const groups = new Map<string, string[]>();
  const accountOf = new Map<string, string>();
  const accountDevices = new Map<string, string[]>();
  /** Device → its current live instance (neither killed nor replaced). */
  const current = new Map<string, number>();
  const checkers = new Checkers({ isMember: (g, u) => groups.get(g)?.includes(u) ?? false, resyncAllowed: head.plan.resyncAllowed });
  const counts: Verdict['counts'] = { records: records.length, sends: 0, acked: 0, applied: 0, resyncs: 0, kills: 0, replaced: 0, crashes: 0, skipped: 0, faults: {} };
  let convergedAfterMs: number | undefined;
  let finished = false;
  const account = (device: string): string => {
    const a = accountOf.get(device);
    if (a === undefined) throw new Error(`judge: device ${device} was never declared`);
    return a;
  };
  const watched = (r: { device: string; inst: number }): boolean => current.get(r.device) === r.inst;
  const fail = (i: number, guarantee: string, who: string, detail: string): Verdict => {
    const recent = records.slice(0, i + 1).filter((r) => concerns(r, who)).slice(-RECENT).map(describeRecord);
    return { ok: false, failure: { guarantee, who, detail, t: records[i]!.t, line: i + 1, recent }, counts: { ...counts, ...checkers.counts } };
  };
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    try {
      switch (r.k) {
        case 'device':
          accountOf.set(r.device, r.account);
          accountDevices.set(r.account, [...(accountDevices.get(r.account) ?? []), r.device]);
          break;
        case 'group':
          groups.set(r.name, r.members);
          break;
        case 'app-start':
          current.set(r.device, r.inst);
          checkers.deviceStarted(r.device, account(r.device), r.inbox, r.key);
          break;
        case 'app-kill':
          counts.kills++;
          if (current.get(r.device) === r.inst) current.delete(r.device);
          break;
        case 'session-replace':
          counts.replaced++;
          if (current.get(r.device) === r.ghost) current.delete(r.device);
          break;
        case 'user-send':
          checkers.userSent({ device: r.device, fromUser: account(r.device), to: r.to, content: r.content, clientMsgId: r.clientMsgId, localId: r.localId, sentAt: r.t });
          break;
        case 'user-skip':
          counts.skipped++;
          break;
        case 'applied':
          if (watched(r)) checkers.applied(r.device, r.msg, r.t);
          break;
        case 'contact':
          if (watched(r)) checkers.contact(r.device, r.contact);
          break;
        case 'synckey':
          checkers.heldKey(r.device, r.key);
          if (watched(r)) checkers.syncKey(r.device, r.key);
          break;
        case 'acked':
          checkers.sendAcked(account(r.device), r.clientMsgId, r.msgId, r.device);
          break;
        case 'resync':
          counts.resyncs++;
          if (watched(r)) checkers.resync(r.device);
          break;
        case 'session-lost':
          if (watched(r)) throw new Violation('liveness', r.device, `the device's current session was ended (Ret ${r.ret}) though no newer login replaced it`);
          break;
        case 'server-crash':
          counts.crashes++;
          break;
        case 'server-exit':
          return fail(i, 'server-exit', 'server', `the server process exited by itself (code ${r.code}, signal ${r.signal}); it must never crash on input${r.stderr ? `\n${r.stderr}` : ''}`);
        case 'fault':
          counts.faults[r.what] = (counts.faults[r.what] ?? 0) + 1;
          break;
        case 'liveness':
          if (!r.converged) throw new Violation('liveness', r.detail.split(':')[0]!, `not converged ${Math.round(r.afterMs)} ms after healing: ${r.detail}`);
          convergedAfterMs = r.afterMs;
          break;
        case 'final':
          checkers.final(accountDevices, (a) => r.logs[a] ?? [], (g) => groups.get(g) ?? []);
          finished = true;
          break;
        default:
          break;
      }
    } catch (e) {
      if (!(e instanceof Violation)) throw e;
      return fail(i, e.guarantee, e.who, e.detail);
    }
  }
  Object.assign(counts, checkers.counts);
  if (!finished) return fail(records.length - 1, 'incomplete', 'server', 'the history ends before its final record: the run did not finish, so no-loss and convergence were never judged');
  const v: Verdict = { ok: true, counts };
  if (convergedAfterMs !== undefined) v.convergedAfterMs = convergedAfterMs;
  return v;
}
