// Devices of different ages on one account (Scenario.lifetimes): the old
// ones run the whole time, the young ones come and go. A young device is
// present for a while, then its app is killed and it stays away for a while,
// often longer than the session lifetime, so that it comes back to an
// expired session (1100, a new login) or, after the retention sweep forgot
// it, as a new device of the same DeviceID; now and then it comes back as a
// new install, with nothing it persisted. Drawn from the 'lifetimes' stream.
import type { DeviceLifetimes } from '../scenarios/scenario.ts';
import type { Device } from './device.ts';
import type { Rng } from './rng.ts';
import type { World } from './world.ts';

export class LifetimeDriver {
  private running = false;

  constructor(
    private readonly world: World,
    private readonly rng: Rng,
    private readonly l: DeviceLifetimes,
  ) {}

  /** The young devices: every account's devices after its first `oldDevicesPerAccount`. */
  young(): Device[] {
    const out: Device[] = [];
    for (const devices of this.world.registry.accounts.values()) out.push(...devices.slice(this.l.oldDevicesPerAccount));
    return out;
  }

  start(): void {
    this.running = true;
    for (const d of this.young()) this.present(d);
  }

  stop(): void {
    this.running = false;
  }

  private present(d: Device): void {
    this.after(this.rng.between(this.l.presentMs[0], this.l.presentMs[1]), 'lifetime-leave', d, () => {
      if (d.current) this.world.apps.kill(d);
      this.away(d);
    });
  }

  private away(d: Device): void {
    const reinstall = this.rng.chance(this.l.reinstallProbability);
    this.after(this.rng.between(this.l.awayMs[0], this.l.awayMs[1]), 'lifetime-return', d, () => {
      if (d.current) return this.present(d);
      if (reinstall) {
        d.persisted = undefined;
        d.currentKey = undefined;
        d.previousKey = undefined;
        this.world.note('reinstall', d.name);
      }
      this.world.apps.start(d);
      this.present(d);
    });
  }

  private after(ms: number, kind: string, d: Device, f: () => void): void {
    this.world.q.schedule(this.world.now + ms, kind, d.name, () => {
      if (this.running) f();
    });
  }
}
