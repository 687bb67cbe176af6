// What the server delivered to this device: messages, kept in the order
// applied and taken in once per MsgId, and contacts by user name. The inbox
// is bounded: the oldest messages leave first. Their ids leave the dedup set
// with them, but not the dedup record: MsgIds increase along the account's
// log (docs/protocol.md 4.1), which is the order messages are applied in, so
// every message up to the highest id ever trimmed was applied already. A
// resync from key 0, which replays the log from its floor, applies nothing twice.
import type { ContactItem, MessageItem } from '../../server/core/model.ts';
import type { OutputQueue } from './client-output.ts';

/** The received part of a sync reply. */
export interface Delivery {
  messages: MessageItem[];
  contacts: ContactItem[];
  deleted: ContactItem[];
}

export class Inbox {
  readonly #output: OutputQueue;
  readonly #max: number;
  /** The 'client-no-dedup' test seam: apply messages without the MsgId check. */
  readonly #noDedup: boolean;
  #messages: MessageItem[];
  #seen = new Set<number>();
  /** The highest MsgId trimmed from the inbox: every MsgId up to it counts as applied. */
  #trimmedThrough = 0;
  #contacts = new Map<string, ContactItem>();

  constructor(messages: MessageItem[], contacts: ContactItem[], maxInbox: number, noDedup: boolean, output: OutputQueue) {
    this.#output = output;
    this.#max = maxInbox;
    this.#noDedup = noDedup;
    this.#messages = messages;
    for (const m of messages) this.#seen.add(m.MsgId);
    // A saved inbox that is full may have been trimmed: what came before its oldest message was applied.
    if (messages.length >= maxInbox) this.#trimmedThrough = messages[0]!.MsgId - 1;
    for (const c of contacts) this.#contacts.set(c.UserName, c);
  }

  /** The live messages in applied order; callers must not mutate them. */
  messages(): readonly MessageItem[] {
    return this.#messages;
  }

  contacts(): ContactItem[] {
    return [...this.#contacts.values()];
  }

  setContact(c: ContactItem): void {
    this.#contacts.set(c.UserName, c);
    this.#output.event({ kind: 'contact', contact: c });
  }

  /** Takes in what a sync reply delivered; returns whether any of it was new (a message, a contact change). */
  take(d: Delivery): boolean {
    let fresh = d.contacts.length > 0 || d.deleted.length > 0;
    for (const m of d.messages) {
      if (!this.#noDedup && (this.#seen.has(m.MsgId) || m.MsgId <= this.#trimmedThrough)) continue;
      this.#messages.push(m);
      this.#seen.add(m.MsgId);
      this.#output.event({ kind: 'applied', msg: m });
      fresh = true;
    }
    const over = this.#messages.length - this.#max;
    if (over > 0) {
      for (const m of this.#messages.splice(0, over)) {
        this.#seen.delete(m.MsgId);
        this.#trimmedThrough = Math.max(this.#trimmedThrough, m.MsgId);
      }
    }
    for (const c of d.contacts) this.setContact(c);
    for (const c of d.deleted) this.#contacts.delete(c.UserName);
    return fresh;
  }
}
