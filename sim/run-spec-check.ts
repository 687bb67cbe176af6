// Checking a RunSpec read from JSON or built by hand: every field in range,
// every name it uses defined, with a message that names the bad field.
import { SCENARIOS } from '../scenarios/index.ts';
import { TRANSPORTS, deviceName, type RunSpec } from './run-spec.ts';

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
