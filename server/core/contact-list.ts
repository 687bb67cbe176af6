// webwxgetcontact: the account's contacts in the real web format, a page at a
// time. An account's contacts are the chat rooms it is a member of, then the
// users it sent a direct message to or set a remark or pin on (never itself):
// rooms in the order of their ids, users in the order of their uins. A page
// holds at most contactPageSize; its `Seq` says where the next one starts
// (0: this was the last), and the client hands it back as `seq`.
//
// Rooms are listed without their members, as the real service lists them
// (MemberCount says how many): the client asks webwxbatchgetcontact for them.
// A page reads at most one record per contact, so its cost is bounded by the
// page, never by the account.
import { read, type Step } from '../store/store-ops.ts';
import { authenticate, type Caller } from './auth.ts';
import type { CoreContext } from './core-context.ts';
import { touch } from './devices.ts';
import { groupIdOf, type Remark } from './model.ts';
import { plan, refuse, type Plan } from './plan.ts';
import type { ContactListReply } from './replies.ts';
import { OK, type ErrorReply } from './ret.ts';
import { InputError } from './validate.ts';
import { roomContact, userContact, type WebContact } from './web-contact.ts';

/** Seq of a page that starts after room id n: ROOMS_SEQ + n; after user uin n: USERS_SEQ + n. Both are past any uint32, so neither is 0. */
const ROOMS_SEQ = 2 ** 32;
const USERS_SEQ = 2 ** 33;
const MAX_ID = 2 ** 32 - 1;

/** The ErrMsg code of a `seq` this server never handed out. */
export const CONTACT_BAD_SEQ = 'CONTACT_BAD_SEQ';

type Cursor = { users: boolean; after: number };

export function* getContact(ctx: CoreContext, caller: Caller, seq: string | undefined, now: number): Step<Plan<ContactListReply | ErrorReply>> {
  const { config } = ctx;
  const auth = yield* authenticate(config, caller, now);
  if ('BaseResponse' in auth) return refuse(auth);
  const cursor = parseSeq(seq);
  const me = auth.account.uin;
  const size = config.contactPageSize;
  const page: WebContact[] = [];
  let next = 0;
  if (!cursor.users) {
    const rooms = yield* read({ kind: 'roomsAfter', uin: me, afterId: cursor.after, limit: size + 1 });
    for (const g of rooms.slice(0, size)) {
      page.push(roomContact(g, me, yield* read({ kind: 'remark', uin: me, target: g.userName }), []));
    }
    if (rooms.length > size) next = ROOMS_SEQ + groupIdOf(rooms[size - 1]!.userName);
  }
  if (next === 0) {
    const room = size - page.length;
    const after = cursor.users ? cursor.after : 0;
    // One more than fits: whether another page follows.
    const users = yield* usersAfter(me, after, room + 1);
    for (const u of users.slice(0, room)) {
      const a = yield* read({ kind: 'account', uin: u.uin });
      if (a) page.push(userContact(a, u.remark, true));
    }
    if (users.length > room) next = USERS_SEQ + (room > 0 ? users[room - 1]!.uin : after);
  }
  const writes = touch(config, auth.device, now, auth.device.acked);
  return plan(writes, { BaseResponse: OK, MemberCount: page.length, MemberList: page, Seq: next });
}

/**
 * The first `limit` users (by uin, after `after`) that `me` wrote to or
 * remarked, each with its remark: both lists are read one further than
 * `limit`, so the merge stays exact after `me` itself is left out.
 */
function* usersAfter(me: number, after: number, limit: number): Step<Array<{ uin: number; remark: Remark | undefined }>> {
  const peers = yield* read({ kind: 'peersAfter', uin: me, afterUin: after, limit: limit + 1 });
  const remarked = yield* read({ kind: 'remarkedAfter', uin: me, afterUin: after, limit: limit + 1 });
  const byUin = new Map<number, Remark | undefined>();
  for (const p of peers) byUin.set(p, undefined);
  for (const r of remarked) byUin.set(r.uin, r.remark);
  byUin.delete(me);
  const uins = [...byUin.keys()].sort((a, b) => a - b).slice(0, limit);
  return uins.map((uin) => ({ uin, remark: byUin.get(uin) }));
}

/** `seq` as given: absent, empty or 0 for the first page, else a Seq this server answered. */
function parseSeq(seq: string | undefined): Cursor {
  if (seq === undefined || seq === '' || seq === '0') return { users: false, after: 0 };
  const v = /^[1-9][0-9]{0,15}$/.test(seq) ? Number(seq) : NaN;
  if (v >= ROOMS_SEQ && v <= ROOMS_SEQ + MAX_ID) return { users: false, after: v - ROOMS_SEQ };
  if (v >= USERS_SEQ && v <= USERS_SEQ + MAX_ID) return { users: true, after: v - USERS_SEQ };
  throw new InputError(`${CONTACT_BAD_SEQ}: seq must be 0 or a Seq that webwxgetcontact answered`);
}
