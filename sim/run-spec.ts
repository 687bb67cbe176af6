// A run described explicitly: who exists, what each user does when, and which
// fault strikes when, as one JSON-serialisable value. The scenario named in it
// gives the server's configuration and the liveness bound; the seed gives
// every remaining draw (latencies, drops, chunking, commit delays, ids). A
// RunSpec is what the property tests generate and shrink, and what a replay
// file holds: `npm run sim -- --replay FILE` runs it again, event for event.
import fs from 'node:fs';
import path from 'node:path';
import type { ClientTransport } from '../client/core/client-core.ts';
import { PLANTED_BUGS, type PlantedBug } from '../server/core/planted-bugs.ts';
import { SCENARIOS, scenarioByName } from '../scenarios/index.ts';
import { CALM_FAULTS, type Scenario } from '../scenarios/scenario.ts';
import { FaultScheduler } from './fault-scheduler.ts';
import { runWorld, type RunOptions, type RunResult } from './run.ts';
import type { SimStoreKind } from './sim-store.ts';
import { WorkloadDriver } from './workload.ts';

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

/** The scenario a spec runs under: the named one's server config, the spec's network and phase length. */
export function scenarioForSpec(spec: RunSpec): Scenario {
  const base = scenarioByName(spec.scenario);
  const { commitDelayMs, ...net } = spec.net;
  const s: Scenario = {
    ...base,
    workload: { ...base.workload, accounts: spec.accounts.length, durationMs: spec.durationMs },
    faults: { ...CALM_FAULTS, ...net, latencyMs: [...net.latencyMs], commitDelayMs: [...commitDelayMs] },
  };
  if (spec.livenessBoundMs !== undefined) s.livenessBoundMs = spec.livenessBoundMs;
  delete s.maxDeliveryMs;
  if (spec.maxDeliveryMs !== undefined) s.maxDeliveryMs = spec.maxDeliveryMs;
  return s;
}

/** Run a spec: the same spec and options give the same trace hash. */
export function runSpec(spec: RunSpec, opts: RunOptions = {}): RunResult {
  checkRunSpec(spec);
  const scenario = scenarioForSpec(spec);
  return runWorld(
    scenario,
    spec.seed,
    opts,
    (world) => ({
      workload: new WorkloadDriver(world, world.streams.get('workload'), scenario.workload, spec),
      faults: new FaultScheduler(world, world.streams.get('faults'), scenario.faults, spec.faults),
    }),
    // Each device's network draws are its own: dropping a device from a spec leaves the rest alone.
    { netStreamPerDevice: true },
  );
}

// ---------------------------------------------------------------- validation

/** Parse and check a spec (from JSON); throws with a plain message naming the bad field. */
export function parseRunSpec(value: unknown): RunSpec {
  checkRunSpec(value as RunSpec);
  return value as RunSpec;
}

