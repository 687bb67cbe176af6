// A simulated device: one installation (a DeviceID) of one account, with the
// app's persisted state kept across kills and restarts.
import type { ClientTransport } from '../client/core/client-core.ts';
import type { PersistedState } from '../client/core/client-state.ts';
import type { AppInstance } from './app-instance.ts';

export class Device {
  current: AppInstance | undefined;
  persisted: PersistedState | undefined;
  readonly ghosts: AppInstance[] = [];
  /** The current instance's last two keys: a torn write keeps the older one. */
  currentKey: Array<[number, number]> | undefined;
  previousKey: Array<[number, number]> | undefined;

  constructor(
    /** The trace name, `u2.d1`. */
    readonly name: string,
    readonly account: string,
    readonly password: string,
    readonly deviceId: string,
    readonly transport: ClientTransport,
  ) {}
}
