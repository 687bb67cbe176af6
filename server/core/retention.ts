// Retention: an account's items go once every live device acknowledged them
// and they are minRetentionMs old, or once they are maxRetentionMs old. A sync
// prunes its own account; the background sweep prunes accounts that never sync,
// and forgets their devices that are gone (unseen for sessionTtlMs).
import { read, type Step, type Write } from '../store/store-ops.ts';
import type { CoreContext } from './core-context.ts';
import { forgetDevice, isGone, isLive } from './devices.ts';
import { CATEGORIES, withAccount, type Account, type Device } from './model.ts';
import type { Plan } from './plan.ts';
import type { SweepReply } from './replies.ts';

/**
 * One step of the background retention sweep: the next sweepBatch accounts
 * after `afterUin` lose their gone devices (at most maxDeviceRecordsPerAccount
 * each, so a step's work is bounded), and those unpruned for
 * sweepAccountIntervalMs are pruned as a sync would. Answers where to go on (0: start over).
 */
export function* sweep(ctx: CoreContext, afterUin: number, now: number): Step<Plan<SweepReply>> {
  const { config } = ctx;
  const accounts = yield* read({ kind: 'accountsAfter', afterUin, limit: config.sweepBatch });
  const writes: Write[] = [];
  const due = Math.max(config.pruneIntervalMs, config.sweepAccountIntervalMs);
  for (const a of accounts) {
    for (const d of yield* read({ kind: 'devicesOf', uin: a.uin })) if (isGone(config, d, now)) writes.push(...forgetDevice(d));
    if (now - a.lastPrunedAt >= due) yield* prune(ctx, a, undefined, now, writes);
  }
  const next = accounts.length < config.sweepBatch ? 0 : accounts[accounts.length - 1]!.uin;
  return { writes, effects: [], reply: { next } };
}

/**
 * Retention for one account, at most every pruneIntervalMs: items every live
 * device acknowledged and older than the minimum, or older than the maximum.
 * `self` is the syncing device's record as this command leaves it.
 */
export function* prune(ctx: CoreContext, account: Account, self: Device | undefined, now: number, writes: Write[]): Step<void> {
  const { config } = ctx;
  if (now - account.lastPrunedAt < config.pruneIntervalMs) return;
  const devices = (yield* read({ kind: 'devicesOf', uin: account.uin })).map((d) => (self && d.deviceId === self.deviceId ? self : d));
  const live = devices.filter((d) => isLive(config, d, now));
  const floor = { ...account.floor };
  const itemCount = { ...account.itemCount };
  for (const cat of CATEGORIES) {
    const ackBound = ctx.bugs.has('prune-unacked') ? Infinity : live.length ? Math.min(...live.map((d) => d.acked[cat])) : 0;
    const items = yield* read({ kind: 'items', uin: account.uin, category: cat, afterSeq: floor[cat], limit: config.pruneBatch });
    let through = floor[cat];
    let n = 0;
    for (const it of items) {
      const old = now - it.createdAt >= config.minRetentionMs;
      const tooOld = now - it.createdAt >= config.maxRetentionMs;
      if (!((old && it.seq <= ackBound) || tooOld)) break;
      through = it.seq;
      n++;
    }
    if (n > 0) {
      writes.push({ kind: 'pruneItems', uin: account.uin, category: cat, throughSeq: through });
      floor[cat] = through;
      itemCount[cat] -= n;
    }
  }
  writes.push({ kind: 'putAccount', account: withAccount(account, account.seq, floor, itemCount, now, account.lastEvictedAt) });
  writes.push({ kind: 'pruneDedup', uin: account.uin, before: now - config.dedupRetentionMs });
}