/** Throws a RangeError naming the first thing wrong with the spec. */
export function checkRunSpec(spec: RunSpec): void {
  const bad = (where: string, what: string): never => {
    throw new RangeError(`RunSpec ${where}: ${what}`);
  };
  if (typeof spec !== 'object' || spec === null) bad('', 'must be an object');
  if (typeof spec.scenario !== 'string' || !SCENARIOS.some((s) => s.name === spec.scenario)) {
    bad('scenario', `must be one of ${SCENARIOS.map((s) => s.name).join(', ')}, got ${JSON.stringify(spec.scenario)}`);
  }
  if (typeof spec.seed !== 'string') bad('seed', 'must be a string');
  const time = (where: string, v: unknown): void => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad(where, `must be a number >= 0, got ${JSON.stringify(v)}`);
  };
  const prob = (where: string, v: unknown): void => {
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) bad(where, `must be a probability in [0, 1], got ${JSON.stringify(v)}`);
  };
  const range = (where: string, v: unknown): void => {
    if (!Array.isArray(v) || v.length !== 2) return bad(where, 'must be [min, max]');
    time(`${where}[0]`, v[0]);
    time(`${where}[1]`, v[1]);
    if (v[0] > v[1]) bad(where, `min ${v[0]} is above max ${v[1]}`);
  };
  time('durationMs', spec.durationMs);
  if (spec.maxDeliveryMs !== undefined) time('maxDeliveryMs', spec.maxDeliveryMs);
  if (spec.livenessBoundMs !== undefined) time('livenessBoundMs', spec.livenessBoundMs);
  if (!Array.isArray(spec.accounts) || spec.accounts.length < 1) bad('accounts', 'must list at least one account');
  const accounts = new Set<string>();
  const devices = new Set<string>();
  spec.accounts.forEach((a, i) => {
    if (typeof a?.name !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(a.name)) bad(`accounts[${i}].name`, 'must match [A-Za-z0-9_-]{1,32}');
    if (accounts.has(a.name)) bad(`accounts[${i}].name`, `${a.name} appears twice`);
    accounts.add(a.name);
    if (!Array.isArray(a.devices)) bad(`accounts[${i}].devices`, 'must be an array');
    a.devices.forEach((d, k) => {
      if (!TRANSPORTS.includes(d?.transport)) bad(`accounts[${i}].devices[${k}].transport`, `must be one of ${TRANSPORTS.join(', ')}`);
      time(`accounts[${i}].devices[${k}].startAt`, d.startAt);
      devices.add(deviceName(a.name, k));
    });
  });
  const account = (where: string, v: unknown): void => {
    if (typeof v !== 'string' || !accounts.has(v)) bad(where, `names no account of the spec: ${JSON.stringify(v)}`);
  };
  const device = (where: string, v: unknown): void => {
    if (typeof v !== 'string' || !devices.has(v)) bad(where, `names no device of the spec: ${JSON.stringify(v)} (devices are <account>.d<k>)`);
  };
  if (!Array.isArray(spec.groups)) bad('groups', 'must be an array');
  spec.groups.forEach((g, i) => {
    if (!Array.isArray(g?.members) || g.members.length < 2) bad(`groups[${i}].members`, 'must name at least two accounts');
    g.members.forEach((m, j) => account(`groups[${i}].members[${j}]`, m));
    if (new Set(g.members).size !== g.members.length) bad(`groups[${i}].members`, 'names an account twice');
  });
  const owner = (d: string): string => d.slice(0, d.lastIndexOf('.d'));
  if (!Array.isArray(spec.ops)) bad('ops', 'must be an array');
  spec.ops.forEach((op, i) => {
    const w = `ops[${i}]`;
    time(`${w}.at`, op?.at);
    device(`${w}.from`, op.from);
    switch (op.kind) {
      case 'send':
      case 'burst':
        account(`${w}.to`, op.to);
        if (typeof op.content !== 'string') bad(`${w}.content`, 'must be a string');
        if (op.kind === 'burst' && !(Number.isInteger(op.size) && op.size >= 1)) bad(`${w}.size`, 'must be a whole number >= 1');
        return;
      case 'group-send': {
        const g = spec.groups[op.group];
        if (!Number.isInteger(op.group) || !g) bad(`${w}.group`, `must index groups (0..${spec.groups.length - 1})`);
        if (!g!.members.includes(owner(op.from))) bad(`${w}.from`, `${op.from} is not in group ${op.group}`);
        if (typeof op.content !== 'string') bad(`${w}.content`, 'must be a string');
        return;
      }
      case 'remark':
        account(`${w}.to`, op.to);
        if (typeof op.remark !== 'string') bad(`${w}.remark`, 'must be a string');
        return;
      default:
        bad(`${w}.kind`, `must be send, group-send, remark or burst, got ${JSON.stringify((op as { kind: unknown }).kind)}`);
    }
  });
  if (!Array.isArray(spec.faults)) bad('faults', 'must be an array');
  spec.faults.forEach((f, i) => {
    const w = `faults[${i}]`;
    time(`${w}.at`, f?.at);
    switch (f.kind) {
      case 'crash':
        return time(`${w}.downMs`, f.downMs);
      case 'kill':
        device(`${w}.device`, f.device);
        if (typeof f.torn !== 'boolean') bad(`${w}.torn`, 'must be true or false');
        return time(`${w}.downMs`, f.downMs);
      case 'partition':
        device(`${w}.device`, f.device);
        if (!['both', 'up', 'down'].includes(f.dir)) bad(`${w}.dir`, 'must be both, up or down');
        return time(`${w}.durationMs`, f.durationMs);
      case 'replace':
      case 'reset':
        return device(`${w}.device`, f.device);
      default:
        bad(`${w}.kind`, `must be crash, kill, partition, replace or reset, got ${JSON.stringify((f as { kind: unknown }).kind)}`);
    }
  });
  const n = spec.net;
  if (typeof n !== 'object' || n === null) bad('net', 'must be an object');
  range('net.latencyMs', n.latencyMs);
  prob('net.latencyTailProbability', n.latencyTailProbability);
  time('net.latencyTailMs', n.latencyTailMs);
  prob('net.dropProbability', n.dropProbability);
  prob('net.duplicateProbability', n.duplicateProbability);
  range('net.commitDelayMs', n.commitDelayMs);
}

