// webwxcreatechatroom: a new chat room, whose contact item (key 2) goes to
// every member's log, so it syncs to every member's devices. Creating rooms
// is a quota per account (groupCreatesPerHour, Ret 1111): a room puts an item
// in every member's log, members who never asked for it included. Later
// changes of a room are server/core/room-changes.ts.
import { read, type Step, type Write } from '../store/store-ops.ts';
import { Appender } from './appender.ts';
import { authenticate, type Caller } from './auth.ts';
import type { CoreContext } from './core-context.ts';
import { touch } from './devices.ts';
import { Field } from './field-rules.ts';
import { contactItem } from './contact-items.ts';
import { Category, groupUserName, type Account, type Group } from './model.ts';
import { fail, refuse, type Plan } from './plan.ts';
import { rateLimited } from './rate-limits.ts';
import type { ChatRoomReply } from './replies.ts';
import { OK, Ret, type ErrorReply } from './ret.ts';
import { InputError, isObj, obj, optStr, str } from './validate.ts';

export function* createChatRoom(ctx: CoreContext, caller: Caller, body: unknown, now: number): Step<Plan<ChatRoomReply | ErrorReply>> {
  const { config } = ctx;
  const auth = yield* authenticate(config, caller, now);
  if ('BaseResponse' in auth) return refuse(auth);
  const b = obj(body, 'request body');
  const list = b['MemberList'];
  if (!Array.isArray(list)) throw new InputError('MemberList must be an array of {UserName}');
  if (b['MemberCount'] !== undefined && b['MemberCount'] !== list.length) throw new InputError('MemberCount does not match MemberList');
  const topic = optStr(b, 'Topic', Field.topic, '');
  if (list.length + 1 > config.maxGroupMembers) {
    return fail(Ret.LimitExceeded, `a chat room has at most ${config.maxGroupMembers} members`);
  }
  const creator = auth.account;
  // The quotas first, before a read per member: a refused creation costs the server next to nothing.
  // A room puts an item in every member's log, so it spends the fan-out quota of room messages too.
  const buckets = ctx.quotas.groupCreates;
  const wait = Math.max(buckets.wait(creator.uin, 1, now), ctx.quotas.sendDeliveries.wait(creator.uin, list.length + 1, now));
  if (wait > 0) return refuse(rateLimited('too many chat rooms created', wait));
  const members: Account[] = [creator];
  for (const entry of list) {
    if (!isObj(entry)) throw new InputError('MemberList entries must be {UserName}');
    const name = str(entry, 'UserName', Field.memberName);
    if (members.some((a) => a.userName === name)) continue;
    const a = yield* read({ kind: 'accountByName', userName: name });
    if (!a) return fail(Ret.UnknownRecipient, `no user named ${name}`);
    members.push(a);
  }
  if (members.length < 2) throw new InputError('MemberList must name at least one other user');
  buckets.take(creator.uin, 1, now);
  ctx.quotas.sendDeliveries.take(creator.uin, members.length, now);
  const id = (yield* read({ kind: 'meta', name: 'nextGroupId' })) + 1;
  const group: Group = {
    userName: groupUserName(id),
    topic,
    ownerUin: creator.uin,
    members: members.map((a) => a.uin),
    seq: 0,
    createdAt: now,
  };
  const writes: Write[] = [{ kind: 'setMeta', name: 'nextGroupId', value: id }, { kind: 'putGroup', group }];
  const contact = contactItem(group.userName, topic, members.map((a) => a.userName), undefined);
  const appender = new Appender(ctx, now, writes);
  for (const a of members) appender.seed(a);
  for (const a of members) {
    if (!(yield* appender.append(a.uin, Category.Contacts, contact))) return fail(Ret.MailboxFull, `the contact list of ${a.userName} is full; try again later`);
  }
  writes.push(...touch(config, auth.device, now, auth.device.acked));
  return {
    writes,
    effects: appender.effects(),
    reply: { BaseResponse: OK, ChatRoomName: group.userName, MemberCount: members.length, MemberList: members.map((a) => ({ UserName: a.userName, NickName: a.nickName })) },
  };
}
