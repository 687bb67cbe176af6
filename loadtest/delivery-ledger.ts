// Loss and duplicate accounting. Every message a population sends is
// recorded with the deliveries it is owed; each device's `applied` events
// count against it, so at the end of a phase the ledger knows what was
// acknowledged but never reached a device it was meant for (lost), what
// reached a device twice (duplicated) and what came back with another MsgId
// than the sender was answered (mismatched).
import type { MessageItem } from '../client/core/client-state.ts';
import { decodeContent } from './content-codec.ts';
import { isMeantFor, type Addressing, type Dev, type Group } from './members.ts';
import { DEFAULT_CONTENT_BYTES, type PhaseSpec } from './phase.ts';
import { Recorder } from './recorder.ts';

/**
 * Where a sent message stands: `unanswered` until the sender hears back, then
 * `failed` or `acked`; `durable` once acknowledged and on every device meant.
 */
export type SentState = 'unanswered' | 'failed' | 'acked' | 'durable';

export interface SentMessage extends Addressing {
  id: number;
  /** The sending device. */
  sender: number;
  sentAt: number;
  /** Deliveries owed, and deliveries made, to devices meant. */
  expected: number;
  got: number;
  /** device → deliveries. */
  seen: Map<number, number>;
  state: SentState;
  /** The MsgId the sender was answered (0 until then). */
  msgId: number;
}

const isAcked = (m: SentMessage): boolean => m.state === 'acked' || m.state === 'durable';

/** What one phase sent, and the counts and latencies of what became of it. */
export class PhaseTally {
  readonly rec = new Recorder();
  readonly messages: SentMessage[] = [];
  readonly groupSendFraction: number;
  readonly contentBytes: readonly [number, number];
  sent = 0;
  acked = 0;
  failed = 0;
  durable = 0;
  duplicated = 0;
  mismatched = 0;
  /** Called after each answer (ack or failure) to a send of the phase: a closed loop sends again from there. */
  onAnswer: (d: Dev) => void = () => {};

  constructor(spec: PhaseSpec) {
    this.groupSendFraction = spec.groupSendFraction ?? 0;
    this.contentBytes = spec.contentBytes ?? DEFAULT_CONTENT_BYTES;
  }

  /** Acknowledged messages not yet on every device meant. */
  incomplete(): number {
    return this.messages.reduce((n, m) => n + (m.state === 'acked' ? 1 : 0), 0);
  }

  /** Deliveries owed to acknowledged messages that never came, and sends without an answer. */
  outcome(): { lost: number; unanswered: number } {
    let lost = 0;
    let unanswered = 0;
    for (const m of this.messages) {
      if (isAcked(m)) lost += Math.max(0, m.expected - m.got);
      else if (m.state === 'unanswered') unanswered++;
    }
    return { lost, unanswered };
  }
}

export class DeliveryLedger {
  readonly #groups: readonly Group[];
  readonly #sent = new Map<number, SentMessage>();
  #nextId = 1;
  /** The phase now receiving events. */
  phase: PhaseTally | undefined;
  /** Deliveries of messages this driver did not send (none expected) or sent in no known phase. */
  foreign = 0;

  /** `groups` is the population's own list: groups created later count too. */
  constructor(groups: readonly Group[]) {
    this.#groups = groups;
  }

  nextId(): number {
    return this.#nextId++;
  }

  /** Records a send of phase `ph`. */
  add(m: SentMessage, ph: PhaseTally): void {
    this.#sent.set(m.id, m);
    ph.messages.push(m);
    ph.sent++;
    ph.rec.offered(m.sentAt);
  }

  /** What the phase sent is settled: forget its messages (a late duplicate would count as foreign). */
  forget(ph: PhaseTally): void {
    for (const m of ph.messages) this.#sent.delete(m.id);
  }

  /** Device `d` applied message `item`. */
  applied(d: Dev, item: MessageItem): void {
    const c = decodeContent(item.Content);
    const m = c ? this.#sent.get(c.id) : undefined;
    if (!m) {
      this.foreign++;
      return;
    }
    const ph = this.phase;
    const n = (m.seen.get(d.idx) ?? 0) + 1;
    m.seen.set(d.idx, n);
    if (n > 1) {
      if (ph) ph.duplicated++;
      return;
    }
    if (isAcked(m) && item.MsgId !== m.msgId && ph) ph.mismatched++;
    if (d.idx === m.sender || !isMeantFor(this.#groups, m, d)) return;
    m.got++;
    const at = performance.now();
    ph?.rec.delivered(at, at - m.sentAt);
    this.#maybeDurable(m, at);
  }

  /** Device `d`'s send `localId` was answered: acknowledged with `msgId`, or failed when undefined. */
  answered(d: Dev, localId: string, msgId: number | undefined): void {
    const id = d.pending.get(localId);
    if (id === undefined) return;
    d.pending.delete(localId);
    const m = this.#sent.get(id);
    if (!m) return;
    const ph = this.phase;
    const at = performance.now();
    if (msgId === undefined) {
      m.state = 'failed';
      if (ph) ph.failed++;
    } else {
      m.state = 'acked';
      m.msgId = msgId;
      if (ph) {
        ph.acked++;
        ph.rec.acked(at, at - m.sentAt);
      }
      this.#maybeDurable(m, at);
    }
    ph?.onAnswer(d);
  }

  #maybeDurable(m: SentMessage, at: number): void {
    if (m.state !== 'acked' || m.got < m.expected) return;
    m.state = 'durable';
    const ph = this.phase;
    if (ph) {
      ph.durable++;
      ph.rec.durable(at);
    }
  }
}
