// Contacts in the real web service's shape, as webwxgetcontact and
// webwxbatchgetcontact answer them: every field a web client reads, by its
// real name and casing. This server keeps no avatar, signature, sex, place,
// pinyin or room nickname, so those fields are empty or 0; `Uin` is 0, as the
// real service shows other accounts. What the fields say is the caller's
// view: its remark, its pin, whether it is the room's owner.
import { isGroupName, type Account, type ContactItem, type Group, type Remark } from './model.ts';

/** Bits of ContactFlag: in the contact list, a chat contact (rooms), pinned to the top. */
export const ContactFlag = { Contact: 1, ChatContact: 2, Top: 2048 } as const;

/** A room member, as MemberList entries of a room carry it. */
export interface WebMember {
  Uin: number;
  UserName: string;
  NickName: string;
  AttrStatus: number;
  PYInitial: string;
  PYQuanPin: string;
  RemarkPYInitial: string;
  RemarkPYQuanPin: string;
  MemberStatus: number;
  DisplayName: string;
  KeyWord: string;
}

export interface WebContact {
  Uin: number;
  UserName: string;
  NickName: string;
  HeadImgUrl: string;
  ContactFlag: number;
  MemberCount: number;
  MemberList: WebMember[];
  RemarkName: string;
  HideInputBarFlag: number;
  Sex: number;
  Signature: string;
  VerifyFlag: number;
  OwnerUin: number;
  PYInitial: string;
  PYQuanPin: string;
  RemarkPYInitial: string;
  RemarkPYQuanPin: string;
  StarFriend: number;
  AppAccountFlag: number;
  Statues: number;
  AttrStatus: number;
  Province: string;
  City: string;
  Alias: string;
  SnsFlag: number;
  UniFriend: number;
  DisplayName: string;
  ChatRoomId: number;
  KeyWord: string;
  EncryChatRoomId: string;
  IsOwner: number;
}

const WEB = '/cgi-bin/mmwebwx-bin/';

/** The avatar path the real service gives (relative: the client puts its base URL before it). */
function headImgUrl(userName: string): string {
  return `${WEB}${isGroupName(userName) ? 'webwxgetheadimg' : 'webwxgeticon'}?seq=0&username=${userName}&skey=`;
}

/**
 * The ContactFlag of `userName` for the caller: a contact (rooms: and a chat
 * contact) or not, with the Top bit while the caller has it pinned.
 */
export function contactFlagOf(userName: string, isContact: boolean, remark: Remark | undefined): number {
  const base = isGroupName(userName) ? ContactFlag.Contact | ContactFlag.ChatContact : isContact ? ContactFlag.Contact : 0;
  return remark?.pinned ? base | ContactFlag.Top : base;
}

function contact(userName: string, nickName: string, flag: number, remark: Remark | undefined): WebContact {
  return {
    Uin: 0,
    UserName: userName,
    NickName: nickName,
    HeadImgUrl: headImgUrl(userName),
    ContactFlag: flag,
    MemberCount: 0,
    MemberList: [],
    RemarkName: remark?.remarkName ?? '',
    HideInputBarFlag: 0,
    Sex: 0,
    Signature: '',
    VerifyFlag: 0,
    OwnerUin: 0,
    PYInitial: '',
    PYQuanPin: '',
    RemarkPYInitial: '',
    RemarkPYQuanPin: '',
    StarFriend: 0,
    AppAccountFlag: 0,
    Statues: 0,
    AttrStatus: 0,
    Province: '',
    City: '',
    Alias: '',
    SnsFlag: 0,
    UniFriend: 0,
    DisplayName: '',
    ChatRoomId: 0,
    KeyWord: '',
    EncryChatRoomId: '',
    IsOwner: 0,
  };
}

/** A user, as the caller sees it: `isContact` when the caller messaged it, remarked or pinned it. */
export function userContact(a: Account, remark: Remark | undefined, isContact: boolean): WebContact {
  return contact(a.userName, a.nickName, contactFlagOf(a.userName, isContact || remark !== undefined, remark), remark);
}

/**
 * A room the caller `me` is a member of, with `members` listed (webwxgetcontact
 * lists none, as the real service: the client asks webwxbatchgetcontact).
 * EncryChatRoomId is the room's own name, which a client hands back as is.
 */
export function roomContact(g: Group, me: number, remark: Remark | undefined, members: WebMember[]): WebContact {
  const c = contact(g.userName, g.topic, contactFlagOf(g.userName, true, remark), remark);
  c.MemberCount = g.members.length;
  c.MemberList = members;
  c.EncryChatRoomId = g.userName;
  c.IsOwner = g.ownerUin === me ? 1 : 0;
  return c;
}

/** A room member; an account gone from the store shows with an empty name (never another's). */
export function webMember(a: Account | undefined): WebMember {
  return {
    Uin: 0,
    UserName: a?.userName ?? '',
    NickName: a?.nickName ?? '',
    AttrStatus: 0,
    PYInitial: '',
    PYQuanPin: '',
    RemarkPYInitial: '',
    RemarkPYQuanPin: '',
    MemberStatus: 0,
    DisplayName: '',
    KeyWord: '',
  };
}

/**
 * A room member in a contact item of webwxinit or webwxsync: the real web
 * client reads MemberList as objects there too. Lean on purpose: a sync page
 * is budgeted in the items' own form (page-budget.ts), and a member adds at
 * most these four fields to it; the details come from webwxbatchgetcontact.
 */
export interface RoomMemberEntry {
  UserName: string;
  NickName: string;
  DisplayName: string;
  AttrStatus: number;
}

/** A contact item of key 2 as the web client reads it: a room's members as objects. */
export type WebContactItem = Omit<ContactItem, 'MemberList'> & { MemberList: RoomMemberEntry[] };

export function roomMember(userName: string): RoomMemberEntry {
  return { UserName: userName, NickName: '', DisplayName: '', AttrStatus: 0 };
}

export function webContactItem(c: ContactItem): WebContactItem {
  return { ...c, MemberList: c.MemberList.map(roomMember) };
}
