// After healing, the runner waits until every device has converged, as the
// simulator's liveness phase does (sim/convergence.ts). The simulator reads
// the server's store for the log's head; a running real server holds its
// database exclusively, so the probe judges from what the history shows:
// every app runs, logged in, nothing unanswered; every acknowledged message
// addressed to an account is on each of its devices (unless one was told to
// resync); the devices of an account stand at the same key; and nothing has
// been applied for a moment. The store's own log is compared at the end,
// once the server has stopped (the judge's final check).
import type { ChaosApps } from './chaos-apps.ts';
import type { History, HistoryRecord } from './history.ts';

/** No device applied anything or moved its key for this long: the sync traffic has settled. */
const QUIET_MS = 1_000;

export class ConvergenceProbe {
  private readonly groups = new Map<string, string[]>();
  private readonly accountOf = new Map<string, string>();
  /** (sender account, ClientMsgId) → where it went. */
  private readonly sends = new Map<string, { to: string; from: string }>();
  /** Account → the MsgIds acknowledged to a sender that it must hold. */
  private readonly owed = new Map<string, Set<number>>();
  private readonly resynced = new Set<string>();
  private lastMoveAt = 0;

  constructor(
    private readonly history: History,
    private readonly apps: ChaosApps,
  ) {
    history.listen((r) => this.see(r));
  }

  /** The first device that has not converged, with why; undefined when all have. */
  laggard(serverUp: boolean): string | undefined {
    if (!serverUp) return 'server: down';
    const byAccount = new Map<string, string[]>();
    for (const d of this.apps.devices.values()) byAccount.set(d.account, [...(byAccount.get(d.account) ?? []), d.name]);
    for (const [account, names] of byAccount) {
      const keys: Array<Map<number, number>> = [];
      for (const name of names) {
        const d = this.apps.device(name);
        const core = d.current?.client.core;
        if (!core) return `${name}: app not running`;
        if (core.state !== 'ready') return `${name}: client ${core.state}`;
        // A failed send is the user's to resend (the runner does, after healing); one not yet resent is pending too.
        const pending = core.outbox().filter((e) => e.state !== 'failed').length;
        const failed = d.current!.failed.size;
        if (pending > 0 || failed > 0) return `${name}: ${pending} sends unanswered, ${failed} failed`;
        if (!this.resynced.has(name)) {
          const have = new Set(core.inbox().map((m) => m.MsgId));
          for (const id of this.owed.get(account) ?? []) if (!have.has(id)) return `${name}: missing MsgId ${id}, acknowledged to its sender`;
        }
        keys.push(new Map(core.syncKey()));
      }
      // At the head every device of the account holds the same key; a key of 0 is a category it never needed (nothing retained).
      const head = new Map<number, number>();
      for (const k of keys) for (const [cat, v] of k) head.set(cat, Math.max(head.get(cat) ?? 0, v));
      for (let i = 0; i < keys.length; i++) {
        for (const [cat, at] of head) {
          const v = keys[i]!.get(cat) ?? 0;
          if (v !== at && v !== 0) return `${names[i]}: key ${cat}_${v} behind ${cat}_${at} of another device of ${account}`;
        }
      }
    }
    const quietFor = this.history.now() - this.lastMoveAt;
    if (quietFor < QUIET_MS) return `devices: still syncing (last change ${Math.round(quietFor)} ms ago)`;
    return undefined;
  }

  private see(r: HistoryRecord): void {
    switch (r.k) {
      case 'device':
        this.accountOf.set(r.device, r.account);
        return;
      case 'group':
        this.groups.set(r.name, r.members);
        return;
      case 'user-send': {
        const from = this.accountOf.get(r.device)!;
        this.sends.set(`${from}\u0000${r.clientMsgId}`, { to: r.to, from });
        return;
      }
      case 'acked': {
        const s = this.sends.get(`${this.accountOf.get(r.device)!}\u0000${r.clientMsgId}`);
        if (!s) return;
        const to = s.to.startsWith('@@') ? (this.groups.get(s.to) ?? []) : [s.from, s.to];
        for (const a of to) {
          let owed = this.owed.get(a);
          if (!owed) this.owed.set(a, (owed = new Set()));
          owed.add(r.msgId);
        }
        return;
      }
      case 'resync':
        this.resynced.add(r.device);
        this.lastMoveAt = r.t;
        return;
      case 'applied':
      case 'synckey':
      case 'app-start':
        this.lastMoveAt = r.t;
        return;
      default:
        return;
    }
  }
}
