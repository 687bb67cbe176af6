// fast-check arbitraries for whole runs (RunSpecs). They generate a raw shape
// of small integers (who by index, when in whole ms, rates per mille) and map
// it onto a valid spec: an index past the end wraps around, a group sender is
// always a member, a send goes to another account, nothing happens after the
// safety phase. So every shrink of the raw shape is still a valid run, and
// shrinking converges on fewer accounts, devices, groups, operations and
// faults, smaller rates and latencies, shorter durations and earlier times.
import fc from 'fast-check';
import type { ClientTransport } from '../../client/client-core.ts';
import { SCENARIOS, scenarioByName } from '../../scenarios/index.ts';
import { deviceName, type FaultSpec, type RunSpec, type RunSpecGroup, type UserOp } from '../../sim/run-spec.ts';

export interface SpecLimits {
  /** Scenarios whose server config a spec may take (default: all). */
  scenarios?: readonly string[];
  accounts?: [number, number];
  devicesPerAccount?: [number, number];
  maxGroups?: number;
  ops?: [number, number];
  maxFaults?: number;
  /** Longest safety phase, ms. */
  maxDurationMs?: number;
}

const LIMITS: Required<SpecLimits> = {
  scenarios: SCENARIOS.map((s) => s.name),
  accounts: [2, 5],
  devicesPerAccount: [1, 3],
  maxGroups: 2,
  ops: [1, 40],
  maxFaults: 10,
  maxDurationMs: 15_000,
};

/** Text with the awkward characters: multi-byte, astral, NUL, quotes, backslashes, newlines. */
const UNITS = ['a', 'b', ' ', 'é', '微', '😀', '\u0000', '"', '\\', '\n'];
const text = fc.string({ unit: fc.constantFrom(...UNITS), maxLength: 8 });

const TRANSPORT_ORDER: ClientTransport[] = ['tcp', 'http', 'ws'];

/** The raw shape that shrinks; `raw → spec` below makes it valid. */
function rawArb(l: Required<SpecLimits>) {
  const maxAccount = l.accounts[1] - 1;
  const maxDevice = l.devicesPerAccount[1] - 1;
  const at = fc.integer({ min: 0, max: l.maxDurationMs });
  const who = { a: fc.nat({ max: maxAccount }), d: fc.nat({ max: maxDevice }) };
  const op = fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('send' as const), at, ...who, to: fc.nat({ max: maxAccount }), content: text }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('group-send' as const), at, g: fc.nat({ max: Math.max(0, l.maxGroups - 1) }), m: fc.nat({ max: maxAccount }), d: who.d, content: text }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('remark' as const), at, ...who, to: fc.nat({ max: maxAccount }), content: text }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('burst' as const), at, ...who, to: fc.nat({ max: maxAccount }), size: fc.integer({ min: 2, max: 10 }), content: text }) },
  );
  const fault = fc.oneof(
    fc.record({ kind: fc.constant('reset' as const), at, ...who }),
    fc.record({ kind: fc.constant('partition' as const), at, ...who, dir: fc.constantFrom('both' as const, 'up' as const, 'down' as const), durationMs: fc.integer({ min: 1, max: 10_000 }) }),
    fc.record({ kind: fc.constant('kill' as const), at, ...who, torn: fc.boolean(), downMs: fc.integer({ min: 1, max: 5_000 }) }),
    fc.record({ kind: fc.constant('crash' as const), at, downMs: fc.integer({ min: 1, max: 5_000 }) }),
    fc.record({ kind: fc.constant('replace' as const), at, ...who }),
  );
  return fc.record({
    scenario: fc.constantFrom(...l.scenarios),
    seed: fc.nat({ max: 1_000_000 }),
    accounts: fc.array(
      fc.array(fc.record({ transport: fc.constantFrom(...TRANSPORT_ORDER), startAt: fc.integer({ min: 0, max: 500 }) }), {
        minLength: l.devicesPerAccount[0],
        maxLength: l.devicesPerAccount[1],
      }),
      { minLength: l.accounts[0], maxLength: l.accounts[1] },
    ),
    groups: fc.array(fc.uniqueArray(fc.nat({ max: maxAccount }), { minLength: 2, maxLength: l.accounts[1] }), { maxLength: l.maxGroups }),
    ops: fc.array(op, { minLength: l.ops[0], maxLength: l.ops[1] }),
    faults: fc.array(fault, { maxLength: l.maxFaults }),
    // Rates per mille; a calm network is as likely as a bad one.
    net: fc.record({
      latency: fc.integer({ min: 1, max: 50 }),
      spread: fc.integer({ min: 0, max: 200 }),
      tail: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 200 })),
      tailMs: fc.integer({ min: 0, max: 3_000 }),
      drop: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 250 })),
      dup: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 200 })),
      commit: fc.integer({ min: 0, max: 30 }),
    }),
    durationMs: fc.integer({ min: 1_000, max: l.maxDurationMs }),
  });
}

