// The liveness phase's probe: has every device converged on what the server
// holds (running, logged in, nothing unanswered, every retained message held,
// its key at the head)?
import type { World } from './world.ts';

/** The first device that has not converged, with why; undefined when all have. */
export function laggard(world: World): string | undefined {
  if (!world.server.up) return 'server: down';
  for (const [account, devices] of world.registry.accounts) {
    const log = world.oracle.log(account);
    // The account's head and floor, read once for all its devices (nothing commits during a probe).
    let head: Map<number, number> | undefined;
    let floor: Map<number, number> | undefined;
    for (const d of devices) {
      const inst = d.current;
      if (!inst) return `${d.name}: app not running`;
      const core = inst.core;
      if (core.state !== 'ready') return `${d.name}: client ${core.state}`;
      const pending = core.outbox().filter((e) => e.state !== 'failed').length;
      if (pending > 0 || inst.failed.size > 0) return `${d.name}: ${pending} sends unanswered, ${inst.failed.size} failed`;
      const missing = missingFrom(log, core.inbox());
      if (missing.count > 0) return `${d.name}: missing ${missing.count} of ${log.length} messages (first MsgId ${missing.first})`;
      // Holding every retained message is not enough: its key must have reached the head
      // (a device below the floor has yet to hear 1200 and resync).
      // A key of 0 asks for everything retained: with nothing retained in that category
      // (the head is the floor) nothing will move it, and it is level with the head once
      // the device holds every acknowledged message for it (none is still on its way).
      const key = new Map(core.syncKey());
      floor ??= world.oracle.floor(account);
      head ??= world.oracle.head(account);
      for (const [cat, at] of head) {
        const k = key.get(cat) ?? 0;
        if (k >= at) continue;
        if (k === 0 && at === floor.get(cat) && world.checkers.holdsEveryAcked(d.name, (g) => world.oracle.members(g))) continue;
        return `${d.name}: key ${cat}_${k} behind the head ${at}`;
      }
    }
  }
  return undefined;
}

/**
 * How many of `log`'s MsgIds the inbox lacks, and the first of them in log
 * order. Both lists normally increase (the checkers see to the inbox's
 * order), and then one walk along both answers without building a set of
 * the inbox on every probe of every device; otherwise, the set.
 */
function missingFrom(log: readonly number[], inbox: ReadonlyArray<{ MsgId: number }>): { count: number; first: number | undefined } {
  let count = 0;
  let first: number | undefined;
  if (increasing(log, (x) => x) && increasing(inbox, (m) => m.MsgId)) {
    let j = 0;
    for (let i = 0; i < log.length; i++) {
      const id = log[i]!;
      while (j < inbox.length && inbox[j]!.MsgId < id) j++;
      if (j < inbox.length && inbox[j]!.MsgId === id) continue;
      if (count++ === 0) first = id;
    }
    return { count, first };
  }
  const have = new Set(inbox.map((m) => m.MsgId));
  for (const id of log) {
    if (have.has(id)) continue;
    if (count++ === 0) first = id;
  }
  return { count, first };
}

function increasing<T>(list: readonly T[], id: (x: T) => number): boolean {
  for (let i = 1; i < list.length; i++) if (!(id(list[i - 1]!) < id(list[i]!))) return false;
  return true;
}
