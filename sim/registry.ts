// Who exists in the world: the accounts, their devices, and every app
// instance ever started (a dead one stays findable: messages still in
// flight name it, and are dropped when they reach it).
import type { AppInstance } from './app-instance.ts';
import type { Device } from './device.ts';

export class Registry {
  readonly devices: Device[] = [];
  /** Account name → its devices, in the order they were placed. */
  readonly accounts = new Map<string, Device[]>();
  private readonly byName = new Map<string, Device>();
  private readonly instances = new Map<number, AppInstance>();
  private nextInstance = 1;

  addDevice(d: Device): void {
    this.devices.push(d);
    let list = this.accounts.get(d.account);
    if (!list) this.accounts.set(d.account, (list = []));
    list.push(d);
    if (!this.byName.has(d.name)) this.byName.set(d.name, d);
  }

  deviceByName(name: string): Device {
    const d = this.byName.get(name);
    if (!d) throw new Error(`no device ${name}`);
    return d;
  }

  /** The number the next app instance gets. */
  newInstanceId(): number {
    return this.nextInstance++;
  }

  addInstance(inst: AppInstance): void {
    this.instances.set(inst.id, inst);
  }

  instance(id: number): AppInstance {
    const inst = this.instances.get(id);
    if (!inst) throw new Error(`no app instance #${id}`);
    return inst;
  }
}
