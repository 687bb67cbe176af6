// webwxupdatechatroom: a chat room's members and topic after its creation.
// Each change rewrites the room and appends its new contact item (key 2) to
// every member's log, each member's own remark and pin on it included, so it
// reaches every member's devices; a member taken out gets the room in
// DelContactList instead. Who may do what:
// - only members change a room (1107 for others; an unknown room is 1106);
// - only the owner adds members (addmember, invitemember) and removes other
//   members (delmember): a room counts its members as the owner's contacts
//   (a member is no stranger to the owner's devices, server/core/strangers.ts),
//   so only the owner may say who that is;
// - any member leaves (delmember naming itself) and sets the topic (modtopic);
//   the owner stays (it cannot leave: a room always has its owner).
// A change that changes nothing (members already in, names not in, the same
// topic) answers Ok and writes nothing, so a retried change is harmless.
import { read, type Step, type Write } from '../store/store-ops.ts';
import { Appender } from './appender.ts';
import { authenticate, type Auth, type Caller } from './auth.ts';
import { contactItem, memberNames } from './contact-items.ts';
import type { CoreContext } from './core-context.ts';
import { touch } from './devices.ts';
import { Field } from './field-rules.ts';
import { Category, isGroupName, type Account, type ContactDeletion, type Group } from './model.ts';
import { fail, plan, refuse, type Plan } from './plan.ts';
import { takeFanoutQuota } from './rate-limits.ts';
import type { OkReply, RoomChangeReply } from './replies.ts';
import { OK, Ret, type ErrorReply } from './ret.ts';
import { InputError, obj, str, type Obj } from './validate.ts';
import { webMember } from './web-contact.ts';

/** The `fun` query parameter, and the body field naming each one's users. */
const LIST_FIELD = { addmember: 'AddMemberList', invitemember: 'InviteMemberList', delmember: 'DelMemberList' } as const;
export type RoomFun = keyof typeof LIST_FIELD | 'modtopic';

/** ErrMsg codes of the refusals that share Ret 1102 with malformed input. */
export const RoomError = {
  BadFun: 'ROOM_BAD_FUN',
  BadList: 'ROOM_BAD_LIST',
  OwnerOnly: 'ROOM_OWNER_ONLY',
  OwnerStays: 'ROOM_OWNER_STAYS',
} as const;

type ChangeReply = RoomChangeReply | OkReply | ErrorReply;

export function* updateChatRoom(ctx: CoreContext, caller: Caller, fun: string | undefined, body: unknown, now: number): Step<Plan<ChangeReply>> {
  const { config } = ctx;
  const auth = yield* authenticate(config, caller, now);
  if ('BaseResponse' in auth) return refuse(auth);
  if (fun !== 'addmember' && fun !== 'invitemember' && fun !== 'delmember' && fun !== 'modtopic') {
    throw new InputError(`${RoomError.BadFun}: the fun parameter must be addmember, invitemember, delmember or modtopic`);
  }
  const b = obj(body, 'request body');
  const roomName = str(b, 'ChatRoomName', Field.contactName);
  const topic = fun === 'modtopic' ? str(b, 'NewTopic', Field.topic) : '';
  const names = fun === 'modtopic' ? [] : userNames(b, LIST_FIELD[fun], config.maxGroupMembers);
  const g = isGroupName(roomName) ? yield* read({ kind: 'group', userName: roomName }) : undefined;
  if (!g) return fail(Ret.UnknownRecipient, `no chat room named ${roomName}`);
  if (!g.members.includes(auth.account.uin)) return fail(Ret.NotGroupMember, `you are not a member of ${roomName}`);
  if (fun === 'modtopic') {
    if (topic === g.topic) return unchanged(ctx, auth, now, { BaseResponse: OK });
    return yield* change(ctx, auth, { ...g, topic }, [], now, { BaseResponse: OK });
  }
  if (fun === 'delmember') return yield* removeMembers(ctx, auth, g, names, now);
  return yield* addMembers(ctx, auth, g, names, now);
}

