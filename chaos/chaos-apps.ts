// The client apps of a chaos run: on each device the reference client
// (client/core driven by client/net/net-client.ts on real sockets), pointed
// at the device's fault proxy. An app is killed (its sockets dropped at once,
// what it had persisted kept, perhaps with its last key write torn), started
// again from what it persisted, or replaced by a new login of the same device
// while the old instance runs on as a ghost until it hears 1101 — the
// simulator's app life (sim/apps.ts) on real sockets. Every event of every
// instance goes into the history.
import type { ClientConfig } from '../client/core/client-config.ts';
import type { ClientEvent, ClientTransport } from '../client/core/client-core.ts';
import { forgetSession, type PersistedState } from '../client/core/client-state.ts';
import { NetClient } from '../client/net/net-client.ts';
import { Rng } from '../sim/rng.ts';
import type { History } from './history.ts';

export interface AppRun {
  inst: number;
  client: NetClient;
  /** LocalIDs that failed on this instance, waiting for the user to resend them. */
  failed: Set<string>;
  ghost: boolean;
}

export interface ChaosDevice {
  name: string;
  account: string;
  password: string;
  deviceId: string;
  transport: ClientTransport;
  /** What the app persisted when it was last killed (undefined: a new install). */
  persisted: PersistedState | undefined;
  current: AppRun | undefined;
  ghosts: AppRun[];
  /** The current instance's last two keys: a torn write keeps the older one. */
  currentKey: Array<[number, number]> | undefined;
  previousKey: Array<[number, number]> | undefined;
}

export interface ChaosAppsOptions {
  history: History;
  seed: string;
  config: Partial<ClientConfig>;
  /** Planted client bugs ('client-no-dedup') every app runs with. */
  bugs?: ReadonlySet<string>;
  /** Where a device's app connects: its proxy's HTTP base URL and TCP address. */
  addressOf: (device: string) => { server: string; tcp: string };
}

/** How long a user waits before resending what failed, once the run heals. */
const USER_RESEND_DELAY_MS = 500;

