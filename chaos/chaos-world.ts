// The live pieces of a chaos run and what the plan does to them: the server
// child (crashed with SIGKILL and restarted on the same file, one operation
// at a time), a fault proxy per device, the apps, and the timeline that
// plays the users' actions and the fault schedule in real time. The runner
// (runner.ts) drives its phases; close() leaves no process, socket or timer.
import type { ClientConfig } from '../client/core/client-config.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import type { FaultSpec, UserOp } from '../sim/run-spec.ts';
import { ChaosApps, type ChaosDevice } from './chaos-apps.ts';
import { DeviceDice } from './fault-dice.ts';
import { FaultProxy } from './fault-proxy.ts';
import type { History } from './history.ts';
import { bugsOf, CLIENT_BUGS, type ChaosPlan } from './plan.ts';
import { ServerSupervisor } from './server-supervisor.ts';
import { passwordOf, setUp } from './setup.ts';
import { Timeline } from './timeline.ts';

/** A synccheck hold and a heartbeat short enough for a run of seconds (a scenario may set its own). */
const DEFAULT_HOLD_MS = 4_000;
const DEFAULT_HEARTBEAT_SEC = 5;
/** A tiny scrypt cost: the run tests the protocol, not the hash. */
const SCRYPT_N = 16;

/** The reference client's timeouts and backoffs, scaled to a run of seconds around a hold of `holdMs`. */
export function chaosClientConfig(holdMs: number): Partial<ClientConfig> {
  return {
    httpTimeoutMs: holdMs + 5_000,
    replyTimeoutMs: 5_000,
    retryBaseMs: 100,
    retryMaxMs: 2_000,
    reconnectBaseMs: 100,
    reconnectMaxMs: 2_000,
    safetySyncMs: 10_000,
  };
}

export class ChaosWorld {
  readonly server: ServerSupervisor;
  readonly apps: ChaosApps;
  readonly proxies = new Map<string, FaultProxy>();
  readonly timeline: Timeline;
  /** The first error of a callback (a timer, a restart): the run stops with it. */
  failure: unknown;
  /** The run is healing: the proxies draw no more losses, duplicates, tails or stalls. */
  calm = false;
  private finishing = false;
  private restarting = false;
  private serverOps: Promise<void> = Promise.resolve();
  private groupNames: string[] = [];

  constructor(
    private readonly scenario: Scenario,
    private readonly plan: ChaosPlan,
    private readonly history: History,
    db: string,
  ) {
    const node = { holdMs: DEFAULT_HOLD_MS, heartbeatSec: DEFAULT_HEARTBEAT_SEC, ...scenario.node };
    const serverBugs = bugsOf(plan).filter((b) => !CLIENT_BUGS.has(b));
    const clientBugs = bugsOf(plan).filter((b) => CLIENT_BUGS.has(b));
    this.timeline = new Timeline((e) => this.fail(e));
    this.server = new ServerSupervisor(
      {
        db,
        synchronous: scenario.storage && scenario.storage.powerLossCommits > 0 ? 'NORMAL' : 'FULL',
        scryptN: SCRYPT_N,
        ...(scenario.core ? { core: scenario.core } : {}),
        node,
        ...(serverBugs.length > 0 ? { bugs: serverBugs } : {}),
      },
      (e) => {
        history.add({ k: 'server-exit', ...e });
        // The judge fails the run; the run goes on so that the history shows what followed.
        void this.serially(() => this.restart());
      },
    );
    this.apps = new ChaosApps({
      history,
      seed: plan.spec.seed,
      config: chaosClientConfig(node.holdMs),
      ...(clientBugs.length > 0 ? { bugs: new Set(clientBugs) } : {}),
      addressOf: (name) => {
        const p = this.proxies.get(name)!;
        return { server: `http://127.0.0.1:${p.httpPort}`, tcp: `127.0.0.1:${p.tcpPort}` };
      },
    });
  }

