// MemoryStore's index of who is in which room, and its answers to the reads
// that webwxgetcontact pages with: rooms by id, the accounts one sent a
// direct message to and the users one remarked, by uin. Kept apart so that
// the store stays one concept a file; writes push undo steps on the store's
// log like every other write.
import { groupIdOf, isGroupName, type Group, type Remark } from '../core/model.ts';
import type { RemarkedUser } from './store-ops.ts';

/**
 * Follows a room's members in `byMember` (each member's rooms in the order
 * it joined them, which groupsOf answers in): a new member joins at the end,
 * a removed one no longer lists the room.
 */
export function indexMembers(byMember: Map<number, string[]>, g: Group, prev: Group | undefined, undo: Array<() => void>): void {
  for (const uin of g.members) {
    if (prev?.members.includes(uin)) continue;
    const list = byMember.get(uin) ?? [];
    byMember.set(uin, list);
    list.push(g.userName);
    undo.push(() => void list.pop());
  }
  for (const uin of prev?.members ?? []) {
    if (g.members.includes(uin)) continue;
    const list = byMember.get(uin);
    const at = list?.indexOf(g.userName) ?? -1;
    if (!list || at < 0) continue;
    list.splice(at, 1);
    undo.push(() => void list.splice(at, 0, g.userName));
  }
}

export function roomsAfter(names: readonly string[] | undefined, groups: ReadonlyMap<string, Group>, afterId: number, limit: number): Group[] {
  const rooms = (names ?? []).map((name) => ({ name, id: groupIdOf(name) })).filter((r) => r.id > afterId);
  rooms.sort((a, b) => a.id - b.id);
  return rooms.slice(0, limit).map((r) => groups.get(r.name)!);
}

export function peersAfter(peers: ReadonlySet<number> | undefined, afterUin: number, limit: number): number[] {
  const out = [...(peers ?? [])].filter((p) => p > afterUin);
  out.sort((a, b) => a - b);
  return out.slice(0, limit);
}

export function remarkedAfter(remarks: ReadonlyMap<string, Remark> | undefined, uinByName: ReadonlyMap<string, number>, afterUin: number, limit: number): RemarkedUser[] {
  const out: RemarkedUser[] = [];
  for (const remark of remarks?.values() ?? []) {
    if (isGroupName(remark.target)) continue;
    const uin = uinByName.get(remark.target);
    if (uin !== undefined && uin > afterUin) out.push({ uin, remark });
  }
  out.sort((a, b) => a.uin - b.uin);
  return out.slice(0, limit);
}
