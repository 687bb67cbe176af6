// The guarantees of docs/protocol.md section 10, checked as events happen and at
// the end. The world reports what devices do; the checker keeps just enough
// to judge it and throws a Violation at the first broken guarantee.
import type { ContactItem, MessageItem } from '../server/core/model.ts';
import { Violation } from './violation.ts';

export interface SentRecord {
  device: string;
  fromUser: string;
  to: string;
  content: string;
  clientMsgId: string;
  localId: string;
  /** Simulated time of the user's send. */
  sentAt: number;
  /** Set when the server answered with a MsgID. */
  msgId?: number;
}

export interface CheckerOptions {
  /** Is `user` a member of group `name`? (The group table is the oracle.) */
  isMember: (group: string, user: string) => boolean;
  /**
   * May a device be told to resync (1200)? Only where items can leave before
   * every device acknowledged them: short maximum retention or session
   * lifetime. Elsewhere a 1200 means an unacknowledged item was pruned.
   */
  resyncAllowed: boolean;
  /** Fault-free scenarios: every message on every recipient device within this bound. */
  maxDeliveryMs?: number;
}

interface DeviceView {
  account: string;
  /** MsgIds applied by the current instance, in order. */
  inbox: number[];
  seen: Set<number>;
  lastMsgId: number;
  key: Map<number, number>;
  resynced: boolean;
}

export class Checkers {
  private readonly devices = new Map<string, DeviceView>();
  /** Every send, in the order first sent; a send made again under the same (sender, ClientMsgId) takes its place. */
  private readonly sent: SentRecord[] = [];
  /** (sender user, ClientMsgId) → its send and its MsgID, found with one look-up. */
  private readonly sends = new BySend();
  /** Per device (all its instances, ghosts too): the highest key value it ever held, per key. */
  private readonly held = new Map<string, Map<number, number>>();
  readonly counts = { applied: 0, acked: 0, sends: 0 };
  /**
   * Accounts played by hostile users (sim/hostile-workload.ts). What they send
   * is judged like any send where honest devices receive it; only their own
   * devices' resyncs are excused (their floods may fill their own logs).
   */
  private readonly hostile = new Set<string>();

  private readonly isMember: (group: string, user: string) => boolean;
  /**
   * MsgIds of commits a power cut took (synchronous NORMAL, docs/protocol.md
   * section 9.2): acknowledged, yet gone from the server. They are excused
   * from no-loss and convergence, and their (sender, ClientMsgId) may get a
   * second MsgId when the send is retried. Everything else is judged as ever.
   */
  private readonly lostIds = new Set<number>();
  private resyncAllowed: boolean;

  constructor(private readonly o: CheckerOptions) {
    this.isMember = o.isMember;
    this.resyncAllowed = o.resyncAllowed;
  }

  /** The scenario decides whether a 1200 may come, over what the world made of its limits (Scenario.resyncAllowed). */
  setResyncAllowed(allowed: boolean): void {
    this.resyncAllowed = allowed;
  }

  /** A power cut took commits that handed out these MsgIds. */
  lost(msgIds: Iterable<number>): void {
    for (const id of msgIds) this.lostIds.add(id);
  }

  /** A device instance starts, from a persisted inbox and key (empty on first start). */
  deviceStarted(device: string, account: string, inbox: readonly MessageItem[], key: ReadonlyArray<readonly [number, number]>): void {
    const ids = inbox.map((m) => m.MsgId);
    this.devices.set(device, {
      account,
      inbox: ids,
      seen: new Set(ids),
      lastMsgId: ids.length ? ids[ids.length - 1]! : 0,
      key: new Map(key.map(([k, v]) => [k, v])),
      resynced: this.devices.get(device)?.resynced ?? false,
    });
  }

  hostileAccount(account: string): void {
    this.hostile.add(account);
  }

  userSent(r: SentRecord): void {
    this.counts.sends++;
    const entry = this.sends.entry(r.fromUser, r.clientMsgId);
    if (entry.index < 0) {
      entry.index = this.sent.length;
      this.sent.push(r);
    } else this.sent[entry.index] = r;
    entry.sent = r;
  }

  sendAcked(fromUser: string, clientMsgId: string, msgId: number, device: string): void {
    this.counts.acked++;
    const entry = this.sends.entry(fromUser, clientMsgId);
    this.oneMsgId(entry, fromUser, clientMsgId, msgId, device);
    if (entry.sent) entry.sent.msgId = msgId;
  }

