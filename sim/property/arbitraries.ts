// fast-check arbitraries for whole runs (RunSpecs). They generate a raw shape
// of small integers (who by index, when in ticks of 100 ms, rates in per cent)
// and map it onto a valid spec: an index past the end wraps around, a group
// sender is always a member, a send goes to another account, nothing happens
// after the safety phase. So every shrink of the raw shape is still a valid
// run, and shrinking converges on fewer accounts, devices, groups, operations
// and faults, smaller rates and latencies, shorter durations and earlier
// times. Times are coarse on purpose: whether a run fails depends on exact
// timings in no monotone way, and on a 1 ms grid the shrinker would creep
// down a time one millisecond per step. The seed never shrinks (a smaller
// seed is no simpler a run).
import fc from 'fast-check';
import type { ClientTransport } from '../../client/core/client-core.ts';
import { SCENARIOS, scenarioByName } from '../../scenarios/index.ts';
import { deviceName, type FaultSpec, type RunSpec, type RunSpecGroup, type UserOp } from '../run-spec.ts';

export interface SpecLimits {
  /** Scenarios whose server config a spec may take (default: all). */
  scenarios?: readonly string[];
  accounts?: [number, number];
  devicesPerAccount?: [number, number];
  maxGroups?: number;
  ops?: [number, number];
  maxFaults?: number;
  /** Longest safety phase, ms (a multiple of TICK_MS). */
  maxDurationMs?: number;
}

/** The grid of every time and duration the arbitraries generate. */
export const TICK_MS = 100;

