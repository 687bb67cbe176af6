// The simulated users: accounts and devices set up at the start, then sends,
// group sends, bursts and remarks at Poisson times, all drawn from the
// workload's own random stream; or, given an explicit plan (a RunSpec's
// accounts, groups and timed operations), exactly those and no draws.
import type { ClientTransport } from '../client/core/client-core.ts';
import type { Workload } from '../scenarios/scenario.ts';
import { PATHS } from '../server/node/http-api.ts';
import { Device } from './device.ts';
import { HostileDriver } from './hostile-workload.ts';
import type { Rng } from './rng.ts';
import type { RunSpecAccount, RunSpecGroup, UserOp } from './run-spec.ts';
import { SIM_EPOCH_MS } from './event-queue.ts';
import { contentText } from './content-text.ts';
import type { World } from './world.ts';

/** An explicit workload: who exists and what each user does when. */
export interface WorkloadPlan {
  accounts: readonly RunSpecAccount[];
  groups: readonly RunSpecGroup[];
  ops: readonly UserOp[];
}

export class WorkloadDriver {
  private running = false;
  readonly groups: Array<{ name: string; members: string[] }> = [];
  /** The scenario's hostile users, if it has any: they act beside the honest ones. */
  hostile: HostileDriver | undefined;
  /** Accounts the honest users never act as nor write to (the hostile ones). */
  private readonly shunned = new Set<string>();

  constructor(
    private readonly world: World,
    private readonly rng: Rng,
    private readonly w: Workload,
    /** Play this plan instead of drawing the users' actions. */
    private readonly plan?: WorkloadPlan,
  ) {}

  /** Register the accounts, create the groups, and place the devices (before any app starts). */
  setup(): void {
    if (this.plan) return this.setupPlan(this.plan);
    const names: string[] = [];
    for (let i = 0; i < this.w.accounts; i++) {
      const name = `u${i}`;
      names.push(name);
      this.register(name, i);
    }
    for (let g = 0; g < this.w.groups && names.length >= 2; g++) {
      const size = Math.min(this.w.groupSize, names.length);
      this.createGroup(g, this.rng.shuffled(names).slice(0, size));
    }
    const mix: Array<[ClientTransport, number]> = [
      ['http', this.w.transports.http],
      ['tcp', this.w.transports.tcp],
      ['ws', this.w.transports.ws],
    ];
    for (const name of names) {
      const n = this.rng.int(this.w.devicesPerAccount[0], this.w.devicesPerAccount[1]);
      for (let k = 0; k < n; k++) this.placeDevice(name, k, this.rng.weighted(mix));
    }
    if (this.w.hostile) this.setupHostile(this.w.hostile, names);
  }

  /**
   * After the honest setup, so that it draws and names what it did without
   * them. A hostile device is on HTTP: its script's long links then replace
   * no link of its app.
   */
  private setupHostile(h: NonNullable<Workload['hostile']>, honest: string[]): void {
    this.hostile = new HostileDriver(this.world, this.world.streams.get('hostile'), h, honest);
    this.hostile.setup(
      (name, i) => {
        this.shunned.add(name);
        this.register(name, this.w.accounts + i);
      },
      (account) => this.placeDevice(account, 0, 'http'),
    );
  }

  private register(name: string, i: number): void {
    const r = this.world.router.direct('POST', PATHS.register, { UserName: name, Password: `pw-${name}`, NickName: `User ${i}` });
    if (r.BaseResponse.Ret !== 0) throw new Error(`setup: register ${name}: ${r.BaseResponse.ErrMsg}`);
  }

  /** A group made by its first member on a setup device that then logs out. */
  private createGroup(g: number, members: string[]): void {
    const world = this.world;
    const owner = members[0]!;
    const login = world.router.direct('POST', PATHS.manualauth, { UserName: owner, Password: `pw-${owner}`, DeviceID: 'setup' });
    const base = { Uin: login.Uin, Sid: login.Sid, Skey: login.Skey, DeviceID: 'setup' };
    const r = world.router.direct('POST', PATHS.webwxcreatechatroom, {
      BaseRequest: base,
      MemberCount: members.length - 1,
      MemberList: members.slice(1).map((UserName) => ({ UserName })),
      Topic: `group ${g}`,
    });
    if (r.BaseResponse.Ret !== 0) throw new Error(`setup: create group: ${r.BaseResponse.ErrMsg}`);
    // The setup device leaves, so it holds back no retention.
    world.router.direct('POST', PATHS.webwxlogout, { BaseRequest: base });
    this.groups.push({ name: r.ChatRoomName, members });
  }

  private placeDevice(account: string, k: number, transport: ClientTransport): Device {
    const world = this.world;
    const deviceId = transport === 'http' ? `e${String(100_000_000_000_000 + world.registry.devices.length)}` : `${account}-d${k}`;
    const d = new Device(`${account}.d${k}`, account, `pw-${account}`, deviceId, transport);
    world.registry.addDevice(d);
    return d;
  }

