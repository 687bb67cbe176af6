// The staged store's answers to the contact reads (a room's members, remarks
// and pins, whom one wrote to), seen through the overlay of writes not yet
// committed: the database's answer, with what staged writes changed. Rooms
// lose members too (webwxupdatechatroom), so a room the overlay holds is
// judged by its staged members, never by the database's.
import { groupIdOf, isGroupName, type Group } from '../core/model.ts';
import type { PendingOverlay } from './pending-overlay.ts';
import type { Read, ReadResult, RemarkedUser } from './store-ops.ts';

export type ContactRead = Extract<Read, { kind: 'remark' | 'roomsAfter' | 'peersAfter' | 'remarkedAfter' | 'inRoomOf' }>;

export function isContactRead(r: Read): r is ContactRead {
  return r.kind === 'remark' || r.kind === 'roomsAfter' || r.kind === 'peersAfter' || r.kind === 'remarkedAfter' || r.kind === 'inRoomOf';
}

/** How the staged store reads: `base` from its database alone, `read` through the overlay. */
export interface StagedReaders {
  base<R extends Read>(r: R): ReadResult[R['kind']];
  read<R extends Read>(r: R): ReadResult[R['kind']];
  /** The database's rooms that `owner` created and that list `member`, at most `limit` names. */
  roomsOfOwnerWith(member: number, owner: number, limit: number): string[];
}

export function readContacts(o: PendingOverlay, s: StagedReaders, r: ContactRead): ReadResult[ContactRead['kind']] {
  switch (r.kind) {
    case 'remark':
      return o.remarks.get(r.uin)?.get(r.target)?.value ?? s.base(r);
    case 'roomsAfter': {
      if (o.groups.size === 0) return s.base(r);
      // Enough that the rooms the overlay takes away cannot leave the page short.
      const fetched = s.base({ ...r, limit: r.limit + o.groups.size });
      const byName = new Map<string, Group>();
      for (const g of fetched) {
        const now = o.groups.get(g.userName)?.value ?? g;
        if (now.members.includes(r.uin)) byName.set(g.userName, now);
      }
      for (const { value: g } of o.groups.values()) {
        if (g.members.includes(r.uin) && groupIdOf(g.userName) > r.afterId) byName.set(g.userName, g);
      }
      return [...byName.values()].sort((a, b) => groupIdOf(a.userName) - groupIdOf(b.userName)).slice(0, r.limit);
    }
    case 'peersAfter': {
      const staged = o.peersOf(r.uin).filter((p) => p > r.afterUin);
      if (staged.length === 0) return s.base(r);
      const all = new Set([...s.base(r), ...staged]);
      return [...all].sort((a, b) => a - b).slice(0, r.limit);
    }
    case 'remarkedAfter': {
      const of = o.remarks.get(r.uin);
      if (!of) return s.base(r);
      // Remarks are only put: a staged one replaces the database's or adds to it.
      const byTarget = new Map<string, RemarkedUser>(s.base(r).map((m) => [m.remark.target, m]));
      for (const { value: remark } of of.values()) {
        if (isGroupName(remark.target)) continue;
        const a = s.read({ kind: 'accountByName', userName: remark.target });
        if (a && a.uin > r.afterUin) byTarget.set(remark.target, { uin: a.uin, remark });
      }
      return [...byTarget.values()].sort((a, b) => a.uin - b.uin).slice(0, r.limit);
    }
    case 'inRoomOf': {
      if (o.groups.size === 0) return s.base(r);
      for (const { value: g } of o.groups.values()) if (g.ownerUin === r.owner && g.members.includes(r.member)) return true;
      // The database's rooms count unless staged: a staged one that lists the member answered above.
      const names = s.roomsOfOwnerWith(r.member, r.owner, o.groups.size + 1);
      return names.some((n) => !o.groups.has(n));
    }
  }
}
