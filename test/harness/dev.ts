// One logged-in device of a core test, as a client would keep it, and the
// SyncKey helpers the core tests check it with.
import { expect } from 'vitest';
import type { SyncKeyJson } from '../../server/wire/synckey.ts';

export interface Dev {
  userName: string;
  uin: number;
  deviceId: string;
  sid: string;
  skey: string;
  key: SyncKeyJson;
}

export const OK = { Ret: 0, ErrMsg: '' };

/** Val of a key in a SyncKey, 0 when absent. */
export function keyVal(k: SyncKeyJson, key: number): number {
  return k.List.find((p) => p.Key === key)?.Val ?? 0;
}

/** Every pair of b is at least a's. */
export function expectKeyNotBehind(later: SyncKeyJson, earlier: SyncKeyJson): void {
  for (const p of earlier.List) expect(keyVal(later, p.Key), `SyncKey ${p.Key} went back`).toBeGreaterThanOrEqual(p.Val);
}

export function syncKey(pairs: Record<number, number>): SyncKeyJson {
  const List = Object.entries(pairs).map(([k, v]) => ({ Key: Number(k), Val: v }));
  return { Count: List.length, List };
}
