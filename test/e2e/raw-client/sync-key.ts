// The SyncKey as the wire carries it (docs/protocol.md section 3). Part of the
// protocol-only client: see packets.ts.

export interface SyncKey {
  Count: number;
  List: Array<{ Key: number; Val: number }>;
}

export const EMPTY_KEY: SyncKey = { Count: 0, List: [] };

export function keyQuery(k: SyncKey): string {
  return k.List.map((p) => `${p.Key}_${p.Val}`).join('|');
}

export function keyVal(k: SyncKey, key: number): number {
  return k.List.find((p) => p.Key === key)?.Val ?? 0;
}
