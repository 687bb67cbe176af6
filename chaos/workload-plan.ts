// The users of a chaos run, drawn up front from the seed as the simulator
// draws them (sim/workload.ts): the scenario's accounts, groups and devices,
// then every user action at Poisson times, bursts and silences included.
// Drawn up front, they are a RunSpec's accounts, groups and ops: the same
// seed gives the same users whatever the real run does, and the simulator
// can run the very same list (`npm run sim -- --replay`).
//
// A device is named, not found running: an action of a device whose app is
// down when its time comes is skipped (and recorded so).
import type { ClientTransport } from '../client/core/client-core.ts';
import type { Workload } from '../scenarios/scenario.ts';
import { contentText } from '../sim/content-text.ts';
import type { Rng } from '../sim/rng.ts';
import { deviceName, type RunSpecAccount, type RunSpecGroup, type UserOp } from '../sim/run-spec.ts';

export interface WorkloadPart {
  accounts: RunSpecAccount[];
  groups: RunSpecGroup[];
  ops: UserOp[];
}

/** Messages a run sends at most, whatever the rates and the duration: a chaos run's traffic is bounded. */
export const MAX_MESSAGES = 5_000;

/** The apps start within this long of the run's start, staggered. */
const LAUNCH_SPREAD_MS = 500;

export function planWorkload(w: Workload, rng: Rng, durationMs: number): WorkloadPart {
  const names = Array.from({ length: w.accounts }, (_, i) => `u${i}`);
  const groups: RunSpecGroup[] = [];
  for (let g = 0; g < w.groups && names.length >= 2; g++) {
    groups.push({ members: rng.shuffled(names).slice(0, Math.min(w.groupSize, names.length)) });
  }
  const mix: Array<[ClientTransport, number]> = [
    ['http', w.transports.http],
    ['tcp', w.transports.tcp],
    ['ws', w.transports.ws],
  ];
  const accounts: RunSpecAccount[] = names.map((name) => {
    const n = rng.int(w.devicesPerAccount[0], w.devicesPerAccount[1]);
    return { name, devices: Array.from({ length: n }, () => ({ transport: rng.weighted(mix), startAt: Math.round(rng.between(0, LAUNCH_SPREAD_MS)) })) };
  });
  const devices = accounts.flatMap((a) => a.devices.map((_, k) => deviceName(a.name, k)));
  const ops: UserOp[] = [];
  let messages = 0;
  const silent = (t: number): boolean => w.silence !== undefined && w.silence.everyMs > 0 && t % w.silence.everyMs >= w.silence.everyMs - w.silence.durationMs;
  const peer = (me: string): string => {
    const others = names.filter((a) => a !== me);
    return others.length > 0 ? rng.pick(others) : me;
  };
  const owner = (device: string): string => device.slice(0, device.lastIndexOf('.d'));
  if (w.sendsPerSecond > 0 && devices.length > 0) {
    for (let t = rng.exp(1000 / w.sendsPerSecond); t < durationMs && messages < MAX_MESSAGES; t += rng.exp(1000 / w.sendsPerSecond)) {
      if (silent(t)) continue;
      const from = rng.pick(devices);
      const me = owner(from);
      const at = Math.round(t);
      if (rng.chance(w.remarkFraction)) {
        ops.push({ at, kind: 'remark', from, to: peer(me), remark: `friend ${rng.int(0, 999)}` });
        continue;
      }
      const mine = groups.map((g, i) => [g, i] as const).filter(([g]) => g.members.includes(me));
      if (mine.length > 0 && rng.chance(w.groupSendFraction)) {
        ops.push({ at, kind: 'group-send', from, group: rng.pick(mine)[1], content: content(rng, w.contentBytes) });
      } else {
        ops.push({ at, kind: 'send', from, to: peer(me), content: content(rng, w.contentBytes) });
      }
      messages++;
    }
  }
  if (w.burst.everyMs > 0 && w.burst.size > 0 && devices.length > 0) {
    for (let t = w.burst.everyMs; t < durationMs && messages + w.burst.size <= MAX_MESSAGES; t += w.burst.everyMs) {
      if (silent(t)) continue;
      const from = rng.pick(devices);
      ops.push({ at: t, kind: 'burst', from, to: peer(owner(from)), size: w.burst.size, content: content(rng, w.contentBytes) });
      messages += w.burst.size;
    }
  }
  ops.sort((a, b) => a.at - b.at);
  return { accounts, groups, ops };
}

/** A message of [min, max] UTF-16 units, drawn as the simulator draws its users' text. */
function content(rng: Rng, [min, max]: [number, number]): string {
  return contentText(rng, rng.int(min, max));
}
