// The SyncKey a device starts from (login, resume, webwxinit), and the checks
// of a key it presents (webwxsync, synccheck).
import type { SyncKeyMap } from '../wire/synckey.ts';
import { WireError } from '../wire/wire-error.ts';
import { CATEGORIES, type Account, type Device } from './model.ts';
import { Ret, type RetCode } from './ret.ts';
import { InputError } from './validate.ts';

/** The acknowledged position, raised to the retention floor. */
export function initKey(account: Account, device: Device): SyncKeyMap {
  const m: SyncKeyMap = new Map();
  for (const cat of CATEGORIES) m.set(cat, Math.max(device.acked[cat], account.floor[cat]));
  return m;
}

export function checkKey(key: SyncKeyMap, account: Account, device: Device): { ret: RetCode; msg: string } | undefined {
  for (const cat of CATEGORIES) {
    const v = key.get(cat) ?? 0;
    if (v > account.seq) return { ret: Ret.BadRequest, msg: `SyncKey ${cat}_${v} is ahead of the server` };
    if (v !== 0 && v < account.floor[cat]) return { ret: Ret.Resync, msg: 'resync: call webwxinit again' };
    // Key 0 asks for everything retained; but from a device that has acknowledged
    // nothing and existed when the account was pruned (by retention or by the
    // log bound), it may hide a gap: say so.
    const prunedAt = Math.max(account.lastPrunedAt, account.lastEvictedAt);
    if (v === 0 && account.floor[cat] > 0 && device.acked[cat] === 0 && device.createdAt < prunedAt) {
      return { ret: Ret.Resync, msg: 'resync: items were pruned since this device logged in; call webwxinit again' };
    }
  }
  return undefined;
}

/** A malformed key is bad input (Ret 1102). */
export function parseKey(f: () => SyncKeyMap): SyncKeyMap {
  try {
    return f();
  } catch (e) {
    if (e instanceof WireError) throw new InputError(`SyncKey: ${e.message}`);
    throw e;
  }
}
