// Draws the safety phase's faults from the fault stream: server crashes,
// app kills, partitions, session replacements and link resets, each a
// Poisson process with the scenario's mean interval; or, given an explicit
// list (a RunSpec's faults), plays exactly those and draws nothing.
// A scenario's storage faults and device lifetimes come with the drawn
// faults, each from a stream of its own ('store-faults', 'lifetimes'), so
// they shift no draw of the others; a list plays neither.
import type { FaultProfile, StorageFaults } from '../scenarios/scenario.ts';
import type { Write } from '../server/store/store-ops.ts';
import { LifetimeDriver } from './device-lifetimes.ts';
import { StorageFaultDice } from './faulty-store.ts';
import type { Rng } from './rng.ts';
import type { FaultSpec } from './run-spec.ts';
import { SIM_EPOCH_MS } from './event-queue.ts';
import type { World } from './world.ts';

export class FaultScheduler {
  private running = false;
  private storage: StorageFaultDice | undefined;
  private lifetimes: LifetimeDriver | undefined;

  constructor(
    private readonly world: World,
    private readonly rng: Rng,
    private readonly f: FaultProfile,
    /** Play these faults instead of drawing them. */
    private readonly list?: readonly FaultSpec[],
  ) {}

  start(): void {
    this.running = true;
    const scenario = this.world.o.scenario;
    // Not a fault, but the scenario's word on its limits: the checkers hear it before anything runs.
    if (scenario.resyncAllowed !== undefined) this.world.checkers.setResyncAllowed(scenario.resyncAllowed);
    if (this.list) return this.startList(this.list);
    const f = this.f;
    const storage = scenario.storage;
    if (storage) this.startStorage(storage);
    if (scenario.lifetimes) {
      this.lifetimes = new LifetimeDriver(this.world, this.world.streams.get('lifetimes'), scenario.lifetimes);
      this.lifetimes.start();
    }
    this.every(f.serverCrashMeanIntervalMs, 'fault-crash', () => {
      if (!this.world.server.up) return;
      this.world.crashServer();
      if (storage && storage.powerLossCommits > 0) this.powerCut(storage.powerLossCommits);
      this.after(this.rng.exp(f.serverDowntimeMeanMs), 'fault-restart', () => this.world.restartServer());
    });
    this.every(f.appKillMeanIntervalMs, 'fault-kill', () => {
      const running = this.world.devices.filter((d) => d.current);
      if (running.length === 0) return;
      const d = this.rng.pick(running);
      this.world.apps.kill(d, this.rng.chance(f.appKillTornWriteProbability));
      this.after(this.rng.exp(f.appDowntimeMeanMs), 'fault-relaunch', () => {
        if (!d.current) this.world.apps.start(d);
      });
    });
    this.every(f.partitionMeanIntervalMs, 'fault-partition', () => {
      const d = this.rng.pick(this.world.devices);
      const oneWay = this.rng.chance(f.partitionOneWayProbability);
      const up = !oneWay || this.rng.chance(0.5);
      this.world.partition(d, up, !oneWay || !up);
      this.after(this.rng.exp(f.partitionMeanDurationMs), 'fault-heal', () => this.world.heal(d));
    });
    this.every(f.sessionReplaceMeanIntervalMs, 'fault-replace', () => {
      // Only a logged-in instance can be replaced: one still logging in would log in after its replacer.
      const running = this.world.devices.filter((d) => d.current?.core.state === 'ready');
      if (running.length > 0) this.world.apps.replaceSession(this.rng.pick(running));
    });
    if (f.linkResetPerSecond > 0) {
      this.every(1000 / f.linkResetPerSecond, 'fault-reset', () => this.world.resetRandomLink((n) => this.rng.int(0, n - 1)));
    }
  }

  private startList(list: readonly FaultSpec[]): void {
    const world = this.world;
    for (const f of list) {
      world.q.schedule(Math.max(world.now, SIM_EPOCH_MS + f.at), `fault-${f.kind}`, 'faults', () => {
        if (this.running) this.play(f);
      });
    }
  }

  /** One planned fault; one that finds nothing to break is skipped (and noted). */
  private play(f: FaultSpec): void {
    const world = this.world;
    const skip = (who: string, why: string): void => world.note('fault-skip', who, `${f.kind}: ${why}`);
    switch (f.kind) {
      case 'crash':
        if (!world.server.up) return skip('server', 'already down');
        world.crashServer();
        return this.after(f.downMs, 'fault-restart', () => world.restartServer());
      case 'kill': {
        const d = world.registry.deviceByName(f.device);
        if (!d.current) return skip(d.name, 'app not running');
        world.apps.kill(d, f.torn);
        return this.after(f.downMs, 'fault-relaunch', () => {
          if (!d.current) world.apps.start(d);
        });
      }
      case 'partition': {
        const d = world.registry.deviceByName(f.device);
        world.partition(d, f.dir !== 'down', f.dir !== 'up');
        return this.after(f.durationMs, 'fault-heal', () => world.heal(d));
      }
      case 'replace': {
        const d = world.registry.deviceByName(f.device);
        // Only a logged-in instance can be replaced: one still logging in would log in after its replacer.
        if (d.current?.core.state !== 'ready') return skip(d.name, 'app not logged in');
        return world.apps.replaceSession(d);
      }
      case 'reset':
        return world.resetLinksOf(world.registry.deviceByName(f.device));
    }
  }

  stop(): void {
    this.running = false;
    if (this.storage) this.storage.on = false;
    this.lifetimes?.stop();
  }

  /** The store fails as the scenario says from now on; under NORMAL a crash may be a power cut. */
  private startStorage(f: StorageFaults): void {
    const world = this.world;
    const dice = new StorageFaultDice(f, world.streams.get('store-faults'), (detail) => world.note('store-fault', 'server', detail));
    dice.on = true;
    world.server.storageFaults = this.storage = dice;
    if (f.powerLossCommits > 0 && !world.server.keepUnsynced(f.powerLossCommits)) world.note('store-fault', 'server', 'this store cannot lose power: it stays FULL');
  }

  /**
   * The crash just now was a power cut: up to `most` of the last commits are
   * gone though they were answered. The checkers hear which MsgIds went.
   */
  private powerCut(most: number): void {
    const world = this.world;
    const lost = world.server.powerLoss(this.storage!.powerCutCommits(most));
    if (lost.length === 0) return;
    const ids = lostMsgIds(lost);
    world.note('power-loss', 'server', `${lost.length} commit(s) lost${ids.length ? `, MsgIds ${ids.join(' ')}` : ''}`);
    world.checkers.lost(ids);
  }

  private every(meanMs: number, kind: string, f: () => void): void {
    if (!(meanMs > 0)) return;
    const next = (): void => {
      this.world.q.schedule(this.world.now + this.rng.exp(meanMs), kind, 'faults', () => {
        if (!this.running) return;
        f();
        next();
      });
    };
    next();
  }

  /** A repair is scheduled even if the phase ends first; healEverything makes it a no-op. */
  private after(ms: number, kind: string, f: () => void): void {
    this.world.q.schedule(this.world.now + ms, kind, 'faults', f);
  }
}

/** The MsgIds of the messages that lost commits appended. */
function lostMsgIds(commits: readonly Write[][]): number[] {
  const ids = new Set<number>();
  for (const writes of commits) {
    for (const w of writes) if (w.kind === 'appendItem' && w.item.category === 1) ids.add(w.item.data.MsgId);
  }
  return [...ids].sort((a, b) => a - b);
}
