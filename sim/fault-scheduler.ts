// Draws the safety phase's faults from the fault stream: server crashes,
// app kills, partitions, session replacements and link resets, each a
// Poisson process with the scenario's mean interval; or, given an explicit
// list (a RunSpec's faults), plays exactly those and draws nothing.
import type { FaultProfile } from '../scenarios/scenario.ts';
import type { Rng } from './rng.ts';
import type { FaultSpec } from './run-spec.ts';
import { SIM_EPOCH_MS } from './event-queue.ts';
import type { World } from './world.ts';

export class FaultScheduler {
  private running = false;

  constructor(
    private readonly world: World,
    private readonly rng: Rng,
    private readonly f: FaultProfile,
    /** Play these faults instead of drawing them. */
    private readonly list?: readonly FaultSpec[],
  ) {}

  start(): void {
    this.running = true;
    if (this.list) return this.startList(this.list);
    const f = this.f;
    this.every(f.serverCrashMeanIntervalMs, 'fault-crash', () => {
      if (!this.world.server.up) return;
      this.world.crashServer();
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