// ---------------------------------------------------------------- replay files

/** What a failing property leaves behind: the spec, how to run it, and what it did. */
export interface ReplayFile {
  format: 'synckey-replay/1';
  /** What found it, for a person reading the file. */
  note?: string;
  bugs: PlantedBug[];
  store: SimStoreKind;
  /** What the run gave when the file was written: a replay must match it. */
  expect?: { ok: boolean; traceHash: string; events: number; guarantee?: string; who?: string; detail?: string };
  /** fast-check's replay parameters of the property that found it. */
  fastCheck?: { seed: number; path: string };
  spec: RunSpec;
}

export function replayOf(spec: RunSpec, result: RunResult, o: { bugs?: readonly PlantedBug[]; store?: SimStoreKind; note?: string; fastCheck?: { seed: number; path: string } } = {}): ReplayFile {
  const r: ReplayFile = { format: 'synckey-replay/1', bugs: [...(o.bugs ?? [])], store: o.store ?? 'memory', spec };
  if (o.note !== undefined) r.note = o.note;
  r.expect = { ok: result.ok, traceHash: result.traceHash, events: result.events };
  if (result.failure) {
    r.expect.guarantee = result.failure.guarantee;
    r.expect.who = result.failure.who;
    r.expect.detail = result.failure.detail;
  }
  if (o.fastCheck) r.fastCheck = o.fastCheck;
  return r;
}

export function writeReplayFile(file: string, r: ReplayFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
}

/** A replay file, or a bare RunSpec (run without bugs on the memory store). */
export function readReplayFile(file: string): ReplayFile {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`--replay ${file}: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null) throw new Error(`--replay ${file}: not a JSON object`);
  const o = json as Partial<ReplayFile>;
  const r: ReplayFile =
    o.format === 'synckey-replay/1'
      ? { ...(o as ReplayFile), bugs: o.bugs ?? [], store: o.store ?? 'memory' }
      : { format: 'synckey-replay/1', bugs: [], store: 'memory', spec: json as RunSpec };
  try {
    parseRunSpec(r.spec);
  } catch (e) {
    throw new Error(`--replay ${file}: ${(e as Error).message}`);
  }
  for (const b of r.bugs) if (!PLANTED_BUGS.includes(b)) throw new Error(`--replay ${file}: unknown planted bug '${b}'`);
  if (r.store !== 'memory' && r.store !== 'sqlite') throw new Error(`--replay ${file}: store must be memory or sqlite`);
  return r;
}

/** Run a replay file's spec with its bugs and store. */
export function runReplay(r: ReplayFile, opts: Omit<RunOptions, 'bugs' | 'store'> = {}): RunResult {
  return runSpec(r.spec, { ...opts, bugs: new Set(r.bugs), store: r.store });
}

/** The line that replays a file. */
export function replayCommand(file: string): string {
  return `npm run sim -- --replay ${file}`;
}