type Raw = ReturnType<typeof rawArb> extends fc.Arbitrary<infer T> ? T : never;

/** Make a raw shape a valid spec: indices wrap, group senders are members, sends go to another account. */
export function specOfRaw(raw: Raw): RunSpec {
  const names = raw.accounts.map((_, i) => `u${i}`);
  const n = names.length;
  const dev = (a: number, d: number): string => {
    const account = a % n;
    return deviceName(names[account]!, d % raw.accounts[account]!.length);
  };
  const peer = (a: number, to: number): string => {
    const t = to % n;
    return names[t === a % n ? (t + 1) % n : t]!;
  };
  const groups: RunSpecGroup[] = [];
  for (const g of raw.groups) {
    const members = [...new Set(g.map((i) => names[i % n]!))];
    if (members.length >= 2) groups.push({ members });
  }
  const clamp = (t: number): number => Math.min(t, raw.durationMs);
  const ops: UserOp[] = raw.ops.map((o): UserOp => {
    switch (o.kind) {
      case 'send':
        return { at: clamp(o.at), kind: 'send', from: dev(o.a, o.d), to: peer(o.a, o.to), content: o.content };
      case 'remark':
        return { at: clamp(o.at), kind: 'remark', from: dev(o.a, o.d), to: peer(o.a, o.to), remark: o.content };
      case 'burst':
        return { at: clamp(o.at), kind: 'burst', from: dev(o.a, o.d), to: peer(o.a, o.to), size: o.size, content: o.content };
      case 'group-send': {
        const group = groups.length > 0 ? o.g % groups.length : -1;
        if (group < 0) return { at: clamp(o.at), kind: 'send', from: dev(o.m, o.d), to: peer(o.m, o.m + 1), content: o.content };
        const members = groups[group]!.members;
        const a = names.indexOf(members[o.m % members.length]!);
        return { at: clamp(o.at), kind: 'group-send', from: dev(a, o.d), group, content: o.content };
      }
    }
  });
  const faults: FaultSpec[] = raw.faults.map((f): FaultSpec => {
    switch (f.kind) {
      case 'crash':
        return { at: clamp(f.at), kind: 'crash', downMs: f.downMs };
      case 'kill':
        return { at: clamp(f.at), kind: 'kill', device: dev(f.a, f.d), torn: f.torn, downMs: f.downMs };
      case 'partition':
        return { at: clamp(f.at), kind: 'partition', device: dev(f.a, f.d), dir: f.dir, durationMs: f.durationMs };
      case 'replace':
        return { at: clamp(f.at), kind: 'replace', device: dev(f.a, f.d) };
      case 'reset':
        return { at: clamp(f.at), kind: 'reset', device: dev(f.a, f.d) };
    }
  });
  const net = raw.net;
  const spec: RunSpec = {
    scenario: raw.scenario,
    seed: String(raw.seed),
    accounts: raw.accounts.map((devices, i) => ({ name: names[i]!, devices: devices.map((d) => ({ transport: d.transport, startAt: d.startAt })) })),
    groups,
    ops,
    faults,
    net: {
      latencyMs: [net.latency, net.latency + net.spread],
      latencyTailProbability: net.tail / 1000,
      latencyTailMs: net.tailMs,
      dropProbability: net.drop / 1000,
      duplicateProbability: net.dup / 1000,
      commitDelayMs: [0, net.commit],
    },
    durationMs: raw.durationMs,
  };
  // Where nothing goes wrong, a scenario's delivery bound applies (it is what catches a missed wake-up).
  const bound = scenarioByName(raw.scenario).maxDeliveryMs;
  const calm = faults.length === 0 && net.drop === 0 && net.dup === 0 && net.tail === 0;
  if (bound !== undefined && calm) spec.maxDeliveryMs = bound;
  return spec;
}

/** Whole runs: 2..5 accounts, 1..3 devices each, up to 2 groups, 1..40 operations, 0..10 faults. */
export function runSpecArb(limits: SpecLimits = {}): fc.Arbitrary<RunSpec> {
  const l: Required<SpecLimits> = { ...LIMITS, ...limits };
  return rawArb(l).map(specOfRaw);
}
