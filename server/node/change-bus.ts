// Cross-node notify (docs/protocol.md section 9.3): after a batch commits,
// a node tells the other nodes on its database which accounts got new items,
// so that they wake the synccheck polls and long links they hold for them.
// A notice is only a wake-up, never data: a woken poll or link runs its
// client's normal check or sync against the store, so a notice that lies,
// comes late or twice costs a round trip, and one that is lost only delays
// (until the poll's hold ends, or the link client's safety sync).
//
// The wire form (a PostgreSQL NOTIFY payload, under 8000 bytes):
//   `1 <origin> <uin>.<seq>.<selector>,…`  (uin and seq in base 36)
//   `1 <origin> *`                          (too many to list: everyone)
// `origin` names the publishing node, so that it skips its own notices.
import type { CoreEffect } from '../core/plan.ts';
import { Selector } from '../core/model.ts';

/** One account's news: its log grew to `seq`, in the categories of `selector`. */
export interface Change {
  uin: number;
  seq: number;
  selector: number;
}

/** What a node is told: these accounts, or (too many to list, or notices may have been missed) every account. */
export type RemoteChanges = readonly Change[] | 'everyone';

/** Where a node publishes its committed batches' changes. */
export interface ChangePublisher {
  publish(changes: readonly Change[]): void;
}

/** What a notice wakes: ServerNode.remoteChanges. */
export interface ChangeSink {
  remoteChanges(changes: RemoteChanges): void;
}

export interface PayloadLimits {
  /** Bytes of one payload at most (PostgreSQL refuses 8000 and more). */
  maxBytes: number;
  /** Payloads for one batch at most; more changes than fit are sent as one `*`. */
  maxPayloads: number;
}

export const DEFAULT_PAYLOAD_LIMITS: PayloadLimits = { maxBytes: 7900, maxPayloads: 8 };

const VERSION = '1';
const EVERYONE = '*';
const ORIGIN = /^[A-Za-z0-9_-]{1,64}$/;
const NUMBER36 = /^[0-9a-z]{1,11}$/;
const ANY_SELECTOR = Selector.Messages | Selector.Contacts;

/** A batch's `appended` effects, one change per account: the highest seq, the selectors or-ed together. */
export function changesOf(effects: readonly CoreEffect[]): Change[] {
  const byUin = new Map<number, Change>();
  for (const e of effects) {
    if (e.kind !== 'appended') continue;
    const c = byUin.get(e.uin);
    if (c) {
      c.seq = Math.max(c.seq, e.seq);
      c.selector |= e.selector;
    } else byUin.set(e.uin, { uin: e.uin, seq: e.seq, selector: e.selector });
  }
  return [...byUin.values()];
}

/** The payloads that carry `changes` from `origin`: none for no changes, one `*` for more than the limits let list. */
export function encodeChanges(origin: string, changes: readonly Change[], limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS): string[] {
  if (!ORIGIN.test(origin)) throw new RangeError(`a change origin is 1-64 of [A-Za-z0-9_-], got '${origin.slice(0, 80)}'`);
  if (changes.length === 0) return [];
  const head = `${VERSION} ${origin} `;
  const payloads: string[] = [];
  let body = '';
  for (const c of changes) {
    const item = `${c.uin.toString(36)}.${c.seq.toString(36)}.${c.selector}`;
    if (body !== '' && head.length + body.length + 1 + item.length > limits.maxBytes) {
      payloads.push(head + body);
      body = '';
    }
    if (head.length + item.length > limits.maxBytes || payloads.length >= limits.maxPayloads) return [head + EVERYONE];
    body = body === '' ? item : `${body},${item}`;
  }
  payloads.push(head + body);
  return payloads;
}

/**
 * A payload read back. One that cannot be read (another version, or
 * damaged) counts as `everyone` from an unknown origin: re-checking every
 * waiter costs round trips, ignoring a notice could cost a delay.
 */
export function decodeChanges(payload: string): { origin: string; changes: RemoteChanges } {
  const everyone = { origin: '', changes: 'everyone' as const };
  const parts = payload.split(' ');
  if (parts.length !== 3 || parts[0] !== VERSION || !ORIGIN.test(parts[1]!)) return everyone;
  const origin = parts[1]!;
  if (parts[2] === EVERYONE) return { origin, changes: 'everyone' };
  const changes: Change[] = [];
  for (const item of parts[2]!.split(',')) {
    const f = item.split('.');
    if (f.length !== 3 || !NUMBER36.test(f[0]!) || !NUMBER36.test(f[1]!) || !/^[0-9]{1,2}$/.test(f[2]!)) return { origin, changes: 'everyone' };
    const selector = Number(f[2]);
    changes.push({
      uin: parseInt(f[0]!, 36),
      seq: parseInt(f[1]!, 36),
      // A selector outside the known bits still wakes: with every bit, and the client's sync finds what there is.
      selector: selector > 0 && (selector & ~ANY_SELECTOR) === 0 ? selector : ANY_SELECTOR,
    });
  }
  return { origin, changes };
}

/** The selector a wake sends a long link when it does not know which categories changed. */
export const EVERY_SELECTOR = ANY_SELECTOR;
