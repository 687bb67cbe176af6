// webwxbatchgetcontact: the contacts a web client asks for by name, in the
// real web format, a room with its members. Only what the caller may see:
// - a user (any existing one: user names and nicknames are public handles, as
//   a send or a room's creation shows them) with the caller's own remark and
//   pin, and ContactFlag saying whether it is the caller's contact;
// - a room only when the caller is one of its members.
// Any other name (unknown, or a room the caller is not in) is left out of
// ContactList, so a caller cannot tell a room it is not in from no room.
import { read, type Step } from '../store/store-ops.ts';
import { authenticate, type Caller } from './auth.ts';
import type { CoreContext } from './core-context.ts';
import { touch } from './devices.ts';
import { Field } from './field-rules.ts';
import { isGroupName } from './model.ts';
import { plan, refuse, type Plan } from './plan.ts';
import type { BatchContactReply } from './replies.ts';
import { OK, type ErrorReply } from './ret.ts';
import { InputError, isObj, obj, optStr, str, utf8Length } from './validate.ts';
import { roomContact, userContact, webMember, type WebContact } from './web-contact.ts';

/** The ErrMsg code of a request for more names than maxBatchContacts. */
export const CONTACT_BATCH_TOO_LARGE = 'CONTACT_BATCH_TOO_LARGE';

export function* batchGetContact(ctx: CoreContext, caller: Caller, body: unknown, now: number): Step<Plan<BatchContactReply | ErrorReply>> {
  const { config } = ctx;
  const auth = yield* authenticate(config, caller, now);
  if ('BaseResponse' in auth) return refuse(auth);
  const b = obj(body, 'request body');
  const list = b['List'];
  if (!Array.isArray(list)) throw new InputError('List must be an array of {UserName, EncryChatRoomId}');
  if (list.length > config.maxBatchContacts) {
    throw new InputError(`${CONTACT_BATCH_TOO_LARGE}: at most ${config.maxBatchContacts} names a request, got ${list.length}; ask in several`);
  }
  if (b['Count'] !== undefined && b['Count'] !== list.length) throw new InputError('Count does not match List');
  const names: string[] = [];
  for (const entry of list) {
    if (!isObj(entry)) throw new InputError('List entries must be {UserName, EncryChatRoomId}');
    const name = str(entry, 'UserName', Field.contactName);
    // The room a member was seen in: every user's public fields are answered anyway, so it is only checked for form.
    optStr(entry, 'EncryChatRoomId', Field.encryChatRoomId, '');
    if (!names.includes(name)) names.push(name);
  }

  const me = auth.account.uin;
  const out: WebContact[] = [];
  let room = config.maxContactReplyBytes;
  for (const name of names) {
    const c = yield* visibleContact(me, name);
    if (!c) continue;
    // A list that would pass the byte bound ends before this entry: the client asks again for the rest.
    const size = utf8Length(JSON.stringify(c)) + 1;
    if (size > room) break;
    room -= size;
    out.push(c);
  }
  const writes = touch(config, auth.device, now, auth.device.acked);
  return plan(writes, { BaseResponse: OK, Count: out.length, ContactList: out });
}

/** `name` as `me` may see it, or undefined: unknown, or a room `me` is not in. */
function* visibleContact(me: number, name: string): Step<WebContact | undefined> {
  if (isGroupName(name)) {
    const g = yield* read({ kind: 'group', userName: name });
    if (!g || !g.members.includes(me)) return undefined;
    const members = [];
    for (const uin of g.members) members.push(webMember(yield* read({ kind: 'account', uin })));
    return roomContact(g, me, yield* read({ kind: 'remark', uin: me, target: name }), members);
  }
  const a = yield* read({ kind: 'accountByName', userName: name });
  if (!a) return undefined;
  const remark = yield* read({ kind: 'remark', uin: me, target: name });
  const { aToB } = a.uin === me ? { aToB: false } : yield* read({ kind: 'peers', a: me, b: a.uin });
  return userContact(a, remark, aToB);
}