  applied(device: string, msg: MessageItem, now: number): void {
    this.counts.applied++;
    const v = this.view(device);
    if (v.seen.has(msg.MsgId)) throw new Violation('exactly-once', device, `MsgId ${msg.MsgId} applied twice`);
    if (msg.MsgId <= v.lastMsgId) {
      throw new Violation('order', device, `${describe(msg)} applied after MsgId ${v.lastMsgId}: the account log is in commit order`);
    }
    const mine = msg.FromUserName === v.account || msg.ToUserName === v.account || (msg.ToUserName.startsWith('@@') && this.isMember(msg.ToUserName, v.account));
    if (!mine) throw new Violation('isolation', device, `${v.account} received ${describe(msg)}`);
    const entry = this.sends.entry(msg.FromUserName, msg.ClientMsgId);
    this.oneMsgId(entry, msg.FromUserName, msg.ClientMsgId, msg.MsgId, device);
    const sent = entry.sent;
    if (!sent) throw new Violation('integrity', device, `${describe(msg)} matches no send`);
    if (sent.content !== msg.Content || sent.to !== msg.ToUserName) {
      throw new Violation('integrity', device, `${describe(msg)} differs from what ${sent.device} sent (to ${sent.to}, ${sent.content.length} chars)`);
    }
    if (this.o.maxDeliveryMs !== undefined && now - sent.sentAt > this.o.maxDeliveryMs) {
      throw new Violation('prompt-delivery', device, `${describe(msg)} arrived ${Math.round(now - sent.sentAt)} ms after the send (bound ${this.o.maxDeliveryMs} ms): a notify or a synccheck missed it`);
    }
    v.seen.add(msg.MsgId);
    v.inbox.push(msg.MsgId);
    v.lastMsgId = msg.MsgId;
  }

  contact(device: string, c: ContactItem): void {
    const v = this.view(device);
    if (c.UserName.startsWith('@@') && !this.isMember(c.UserName, v.account)) {
      throw new Violation('isolation', device, `${v.account} received the contact of ${c.UserName}, which it is not in`);
    }
  }

  syncKey(device: string, key: ReadonlyArray<readonly [number, number]>): void {
    const v = this.view(device);
    for (let i = 0; i < key.length; i++) {
      const k = key[i]![0];
      const val = key[i]![1];
      const prev = v.key.get(k) ?? 0;
      if (val < prev) throw new Violation('synckey-monotonic', device, `key ${k} went from ${prev} to ${val}`);
      v.key.set(k, val);
    }
  }

  /** Any instance of the device held this key (it may have presented it, acknowledging the items below). */
  heldKey(device: string, key: ReadonlyArray<readonly [number, number]>): void {
    let h = this.held.get(device);
    if (!h) this.held.set(device, (h = new Map()));
    for (let i = 0; i < key.length; i++) {
      const k = key[i]![0];
      const val = key[i]![1];
      if (val > (h.get(k) ?? 0)) h.set(k, val);
    }
  }

  resync(device: string): void {
    const v = this.view(device);
    // A device that never synced (key all zero) asks for what is retained; a
    // gap before its first login is no loss of its own.
    const firstLogin = [...v.key.values()].every((x) => x === 0);
    // An instance restarted from an older save (a torn write, a new install)
    // may be behind what the device once acknowledged: pruning that is right.
    const h = this.held.get(device);
    const behindItsOwnAck = [...v.key].some(([k, val]) => (h?.get(k) ?? 0) > val);
    if (!this.resyncAllowed && !firstLogin && !behindItsOwnAck && !this.hostile.has(v.account)) {
      // With hostile users about, the likely cause is theirs: a full log must refuse (1110), never evict.
      const abuse = this.hostile.size > 0 ? ` (hostile accounts ${[...this.hostile].join(', ')} were filling logs: a full log must refuse, never evict)` : '';
      throw new Violation('retention', device, `told to resync (1200) though every item is kept until all live devices acknowledge it: an unacknowledged item was pruned${abuse}`);
    }
    v.resynced = true;
  }

