// What the end-to-end suite needs of a deployment: a server, accounts, and
// devices running the reference client core on some transport, plus a way to
// let time pass until something holds. Two implementations: the simulator's
// world (virtual time) and the real server on loopback sockets.
import type { ClientCore, ClientEvent, ClientTransport } from '../../client/core/client-core.ts';

export interface DeviceSpec {
  /** Unique in the deployment, used in messages and failure reports. */
  name: string;
  user: string;
  password: string;
  deviceId: string;
  transport: ClientTransport;
}

/** One running app: its core (read it, do not drive it) and the inputs a user gives it. */
export interface E2eDevice extends DeviceSpec {
  readonly core: ClientCore;
  /** Every event of the core, in order. */
  readonly events: readonly ClientEvent[];
  /** Queues a text; returns its LocalID. */
  send(to: string, content: string): string;
  createChatRoom(members: string[], topic: string): void;
}

export interface Deployment {
  start(): Promise<void>;
  /** Registers an account outside any client; resolves with the server's Ret. */
  register(user: string, password: string): Promise<number>;
  /** Starts an app (it logs in and keeps syncing). */
  addDevice(spec: DeviceSpec): E2eDevice;
  /** Lets time pass until `done` holds; rejects with `what()` once the deployment's patience runs out. */
  until(done: () => boolean, what: () => string): Promise<void>;
  /** The server goes down and comes back on the same store; the apps carry on. */
  restartServer(): Promise<void>;
  stop(): Promise<void>;
}
