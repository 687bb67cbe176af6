// A simulated device: one installation (a DeviceID) of one account, with the
// app's persisted state kept across kills and restarts, and the options its
// app is built with.
import type { ClientTransport } from '../client/core/client-core.ts';
import type { ClientConfig } from '../client/core/client-config.ts';
import type { PersistedState } from '../client/core/client-state.ts';
import type { AppInstance } from './app-instance.ts';

/** How the device's app is built; unset fields take the world's defaults. */
export interface AppOptions {
  config?: Partial<ClientConfig>;
  /** The core's random source; default: the device's own seeded stream. */
  random?: () => number;
  /** The client's planted bugs; default: the world's. */
  bugs?: ReadonlySet<string>;
}

export class Device {
  current: AppInstance | undefined;
  persisted: PersistedState | undefined;
  readonly ghosts: AppInstance[] = [];
  /** The current instance's last two keys: a torn write keeps the older one. */
  currentKey: Array<[number, number]> | undefined;
  previousKey: Array<[number, number]> | undefined;
  /** Off the network: its requests are refused and its links fail at once (see World.setOffline). */
  offline = false;

  constructor(
    /** The trace name, `u2.d1`. */
    readonly name: string,
    readonly account: string,
    readonly password: string,
    readonly deviceId: string,
    readonly transport: ClientTransport,
    readonly app: AppOptions = {},
  ) {}
}
