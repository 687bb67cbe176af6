// What the world sees happen: every event and note as a trace line, and
// every client event fed to the checkers. It also keeps the run's counters.
import type { ClientEvent } from '../client/core/client-core.ts';
import type { AppInstance } from './app-instance.ts';
import type { Checkers, SentRecord } from './checkers.ts';
import { SIM_EPOCH_MS, type EventQueue } from './event-queue.ts';
import type { Registry } from './registry.ts';
import type { Trace } from './trace.ts';

export interface WorldCounters {
  kills: number;
  tornWrites: number;
  partitions: number;
  replaces: number;
  resets: number;
  resyncs: number;
  sessionLost: number;
  sendFailed: number;
}

export class Observer {
  /** Events run so far: the number of the current event's trace line. */
  events = 0;
  readonly counters: WorldCounters = { kills: 0, tornWrites: 0, partitions: 0, replaces: 0, resets: 0, resyncs: 0, sessionLost: 0, sendFailed: 0 };

  constructor(
    readonly trace: Trace,
    readonly checkers: Checkers,
    private readonly registry: Registry,
    private readonly q: EventQueue,
    /** Feed the checkers (default); off, they hear nothing and judge nothing. */
    private readonly checking = true,
  ) {}

  /** An event due at `at` is about to run: its numbered line. */
  event(at: number, kind: string, who: string): void {
    this.events++;
    this.trace.event(this.events, at - SIM_EPOCH_MS, kind, who);
  }

  /** Something happened within the current event. */
  note(kind: string, who: string, detail?: string): void {
    this.trace.event(this.events, this.q.now - SIM_EPOCH_MS, kind, who, detail);
  }

  appStarted(inst: AppInstance, account: string): void {
    if (this.checking) this.checkers.deviceStarted(inst.device, account, inst.core.inbox(), inst.core.syncKey());
    this.note('app-start', inst.device, `instance ${inst.id}`);
  }

  userSent(inst: AppInstance, r: Omit<SentRecord, 'device' | 'fromUser'>): void {
    const account = this.registry.deviceByName(inst.device).account;
    if (this.checking) this.checkers.userSent({ device: inst.device, fromUser: account, ...r });
    this.note('user-send', inst.device, `${r.clientMsgId} → ${r.to}`);
  }

  /** A client core's event: a trace line, and the checkers hear it unless the instance is dead or a ghost. */
  clientEvent(inst: AppInstance, e: ClientEvent): void {
    const d = inst.device;
    const tag = inst.tag;
    const watched = this.checking && inst.alive && !inst.ghost;
    switch (e.kind) {
      case 'applied':
        this.note('applied', d, `${tag} ${e.msg.MsgId}`);
        if (watched) this.checkers.applied(d, e.msg, this.q.now);
        return;
      case 'contact':
        if (watched) this.checkers.contact(d, e.contact);
        return;
      case 'syncKey':
        this.note('synckey', d, `${tag} ${keyText(e.key)}`);
        if (this.checking) this.checkers.heldKey(d, e.key);
        if (watched) this.checkers.syncKey(d, e.key);
        return;
      case 'sendAcked':
        this.note('acked', d, `${tag} ${e.clientMsgId} ${e.msgId}`);
        if (this.checking) this.checkers.sendAcked(this.registry.deviceByName(d).account, e.clientMsgId, e.msgId, d);
        return;
      case 'sendFailed':
        this.counters.sendFailed++;
        this.note('send-failed', d, `${tag} ${e.clientMsgId} ${e.ret}`);
        return;
      case 'resync':
        this.counters.resyncs++;
        this.note('resync', d, tag);
        if (watched) this.checkers.resync(d);
        return;
      case 'sessionLost':
        this.counters.sessionLost++;
        this.note('session-lost', d, `${tag} ${e.ret}`);
        return;
      case 'loggedIn':
      case 'groupCreated':
        this.note(e.kind, d, tag);
        return;
    }
  }
}

/** A SyncKey as trace lines write it: `k_v` pairs joined by `|`. */
function keyText(key: ReadonlyArray<readonly [number, number]>): string {
  let text = '';
  for (let i = 0; i < key.length; i++) {
    const pair = key[i]!;
    text += i === 0 ? `${pair[0]}_${pair[1]}` : `|${pair[0]}_${pair[1]}`;
  }
  return text;
}