  /** Throws the first error a callback met, if any. */
  check(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /** The server up, the accounts and groups made, a proxy per device: nothing runs yet. */
  async setUp(): Promise<void> {
    await this.serially(() => this.restart());
    this.check();
    const ready = this.server.ports!;
    this.groupNames = await setUp(`http://127.0.0.1:${ready.httpPort}`, this.plan.spec);
    this.plan.spec.groups.forEach((g, i) => this.history.add({ k: 'group', name: this.groupNames[i]!, members: [...g.members] }));
    let index = 0;
    for (const a of this.plan.spec.accounts) {
      for (const [k, spec] of a.devices.entries()) {
        const name = `${a.name}.d${k}`;
        // As the simulator names them: a web client's DeviceID is 'e' and 15 digits.
        const deviceId = spec.transport === 'http' ? `e${100_000_000_000_000 + index}` : `${a.name}-d${k}`;
        index++;
        const proxy = await FaultProxy.start({
          dice: new DeviceDice(this.plan.spec.seed, name, () => this.calm),
          rates: this.plan.proxy,
          upstream: () => {
            const p = this.server.ports;
            return p ? { host: '127.0.0.1', httpPort: p.httpPort, tcpPort: p.tcpPort } : undefined;
          },
          note: (what, detail) => this.history.add({ k: 'fault', who: name, what, ...(detail !== undefined ? { detail } : {}) }),
        });
        this.proxies.set(name, proxy);
        this.apps.add({ name, account: a.name, password: passwordOf(a.name), deviceId, transport: spec.transport });
      }
    }
  }

  /** The fault phase begins: every launch, action and fault of the plan is put on the timeline. */
  play(): void {
    const t = this.timeline;
    t.begin();
    this.history.add({ k: 'begin' });
    for (const a of this.plan.spec.accounts) {
      a.devices.forEach((spec, k) => {
        const d = this.apps.device(`${a.name}.d${k}`);
        t.at(spec.startAt, () => {
          if (!d.current) this.apps.start(d);
        });
      });
    }
    for (const op of this.plan.spec.ops) t.at(op.at, () => this.act(op));
    this.plan.spec.faults.forEach((f, i) => t.at(f.at, () => this.strike(f, i)));
  }

  /** Everything heals: the proxies calm and open, the server up, every app running, failed sends resent. */
  async heal(): Promise<void> {
    this.timeline.stop();
    this.calm = true;
    for (const p of this.proxies.values()) p.heal();
    await this.serially(() => this.restart());
    this.check();
    this.apps.healed = true;
    for (const d of this.apps.devices.values()) {
      if (!d.current) this.apps.start(d);
      else this.apps.resendFailed(d);
    }
    this.history.add({ k: 'heal' });
  }

  /** The end: apps, proxies, then the server (drained, its store closed). */
  async close(): Promise<void> {
    this.finishing = true;
    this.timeline.stop();
    this.apps.closeAll();
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
    await this.serverOps;
    await this.server.stop();
  }

  private act(op: UserOp): void {
    const d = this.apps.device(op.from);
    if (!d.current) return void this.history.add({ k: 'user-skip', device: d.name, op: op.kind });
    if (op.kind === 'send') this.apps.send(d, op.to, op.content);
    else if (op.kind === 'group-send') this.apps.send(d, this.groupNames[op.group]!, op.content);
    else if (op.kind === 'remark') this.apps.remark(d, op.to, op.remark);
    else for (let i = 0; i < op.size; i++) this.apps.send(d, op.to, `${op.content}#${i}`);
  }

  private strike(f: FaultSpec, i: number): void | Promise<void> {
    if (f.kind === 'crash') {
      // A server that is down (or still starting) cannot crash: skipped, as the simulator skips it.
      if (!this.server.up || this.restarting) return this.skip('server', 'crash: already down');
      return this.serially(async () => {
        const pid = await this.server.crash();
        this.history.add({ k: 'server-crash', pid: pid ?? 0 });
        this.timeline.after(f.downMs, () => this.serially(() => this.restart()));
      });
    }
    const d: ChaosDevice = this.apps.device(f.device);
    const proxy = this.proxies.get(f.device)!;
    switch (f.kind) {
      case 'kill':
        if (!this.apps.kill(d, f.torn)) return this.skip(d.name, 'kill: app not running');
        return this.timeline.after(f.downMs, () => {
          if (!d.current) this.apps.start(d, this.plan.reinstalls.includes(i));
        });
      case 'partition':
        proxy.partition(f.dir);
        this.history.add({ k: 'fault', who: d.name, what: 'partition', detail: f.dir });
        return this.timeline.after(f.durationMs, () => {
          proxy.heal();
          this.history.add({ k: 'fault', who: d.name, what: 'partition-heal' });
        });
      case 'replace':
        if (!this.apps.replace(d)) this.skip(d.name, 'replace: app not logged in');
        return;
      case 'reset':
        this.history.add({ k: 'fault', who: d.name, what: 'link-reset', detail: `${proxy.resetLinks()} link(s)` });
        return;
    }
  }

  private skip(who: string, detail: string): void {
    this.history.add({ k: 'fault', who, what: 'skip', detail });
  }

  private async restart(): Promise<void> {
    if (this.server.up || this.finishing) return;
    this.restarting = true;
    try {
      const r = await this.server.start();
      this.history.add({ k: 'server-start', pid: r.pid, httpPort: r.httpPort, tcpPort: r.tcpPort });
    } finally {
      this.restarting = false;
    }
  }

  /** Crashes and restarts one at a time, in the order they come. */
  private serially(f: () => Promise<void>): Promise<void> {
    return (this.serverOps = this.serverOps.then(f).catch((e: unknown) => this.fail(e)));
  }

  private fail(e: unknown): void {
    this.failure ??= e;
  }
}