  private setupPlan(plan: WorkloadPlan): void {
    plan.accounts.forEach((a, i) => this.register(a.name, i));
    plan.groups.forEach((g, i) => this.createGroup(i, [...g.members]));
    for (const a of plan.accounts) a.devices.forEach((d, k) => this.placeDevice(a.name, k, d.transport));
  }

  /** Start every app (staggered) and the users' actions. */
  start(): void {
    this.running = true;
    if (this.plan) return this.startPlan(this.plan);
    for (const d of this.world.devices) {
      this.world.q.schedule(this.world.now + this.rng.between(0, 500), 'app-launch', d.name, () => {
        if (!d.current) this.world.apps.start(d);
      });
    }
    if (this.w.sendsPerSecond > 0) this.scheduleNext();
    if (this.w.burst.everyMs > 0 && this.w.burst.size > 0) this.scheduleBurst();
    this.hostile?.start();
  }

  stop(): void {
    this.running = false;
    this.hostile?.stop();
  }

  private startPlan(plan: WorkloadPlan): void {
    const world = this.world;
    const at = (ms: number): number => Math.max(world.now, SIM_EPOCH_MS + ms);
    for (const a of plan.accounts) {
      a.devices.forEach((spec, k) => {
        const d = world.registry.deviceByName(`${a.name}.d${k}`);
        world.q.schedule(at(spec.startAt), 'app-launch', d.name, () => {
          if (!d.current) world.apps.start(d);
        });
      });
    }
    for (const op of plan.ops) {
      world.q.schedule(at(op.at), op.kind === 'burst' ? 'burst' : 'user-action', 'workload', () => {
        if (this.running) this.play(op);
      });
    }
  }

  /** One planned action, by a device whose app must be running. */
  private play(op: UserOp): void {
    const world = this.world;
    const inst = world.registry.deviceByName(op.from).current;
    if (!inst) {
      world.note('user-skip', op.from, `${op.kind}: app not running`);
      return;
    }
    switch (op.kind) {
      case 'send':
        return world.apps.userSend(inst, op.to, op.content);
      case 'group-send':
        return world.apps.userSend(inst, this.groups[op.group]!.name, op.content);
      case 'remark':
        return world.apps.userRemark(inst, op.to, op.remark);
      case 'burst':
        for (let i = 0; i < op.size; i++) world.apps.userSend(inst, op.to, `${op.content}#${i}`);
        return;
    }
  }

  private scheduleNext(): void {
    const gap = this.rng.exp(1000 / this.w.sendsPerSecond);
    this.world.q.schedule(this.world.now + gap, 'user-action', 'workload', () => {
      if (!this.running) return;
      if (!this.silent()) this.act();
      this.scheduleNext();
    });
  }

  private scheduleBurst(): void {
    this.world.q.schedule(this.world.now + this.w.burst.everyMs, 'burst', 'workload', () => {
      if (!this.running) return;
      const inst = this.silent() ? undefined : this.pickRunning();
      if (inst) {
        const from = this.world.registry.deviceByName(inst.device).account;
        const to = this.pickPeer(from);
        for (let i = 0; i < this.w.burst.size; i++) this.world.apps.userSend(inst, to, this.content());
      }
      this.scheduleBurst();
    });
  }

  /** Inside one of the workload's silences. */
  private silent(): boolean {
    const q = this.w.silence;
    return q !== undefined && q.everyMs > 0 && this.world.elapsed % q.everyMs >= q.everyMs - q.durationMs;
  }

  private act(): void {
    const inst = this.pickRunning();
    if (!inst) return;
    const me = this.world.registry.deviceByName(inst.device).account;
    if (this.rng.chance(this.w.remarkFraction)) {
      this.world.apps.userRemark(inst, this.pickPeer(me), `friend ${this.rng.int(0, 999)}`);
      return;
    }
    const myGroups = this.groups.filter((g) => g.members.includes(me));
    const to = myGroups.length > 0 && this.rng.chance(this.w.groupSendFraction) ? this.rng.pick(myGroups).name : this.pickPeer(me);
    this.world.apps.userSend(inst, to, this.content());
  }

  private pickRunning() {
    const running = this.world.devices.filter((d) => d.current && !this.shunned.has(d.account));
    if (running.length === 0) return undefined;
    return this.rng.pick(running).current!;
  }

  private pickPeer(me: string): string {
    const others = [...this.world.registry.accounts.keys()].filter((a) => a !== me && !this.shunned.has(a));
    return others.length > 0 ? this.rng.pick(others) : me;
  }

  /** Drawn text: per character, whether it is a wide one, then which (see contentText). */
  private content(): string {
    return contentText(this.rng, this.rng.int(this.w.contentBytes[0], this.w.contentBytes[1]));
  }
}