  /** The send's one MsgID (a power cut's lost one may be replaced). */
  private oneMsgId(entry: SendEntry, fromUser: string, clientMsgId: string, msgId: number, device: string): void {
    const had = entry.msgId;
    if (had === undefined || (had !== msgId && this.lostIds.has(had))) entry.msgId = msgId;
    else if (had !== msgId) {
      throw new Violation('exactly-once', device, `ClientMsgId ${clientMsgId} of ${fromUser} has two MsgIDs: ${had} and ${msgId}`);
    }
  }

  private view(device: string): DeviceView {
    const v = this.devices.get(device);
    if (!v) throw new Error(`checker: unknown device ${device}`);
    return v;
  }

  /**
   * Has the device's current instance applied every message whose send was
   * acknowledged and that is addressed to its account (or was it told to
   * resync, which excuses a gap)? What the final no-loss check will demand.
   */
  holdsEveryAcked(device: string, members: (group: string) => string[]): boolean {
    const v = this.view(device);
    if (v.resynced) return true;
    for (const r of this.sent) {
      if (r.msgId === undefined || v.seen.has(r.msgId) || this.lostIds.has(r.msgId)) continue;
      const to = r.to.startsWith('@@') ? members(r.to) : [r.fromUser, r.to];
      if (to.includes(v.account)) return false;
    }
    return true;
  }

  /**
   * The end: every acknowledged message is on every device of every recipient
   * (and the sender's other devices), and each device holds its account's log
   * in the server's order. `log(account)` is the retained log, oldest first.
   */
  final(accountDevices: ReadonlyMap<string, string[]>, log: (account: string) => number[], members: (group: string) => string[]): void {
    const retainedOf = new Map<string, Set<number>>();
    for (const [account, devices] of accountDevices) {
      const retained = log(account);
      const retainedSet = new Set(retained);
      retainedOf.set(account, retainedSet);
      const first = retained.length ? retained[0]! : Infinity;
      for (const d of devices) {
        const v = this.view(d);
        const tail = v.inbox.filter((id) => retainedSet.has(id));
        if (tail.length !== retained.length || tail.some((id, i) => id !== retained[i])) {
          const missing = retained.filter((id) => !v.seen.has(id));
          throw new Violation('convergence', d, `holds ${tail.length} of the ${retained.length} retained messages of ${account}${missing.length ? `; missing MsgIds ${missing.slice(0, 8).join(', ')}` : ''}`);
        }
        const extra = v.inbox.find((id) => !retainedSet.has(id) && id > first && !this.lostIds.has(id));
        if (extra !== undefined) throw new Violation('convergence', d, `holds MsgId ${extra}, which is not in ${account}'s log`);
      }
    }
    for (const r of this.sent) {
      if (r.msgId === undefined || this.lostIds.has(r.msgId)) continue;
      const recipients = r.to.startsWith('@@') ? members(r.to) : [r.fromUser, r.to];
      for (const account of new Set(recipients)) {
        const retained = retainedOf.get(account) ?? new Set(log(account));
        for (const d of accountDevices.get(account) ?? []) {
          const v = this.view(d);
          if (v.seen.has(r.msgId)) continue;
          if (v.resynced && !retained.has(r.msgId)) continue; // a loud gap: the device was told to resync
          throw new Violation('no-loss', d, `MsgId ${r.msgId} (ClientMsgId ${r.clientMsgId} from ${r.fromUser} to ${r.to}) was acknowledged but never reached this device`);
        }
      }
    }
  }
}

/** What the checkers know of one (sender user, ClientMsgId). */
interface SendEntry {
  /** The latest send under it, and its place in the list of sends (-1: none yet). */
  sent: SentRecord | undefined;
  index: number;
  /** The one MsgID it may have. */
  msgId: number | undefined;
}

/**
 * Entries keyed by (sender user, ClientMsgId): a map per sender, so a
 * look-up hashes the two strings it is given instead of building a key of
 * both.
 */
class BySend {
  private readonly bySender = new Map<string, Map<string, SendEntry>>();

  /** The entry, made empty if there is none yet. */
  entry(fromUser: string, clientMsgId: string): SendEntry {
    let m = this.bySender.get(fromUser);
    if (!m) this.bySender.set(fromUser, (m = new Map()));
    let e = m.get(clientMsgId);
    if (!e) m.set(clientMsgId, (e = { sent: undefined, index: -1, msgId: undefined }));
    return e;
  }
}

function describe(m: MessageItem): string {
  return `MsgId ${m.MsgId} ${m.FromUserName}→${m.ToUserName} ClientMsgId ${m.ClientMsgId}`;
}