export class ChaosApps {
  readonly devices = new Map<string, ChaosDevice>();
  /** True once the run heals: from then on the user resends every failed message. */
  healed = false;
  private instances = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly o: ChaosAppsOptions) {}

  add(d: Omit<ChaosDevice, 'persisted' | 'current' | 'ghosts' | 'currentKey' | 'previousKey'>): ChaosDevice {
    const device: ChaosDevice = { ...d, persisted: undefined, current: undefined, ghosts: [], currentKey: undefined, previousKey: undefined };
    this.devices.set(d.name, device);
    this.o.history.add({ k: 'device', device: d.name, account: d.account, transport: d.transport, deviceId: d.deviceId });
    return device;
  }

  device(name: string): ChaosDevice {
    const d = this.devices.get(name);
    if (!d) throw new Error(`chaos: no device ${name}`);
    return d;
  }

  start(d: ChaosDevice, reinstall = false): AppRun {
    if (reinstall) {
      d.persisted = undefined;
      d.currentKey = undefined;
      d.previousKey = undefined;
    }
    const inst = ++this.instances;
    const addr = this.o.addressOf(d.name);
    const random = new Rng(`client:${d.name}#${inst}`, this.o.seed);
    let run: AppRun | undefined;
    const client = new NetClient({
      userName: d.account,
      password: d.password,
      deviceId: d.deviceId,
      transport: d.transport,
      server: addr.server,
      tcp: addr.tcp,
      config: this.o.config,
      random: () => random.next(),
      onEvent: (e) => this.event(d, run!, e),
      ...(d.persisted ? { persisted: d.persisted } : {}),
      ...(this.o.bugs ? { bugs: this.o.bugs } : {}),
    });
    // What failed before the kill is still failed in the outbox, for the user to resend.
    const failed = new Set(client.core.outbox().flatMap((e) => (e.state === 'failed' ? [e.localId] : [])));
    run = { inst, client, failed, ghost: false };
    d.current = run;
    const core = client.core;
    this.o.history.add({ k: 'app-start', device: d.name, inst, inbox: structuredClone([...core.inbox()]), key: core.syncKey(), ...(reinstall ? { reinstall } : {}) });
    client.start();
    return run;
  }

  /** The app is killed: what it persisted stays, perhaps with its last key write torn; its sockets drop. */
  kill(d: ChaosDevice, torn: boolean): boolean {
    const run = d.current;
    if (!run) return false;
    d.persisted = run.client.core.persisted();
    const tore = torn && d.previousKey !== undefined;
    if (tore) d.persisted = { ...d.persisted, syncKey: d.previousKey!.map(([k, v]) => [k, v]) };
    d.current = undefined;
    run.client.close();
    this.o.history.add({ k: 'app-kill', device: d.name, inst: run.inst, torn: tore });
    return true;
  }

  /** A new login of the same device takes over; the old instance runs on as a ghost. Only a logged-in app is replaced. */
  replace(d: ChaosDevice): boolean {
    const old = d.current;
    if (!old || old.client.core.state !== 'ready') return false;
    d.persisted = forgetSession(old.client.core.persisted());
    old.ghost = true;
    d.ghosts.push(old);
    this.o.history.add({ k: 'session-replace', device: d.name, ghost: old.inst });
    this.start(d);
    return true;
  }

  send(d: ChaosDevice, to: string, content: string): void {
    const run = d.current!;
    const localId = run.client.send(to, content);
    const entry = run.client.core.outbox().find((e) => e.localId === localId);
    if (!entry) throw new Error(`chaos: ${d.name}'s client lost the message it was just given (${localId})`);
    this.o.history.add({ k: 'user-send', device: d.name, inst: run.inst, to, content, clientMsgId: entry.clientMsgId, localId });
  }

  remark(d: ChaosDevice, to: string, remark: string): void {
    const run = d.current!;
    run.client.setRemark(to, remark);
    this.o.history.add({ k: 'user-remark', device: d.name, inst: run.inst, to });
  }

  /** The user resends every message that failed on the current instance. */
  resendFailed(d: ChaosDevice): void {
    const run = d.current;
    if (!run || run.client.closed) return;
    for (const localId of [...run.failed]) {
      run.failed.delete(localId);
      this.o.history.add({ k: 'user-resend', device: d.name, inst: run.inst, localId });
      run.client.resend(localId);
    }
  }

  /** Every app and ghost stops (the end of the run). */
  closeAll(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const d of this.devices.values()) {
      for (const r of [d.current, ...d.ghosts]) r?.client.close();
    }
  }

  private event(d: ChaosDevice, run: AppRun, e: ClientEvent): void {
    const h = this.o.history;
    const base = { device: d.name, inst: run.inst };
    switch (e.kind) {
      case 'applied':
        h.add({ k: 'applied', ...base, msg: e.msg });
        return;
      case 'contact':
        h.add({ k: 'contact', ...base, contact: e.contact });
        return;
      case 'syncKey':
        h.add({ k: 'synckey', ...base, key: e.key });
        if (d.current === run) {
          d.previousKey = d.currentKey;
          d.currentKey = e.key.map(([k, v]) => [k, v]);
        }
        return;
      case 'sendAcked':
        run.failed.delete(e.localId);
        h.add({ k: 'acked', ...base, clientMsgId: e.clientMsgId, localId: e.localId, msgId: e.msgId });
        return;
      case 'sendFailed':
        run.failed.add(e.localId);
        h.add({ k: 'send-failed', ...base, clientMsgId: e.clientMsgId, localId: e.localId, ret: e.ret, errMsg: e.errMsg });
        if (this.healed) this.later(USER_RESEND_DELAY_MS, () => this.resendFailed(d));
        return;
      case 'resync':
        h.add({ k: 'resync', ...base });
        return;
      case 'sessionLost':
        h.add({ k: 'session-lost', ...base, ret: e.ret });
        if (run.ghost) {
          d.ghosts = d.ghosts.filter((g) => g !== run);
          // Closed after this event's call returns: the client is still inside its own output.
          this.later(0, () => run.client.close());
          h.add({ k: 'ghost-stop', ...base });
        }
        return;
      case 'loggedIn':
        h.add({ k: 'logged-in', ...base });
        return;
      case 'groupCreated':
        return;
    }
  }

  private later(ms: number, f: () => void): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) f();
    }, ms);
    this.timers.add(t);
  }
}
