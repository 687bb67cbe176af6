// The answers of the protocol core's commands, as they go out in JSON (HTTP
// bodies and long-link packets). A failed command answers ErrorReply (ret.ts).
import type { SyncKeyJson } from '../wire/synckey.ts';
import type { ContactItem, MessageItem } from './model.ts';
import type { BaseResponse, RetCode } from './ret.ts';
import type { WebContact, WebContactItem, WebMember } from './web-contact.ts';

export interface OkReply {
  BaseResponse: BaseResponse;
}

export interface RegisterReply {
  BaseResponse: BaseResponse;
  Uin: number;
}

/** manualauth, and long-link auth (op 8 adds HeartbeatSec). */
export interface LoginReply {
  BaseResponse: BaseResponse;
  Uin: number;
  Sid: string;
  Skey: string;
  SyncKey: SyncKeyJson;
}

export interface InitReply {
  BaseResponse: BaseResponse;
  User: WebContact;
  Count: number;
  ContactList: WebContactItem[];
  SyncKey: SyncKeyJson;
  /** The same key: the real service hands out both. */
  SyncCheckKey: SyncKeyJson;
  SKey: string;
  SystemTime: number;
  /** ContactList's user names, comma-separated: the chats the web client shows first. */
  ChatSet: string;
  ClientVersion: number;
  GrayScale: number;
  InviteStartCount: number;
  MPSubscribeMsgCount: number;
  MPSubscribeMsgList: never[];
  ClickReportInterval: number;
}

/** A DelContactList entry: a contact the account no longer has. */
export interface DeletedContact {
  UserName: string;
  ContactFlag: 0;
}

/** webwxsync's Profile: the account's profile changes. This server has none to tell (BitFlag 0). */
export interface Profile {
  BitFlag: number;
  UserName: { Buff: string };
  NickName: { Buff: string };
  BindUin: number;
  BindEmail: { Buff: string };
  BindMobile: { Buff: string };
  Status: number;
  Sex: number;
  PersonalCard: number;
  Alias: string;
  HeadImgUpdateFlag: number;
  HeadImgUrl: string;
  Signature: string;
}

const EMPTY_BUFF = Object.freeze({ Buff: '' });

export const NO_PROFILE_CHANGE: Readonly<Profile> = Object.freeze({
  BitFlag: 0,
  UserName: EMPTY_BUFF,
  NickName: EMPTY_BUFF,
  BindUin: 0,
  BindEmail: EMPTY_BUFF,
  BindMobile: EMPTY_BUFF,
  Status: 0,
  Sex: 0,
  PersonalCard: 0,
  Alias: '',
  HeadImgUpdateFlag: 0,
  HeadImgUrl: '',
  Signature: '',
});

/** webwxgetcontact: a page of the account's contacts; `Seq` 0 when it is the last. */
export interface ContactListReply {
  BaseResponse: BaseResponse;
  MemberCount: number;
  MemberList: WebContact[];
  Seq: number;
}

/** webwxbatchgetcontact: the contacts asked for that the caller may see, in the order asked. */
export interface BatchContactReply {
  BaseResponse: BaseResponse;
  Count: number;
  ContactList: WebContact[];
}

/** webwxstatusnotify: no message is made, so MsgID is "0" (a string, as the real service's). */
export interface StatusNotifyReply {
  BaseResponse: BaseResponse;
  MsgID: string;
}

/** webwxupdatechatroom addmember, invitemember, delmember: the members added or removed. */
export interface RoomChangeReply {
  BaseResponse: BaseResponse;
  MemberCount: number;
  MemberList: WebMember[];
}

export interface SendReply {
  BaseResponse: BaseResponse;
  MsgID: number;
  LocalID: string;
}

export interface ChatRoomReply {
  BaseResponse: BaseResponse;
  ChatRoomName: string;
  MemberCount: number;
  MemberList: Array<{ UserName: string; NickName: string }>;
}

export interface SyncReply {
  BaseResponse: BaseResponse;
  AddMsgCount: number;
  AddMsgList: MessageItem[];
  ModContactCount: number;
  /** A room's members by name on the long link, as objects over HTTP (web-contact.ts). */
  ModContactList: ContactItem[] | WebContactItem[];
  DelContactCount: number;
  DelContactList: DeletedContact[];
  /** webwxsync only (op 11 goes without them): always 0, [] and NO_PROFILE_CHANGE here. */
  ModChatRoomMemberCount?: number;
  ModChatRoomMemberList?: never[];
  Profile?: Readonly<Profile>;
  SyncKey: SyncKeyJson;
  SyncCheckKey: SyncKeyJson;
  SKey: string;
  ContinueFlag: number;
}

/** synccheck's answer; the node writes retcode and selector as `window.synccheck={...}`. */
export interface SyncCheckReply {
  retcode: RetCode;
  /** Selector bits (model.ts). */
  selector: number;
  /** The account's sequence when checked: the poll registry compares it with later appends. Not sent. */
  seq: number;
  uin: number;
}

/** A retention sweep step (not sent): the uin to go on after, 0 to start over. */
export interface SweepReply {
  next: number;
}
