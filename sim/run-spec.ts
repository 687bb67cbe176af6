// A run described explicitly: who exists, what each user does when, and which
// fault strikes when, as one JSON-serialisable value. The scenario named in it
// gives the server's configuration and the liveness bound; the seed gives
// every remaining draw (latencies, drops, chunking, commit delays, ids). A
// RunSpec is what the property tests generate and shrink, and what a replay
// file holds: `npm run sim -- --replay FILE` runs it again, event for event.
import type { ClientTransport } from '../client/core/client-core.ts';

/** A device by its trace name: `<account>.d<k>`, e.g. `u2.d1`. */
export type DeviceName = string;

export interface RunSpecDevice {
  transport: ClientTransport;
  /** When the app is first launched, ms into the run. */
  startAt: number;
}

export interface RunSpecAccount {
  /** The user name, `[A-Za-z0-9_-]{1,32}`; its devices are `<name>.d0`, `<name>.d1`, ... */
  name: string;
  devices: RunSpecDevice[];
}

export interface RunSpecGroup {
  /** Account names, at least two, no repeats; the first creates the group. */
  members: string[];
}

/** A user action at `at` ms. An action of a device whose app is not running is skipped. */
export type UserOp =
  | { at: number; kind: 'send'; from: DeviceName; to: string; content: string }
  /** `group` indexes RunSpec.groups; the sender's account must be a member. */
  | { at: number; kind: 'group-send'; from: DeviceName; group: number; content: string }
  | { at: number; kind: 'remark'; from: DeviceName; to: string; remark: string }
  /** `size` messages at once, contents `<content>#0`, `<content>#1`, ... */
  | { at: number; kind: 'burst'; from: DeviceName; to: string; size: number; content: string };

/** A fault at `at` ms of the safety phase. One that finds nothing to break (an app not running, the server down) is skipped. */
export type FaultSpec =
  /** The server crashes (uncommitted work lost) and restarts `downMs` later. */
  | { at: number; kind: 'crash'; downMs: number }
  /** The app is killed and relaunched `downMs` later; torn: its last key write is lost. */
  | { at: number; kind: 'kill'; device: DeviceName; torn: boolean; downMs: number }
  /** The device loses the network (up: device to server; down: server to device) for `durationMs`. */
  | { at: number; kind: 'partition'; device: DeviceName; dir: 'both' | 'up' | 'down'; durationMs: number }
  /** A new login of the device (a logged-in app only) replaces its session. */
  | { at: number; kind: 'replace'; device: DeviceName }
  /** Every open long link of the device is reset. */
  | { at: number; kind: 'reset'; device: DeviceName };

export interface NetSpec {
  /** One-way latency, uniform in [min, max] ms. */
  latencyMs: [number, number];
  latencyTailProbability: number;
  latencyTailMs: number;
  dropProbability: number;
  duplicateProbability: number;
  /** Delay between a command and its group commit, uniform in [min, max] ms. */
  commitDelayMs: [number, number];
}

export interface RunSpec {
  /** Server configuration (core, node limits) and the liveness bound come from this scenario. */
  scenario: string;
  seed: string;
  accounts: RunSpecAccount[];
  groups: RunSpecGroup[];
  ops: UserOp[];
  faults: FaultSpec[];
  net: NetSpec;
  /** Length of the safety phase in ms; then everything heals and the devices must converge. */
  durationMs: number;
  /** After healing, every device must converge within this many ms (default: the scenario's). */
  livenessBoundMs?: number;
  /** Where nothing goes wrong: every message on every recipient device within this bound (ms). */
  maxDeliveryMs?: number;
}

export const TRANSPORTS: readonly ClientTransport[] = ['http', 'tcp', 'ws'];

export function deviceName(account: string, k: number): DeviceName {
  return `${account}.d${k}`;
}

/** How big a case is: what shrinking makes small. */
export function specSize(spec: RunSpec): { ops: number; faults: number; devices: number; total: number } {
  const devices = spec.accounts.reduce((n, a) => n + a.devices.length, 0);
  return { ops: spec.ops.length, faults: spec.faults.length, devices, total: spec.ops.length + spec.faults.length + devices };
}
