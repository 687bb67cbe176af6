// The messages a violation names, followed through a chaos history: a
// checker's detail says "ClientMsgId X of u2 has two MsgIDs: 15 and 19" or
// "MsgId 7 ... was acknowledged but never reached this device"; a person
// wants that message's life next to it: who sent it when, what the server
// answered, whether the send failed and was resent, and where it was applied.
import { describeRecord, type HistoryRecord } from './history.ts';

export interface NamedMessages {
  clientMsgIds: Set<string>;
  msgIds: Set<number>;
}

/** MsgId 7, MsgIDs: 15 and 19, missing MsgIds 3, 4, 5. */
const MSG_IDS = /MsgI[dD]s?:?\s+((?:\d+(?:,\s*|\s+and\s+)?)+)/g;

/** The ClientMsgIds (those the history's users sent) and MsgIds a detail names. */
export function namedMessages(detail: string, records: readonly HistoryRecord[]): NamedMessages {
  const clientMsgIds = new Set<string>();
  for (const r of records) if (r.k === 'user-send' && detail.includes(r.clientMsgId)) clientMsgIds.add(r.clientMsgId);
  const msgIds = new Set<number>();
  for (const m of detail.matchAll(MSG_IDS)) for (const n of m[1]!.split(/\D+/)) if (n !== '') msgIds.add(Number(n));
  return { clientMsgIds, msgIds };
}

/** Does the record belong to one of the named messages? `localIds` maps device/localId to ClientMsgId. */
function about(r: HistoryRecord, n: NamedMessages, localIds: ReadonlyMap<string, string>): boolean {
  switch (r.k) {
    case 'user-send':
    case 'send-failed':
      return n.clientMsgIds.has(r.clientMsgId);
    case 'acked':
      return n.clientMsgIds.has(r.clientMsgId) || n.msgIds.has(r.msgId);
    case 'user-resend':
      return n.clientMsgIds.has(localIds.get(`${r.device}/${r.localId}`) ?? '');
    case 'applied':
      return n.clientMsgIds.has(r.msg.ClientMsgId) || n.msgIds.has(r.msg.MsgId);
    default:
      return false;
  }
}

/**
 * The history lines of the named messages up to `upTo` (the failing line,
 * 1-based), at most `max` of them: every send, answer, failure and resend,
 * and the applications on the violation's device (`who`, or a device of the
 * account `who`); those on other devices are summed up in one line.
 */
export function messageLines(records: readonly HistoryRecord[], n: NamedMessages, upTo: number, who: string, max = 16): string[] {
  if (n.clientMsgIds.size === 0 && n.msgIds.size === 0) return [];
  const localIds = new Map<string, string>();
  const out: string[] = [];
  const elsewhere = { devices: new Set<string>(), first: Infinity, last: -Infinity };
  const mine = (device: string): boolean => device === who || device.startsWith(`${who}.`);
  for (const [i, r] of records.entries()) {
    if (i >= upTo) break;
    if (r.k === 'user-send') localIds.set(`${r.device}/${r.localId}`, r.clientMsgId);
    if (!about(r, n, localIds)) continue;
    if (r.k === 'applied' && !mine(r.device)) {
      elsewhere.devices.add(r.device);
      elsewhere.first = Math.min(elsewhere.first, r.t);
      elsewhere.last = Math.max(elsewhere.last, r.t);
      continue;
    }
    out.push(`${describeRecord(r)}  (line ${i + 1})`);
  }
  // Too many: the first ones (the sends), and the last (nearest the failure).
  const kept = out.length <= max ? out : [...out.slice(0, max - 2), `  … ${out.length - max + 1} more`, out[out.length - 1]!];
  const d = elsewhere.devices.size;
  if (d > 0) {
    const s = (t: number): string => `${(t / 1000).toFixed(3)} s`;
    kept.push(`  and applied on ${d} other device${d > 1 ? 's' : ''} (${[...elsewhere.devices].slice(0, 6).join(', ')}${d > 6 ? ', …' : ''}) between ${s(elsewhere.first)} and ${s(elsewhere.last)}`);
  }
  return kept;
}
