// webwxinit: the user, its contacts (chat rooms and remarks) and the key to
// sync from; an HTTP caller may get a new Skey. The contacts are bounded in
// count (maxInitContacts) and in JSON bytes (maxInitContactBytes): the list
// ends before the first contact that would not fit, and no member of a room
// past it is read. Every contact also comes through sync (key 2).
import { toSyncKeyJson } from '../wire/synckey.ts';
import { read, type Step } from '../store/store-ops.ts';
import { authenticate, type Caller } from './auth.ts';
import type { CoreContext } from './core-context.ts';
import { touch } from './devices.ts';
import { contactItem } from './contact-items.ts';
import { roomMember, userContact, webContactItem } from './web-contact.ts';
import { isGroupName, unixSeconds, type ContactItem, type Group } from './model.ts';
import { plan, refuse, type Plan } from './plan.ts';
import type { InitReply } from './replies.ts';
import { OK, type ErrorReply } from './ret.ts';
import { rotateSkey } from './session-tokens.ts';
import { initKey } from './sync-keys.ts';
import { utf8Length } from './validate.ts';

export function* init(ctx: CoreContext, caller: Caller, now: number): Step<Plan<InitReply | ErrorReply>> {
  const { config } = ctx;
  const auth = yield* authenticate(config, caller, now);
  if ('BaseResponse' in auth) return refuse(auth);
  const { account, device } = auth;
  const groups = yield* read({ kind: 'groupsOf', uin: account.uin, limit: config.maxInitContacts });
  const remarks = yield* read({ kind: 'remarksOf', uin: account.uin, limit: config.maxInitContacts });
  const contacts: ContactItem[] = [];
  let room = config.maxInitContactBytes;
  let full = false;
  for (const g of groups) {
    const c = yield* groupContactWithin(g, room);
    if (!c) {
      full = true;
      break;
    }
    contacts.push(c);
    room -= encodedSize(webContactItem(c));
  }
  for (const r of remarks) {
    if (full || contacts.length >= config.maxInitContacts) break;
    const found = contacts.find((c) => c.UserName === r.target);
    if (found) {
      const mine = contactItem(found.UserName, found.NickName, found.MemberList, r);
      // At least what the remark and the flag add.
      const grows = encodedSize(r.remarkName) + (mine.ContactFlag === undefined ? 0 : encodedSize({ ContactFlag: mine.ContactFlag }));
      if (grows > room) break;
      found.RemarkName = mine.RemarkName;
      if (mine.ContactFlag !== undefined) found.ContactFlag = mine.ContactFlag;
      room -= grows;
      continue;
    }
    const target = isGroupName(r.target) ? undefined : yield* read({ kind: 'accountByName', userName: r.target });
    const c = contactItem(r.target, target?.nickName ?? '', [], r);
    if (encodedSize(c) > room) break;
    contacts.push(c);
    room -= encodedSize(c);
  }
  const writes = touch(config, device, now, device.acked);
  const skey = rotateSkey(ctx, auth.session, now, writes, caller);
  const key = toSyncKeyJson(initKey(account, device));
  const reply: InitReply = {
    BaseResponse: OK,
    // The account itself in the real service's contact shape (web clients read HeadImgUrl and the rest), with its own Uin.
    User: { ...userContact(account, undefined, false), Uin: account.uin },
    Count: contacts.length,
    ContactList: contacts.map(webContactItem),
    SyncKey: key,
    SyncCheckKey: key,
    SKey: skey,
    SystemTime: unixSeconds(now),
    ChatSet: contacts.map((c) => c.UserName).join(','),
    ...WEB_CLIENT_SETTINGS,
  };
  return plan(writes, reply);
}

/** What the real service tells the web client besides (fixed here: no grey release, no official accounts). */
const WEB_CLIENT_SETTINGS = {
  ClientVersion: 0,
  GrayScale: 1,
  InviteStartCount: 40,
  MPSubscribeMsgCount: 0,
  MPSubscribeMsgList: [],
  ClickReportInterval: 600_000,
} as const satisfies Partial<InitReply>;

/** A value's JSON size in a list: its encoding and a separating comma. */
function encodedSize(v: unknown): number {
  return utf8Length(JSON.stringify(v)) + 1;
}

/** A chat room as a contact if it fits in `room` bytes of JSON; undefined as soon as it cannot (no more members are read). */
function* groupContactWithin(g: Group, room: number): Step<ContactItem | undefined> {
  const names: string[] = [];
  const contact: ContactItem = { UserName: g.userName, NickName: g.topic, RemarkName: '', MemberList: names, MemberCount: g.members.length };
  let size = encodedSize(contact);
  if (size > room) return undefined;
  for (const uin of g.members) {
    const a = yield* read({ kind: 'account', uin });
    const name = a?.userName ?? '';
    // Counted as the web client gets it: a member object (web-contact.ts), so the budget bounds the answer itself.
    size += encodedSize(roomMember(name));
    if (size > room) return undefined;
    names.push(name);
  }
  return contact;
}