function* addMembers(ctx: CoreContext, auth: Auth, g: Group, names: string[], now: number): Step<Plan<ChangeReply>> {
  if (g.ownerUin !== auth.account.uin) return fail(Ret.BadRequest, `${RoomError.OwnerOnly}: only the owner of ${g.userName} adds members`);
  const added: Account[] = [];
  for (const name of names) {
    const a = yield* read({ kind: 'accountByName', userName: name });
    if (!a) return fail(Ret.UnknownRecipient, `no user named ${name}`);
    if (!g.members.includes(a.uin) && !added.some((x) => x.uin === a.uin)) added.push(a);
  }
  const max = ctx.config.maxGroupMembers;
  if (g.members.length + added.length > max) return fail(Ret.LimitExceeded, `a chat room has at most ${max} members`);
  const reply: RoomChangeReply = { BaseResponse: OK, MemberCount: added.length, MemberList: added.map(webMember) };
  if (added.length === 0) return unchanged(ctx, auth, now, reply);
  return yield* change(ctx, auth, { ...g, members: [...g.members, ...added.map((a) => a.uin)] }, [], now, reply);
}

function* removeMembers(ctx: CoreContext, auth: Auth, g: Group, names: string[], now: number): Step<Plan<ChangeReply>> {
  const me = auth.account;
  const removed: Account[] = [];
  for (const name of names) {
    if (name === me.userName) {
      if (g.ownerUin === me.uin) return fail(Ret.BadRequest, `${RoomError.OwnerStays}: the owner of ${g.userName} cannot leave it`);
      if (!removed.includes(me)) removed.push(me);
      continue;
    }
    // Checked before the name is looked up: a member who is not the owner learns nothing of it.
    if (g.ownerUin !== me.uin) return fail(Ret.BadRequest, `${RoomError.OwnerOnly}: only the owner of ${g.userName} removes other members`);
    const a = yield* read({ kind: 'accountByName', userName: name });
    if (!a) return fail(Ret.UnknownRecipient, `no user named ${name}`);
    if (g.members.includes(a.uin) && !removed.some((x) => x.uin === a.uin)) removed.push(a);
  }
  const reply: RoomChangeReply = { BaseResponse: OK, MemberCount: removed.length, MemberList: removed.map(webMember) };
  if (removed.length === 0) return unchanged(ctx, auth, now, reply);
  const gone = removed.map((a) => a.uin);
  return yield* change(ctx, auth, { ...g, members: g.members.filter((uin) => !gone.includes(uin)) }, gone, now, reply);
}

/**
 * The room becomes `next`: its item goes to every member's log, a deletion
 * to each of `removed`. All or nothing: a full contact log (1110) or a used-up
 * fan-out quota (1111, the one room messages and creations spend) stores nothing.
 */
function* change<R extends RoomChangeReply | OkReply>(ctx: CoreContext, auth: Auth, next: Group, removed: number[], now: number, reply: R): Step<Plan<R | ErrorReply>> {
  const limited = takeFanoutQuota(ctx.quotas, auth.account.uin, next.members.length + removed.length, now);
  if (limited) return refuse(limited);
  const writes: Write[] = [{ kind: 'putGroup', group: next }];
  const names = yield* memberNames(next);
  const appender = new Appender(ctx, now, writes);
  appender.seed(auth.account);
  const full = (uin: number): Plan<ErrorReply> => fail(Ret.MailboxFull, uin === auth.account.uin ? 'your contact log is full of changes your devices have not synced yet; sync them, then try again' : `the contact list of a member of ${next.userName} is full; try again later`);
  for (const uin of next.members) {
    const remark = yield* read({ kind: 'remark', uin, target: next.userName });
    if (!(yield* appender.append(uin, Category.Contacts, contactItem(next.userName, next.topic, names, remark)))) return full(uin);
  }
  const deletion: ContactDeletion = { UserName: next.userName, ContactFlag: 0, Deleted: 1 };
  for (const uin of removed) {
    if (!(yield* appender.append(uin, Category.Contacts, deletion))) return full(uin);
  }
  writes.push(...touch(ctx.config, auth.device, now, auth.device.acked));
  return { writes, effects: appender.effects(), reply };
}

function unchanged<R>(ctx: CoreContext, auth: Auth, now: number, reply: R): Plan<R> {
  return plan(touch(ctx.config, auth.device, now, auth.device.acked), reply);
}

/** A list field: user names separated by commas (no spaces), each once (repeats are dropped); at most `max`. */
function userNames(b: Obj, field: string, max: number): string[] {
  const v = b[field];
  if (typeof v !== 'string' || v === '') throw new InputError(`${RoomError.BadList}: ${field} must name users, separated by commas`);
  const parts = v.split(',', max + 1);
  if (parts.length > max) throw new InputError(`a chat room has at most ${max} members: ${field} names more`, Ret.LimitExceeded);
  for (const p of parts) {
    if (!Field.memberName.pattern.test(p)) throw new InputError(`${RoomError.BadList}: ${field} holds '${p.slice(0, 40)}', not a user name`);
  }
  return [...new Set(parts)];
}