const LIMITS: Required<SpecLimits> = {
  // Not the scenarios whose devices live by a schedule of their own (long-lived:
  // sessions shorter than the run, devices that come and go): a generated run
  // drives its devices itself, and one kept away past the session lifetime is
  // rightly told to resync, which those scenarios forbid.
  scenarios: SCENARIOS.filter((s) => s.lifetimes === undefined).map((s) => s.name),
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

/** The liveness bound of a run with faults: the swarm's (sim/swarm.ts). */
const FAULTY_LIVENESS_BOUND_MS = 180_000;

const TRANSPORT_ORDER: ClientTransport[] = ['tcp', 'http', 'ws'];

/** The raw shape that shrinks; `raw → spec` below makes it valid. */
function rawArb(l: Required<SpecLimits>) {
  const maxAccount = l.accounts[1] - 1;
  const maxDevice = l.devicesPerAccount[1] - 1;
  const ticks = (min: number, maxMs: number) => fc.integer({ min, max: Math.max(min, Math.floor(maxMs / TICK_MS)) });
  const at = ticks(0, l.maxDurationMs);
  const who = { a: fc.nat({ max: maxAccount }), d: fc.nat({ max: maxDevice }) };
  const op = fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('send' as const), at, ...who, to: fc.nat({ max: maxAccount }), content: text }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('group-send' as const), at, g: fc.nat({ max: Math.max(0, l.maxGroups - 1) }), m: fc.nat({ max: maxAccount }), d: who.d, content: text }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('remark' as const), at, ...who, to: fc.nat({ max: maxAccount }), content: text }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('burst' as const), at, ...who, to: fc.nat({ max: maxAccount }), size: fc.integer({ min: 2, max: 10 }), content: text }) },
  );
  const fault = fc.oneof(
    fc.record({ kind: fc.constant('reset' as const), at, ...who }),
    fc.record({ kind: fc.constant('partition' as const), at, ...who, dir: fc.constantFrom('both' as const, 'up' as const, 'down' as const), durationMs: ticks(1, 10_000) }),
    fc.record({ kind: fc.constant('kill' as const), at, ...who, torn: fc.boolean(), downMs: ticks(1, 5_000) }),
    fc.record({ kind: fc.constant('crash' as const), at, downMs: ticks(1, 5_000) }),
    fc.record({ kind: fc.constant('replace' as const), at, ...who }),
  );
  const scenario = fc.constantFrom(...l.scenarios);
  // A calm world: no faults, a lossless fast network (the calm scenario's), and the
  // scenario's delivery bound, which is what catches a missed wake-up.
  const calm = fc.record({
    kind: fc.constant('calm' as const),
    scenario: l.scenarios.includes('calm') ? fc.oneof({ weight: 3, arbitrary: fc.constant('calm') }, { weight: 1, arbitrary: scenario }) : scenario,
    latency: fc.integer({ min: 1, max: 10 }),
    spread: fc.integer({ min: 0, max: 10 }),
    commit: fc.integer({ min: 0, max: 15 }),
  });
  // A stormy one: faults, and rates in per cent (each as likely 0 as not).
  const stormy = fc.record({
    kind: fc.constant('stormy' as const),
    scenario,
    faults: fc.array(fault, { maxLength: l.maxFaults }),
    latency: fc.integer({ min: 1, max: 50 }),
    /** Tens of ms. */
    spread: fc.integer({ min: 0, max: 20 }),
    tail: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 20 })),
    tailTicks: ticks(0, 3_000),
    drop: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 25 })),
    dup: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 20 })),
    commit: fc.integer({ min: 0, max: 30 }),
  });
  return fc.record({
    world: fc.oneof({ weight: 1, arbitrary: calm }, { weight: 2, arbitrary: stormy }),
    seed: fc.noShrink(fc.nat({ max: 1_000_000 })),
    accounts: fc.array(
      // Launch times in steps of 50 ms, up to half a second.
      fc.array(fc.record({ transport: fc.constantFrom(...TRANSPORT_ORDER), startAt: fc.integer({ min: 0, max: 10 }) }), {
        minLength: l.devicesPerAccount[0],
        maxLength: l.devicesPerAccount[1],
      }),
      { minLength: l.accounts[0], maxLength: l.accounts[1] },
    ),
    groups: fc.array(fc.uniqueArray(fc.nat({ max: maxAccount }), { minLength: 2, maxLength: l.accounts[1] }), { maxLength: l.maxGroups }),
    ops: fc.array(op, { minLength: l.ops[0], maxLength: l.ops[1] }),
    duration: ticks(1_000 / TICK_MS, l.maxDurationMs),
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
  const durationMs = raw.duration * TICK_MS;
  const clamp = (t: number): number => Math.min(t * TICK_MS, durationMs);
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
  const w = raw.world;
  const faults: FaultSpec[] = (w.kind === 'stormy' ? w.faults : []).map((f): FaultSpec => {
    switch (f.kind) {
      case 'crash':
        return { at: clamp(f.at), kind: 'crash', downMs: f.downMs * TICK_MS };
      case 'kill':
        return { at: clamp(f.at), kind: 'kill', device: dev(f.a, f.d), torn: f.torn, downMs: f.downMs * TICK_MS };
      case 'partition':
        return { at: clamp(f.at), kind: 'partition', device: dev(f.a, f.d), dir: f.dir, durationMs: f.durationMs * TICK_MS };
      case 'replace':
        return { at: clamp(f.at), kind: 'replace', device: dev(f.a, f.d) };
      case 'reset':
        return { at: clamp(f.at), kind: 'reset', device: dev(f.a, f.d) };
    }
  });
  const perCent = (x: number): number => x / 100;
  const spec: RunSpec = {
    scenario: w.scenario,
    seed: String(raw.seed),
    accounts: raw.accounts.map((devices, i) => ({ name: names[i]!, devices: devices.map((d) => ({ transport: d.transport, startAt: d.startAt * 50 })) })),
    groups,
    ops,
    faults,
    net: {
      latencyMs: [w.latency, w.latency + (w.kind === 'stormy' ? w.spread * 10 : w.spread)],
      latencyTailProbability: w.kind === 'stormy' ? perCent(w.tail) : 0,
      latencyTailMs: w.kind === 'stormy' ? w.tailTicks * TICK_MS : 0,
      dropProbability: w.kind === 'stormy' ? perCent(w.drop) : 0,
      duplicateProbability: w.kind === 'stormy' ? perCent(w.dup) : 0,
      commitDelayMs: [0, w.commit],
    },
    durationMs,
  };
  const scenario = scenarioByName(w.scenario);
  if (w.kind === 'calm') {
    // A client keeps one send per conversation in flight, so messages queue: allow each
    // a round trip and a commit (well under 100 ms here) on top of the scenario's bound,
    // which stays far below the 25 s a missed synccheck wake-up costs.
    const messages = ops.reduce((n, o) => n + (o.kind === 'burst' ? o.size : o.kind === 'remark' ? 0 : 1), 0);
    if (scenario.maxDeliveryMs !== undefined) spec.maxDeliveryMs = scenario.maxDeliveryMs + 100 * messages;
  } else {
    // Something goes wrong: a client may be backing off (up to a minute) when the world heals.
    spec.livenessBoundMs = Math.max(scenario.livenessBoundMs, FAULTY_LIVENESS_BOUND_MS);
  }
  return spec;
}

/** Whole runs: 2..5 accounts, 1..3 devices each, up to 2 groups, 1..40 operations, 0..10 faults. */
export function runSpecArb(limits: SpecLimits = {}): fc.Arbitrary<RunSpec> {
  const l: Required<SpecLimits> = { ...LIMITS, ...limits };
  return rawArb(l).map(specOfRaw);
}
