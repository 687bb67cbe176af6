// The answers of the protocol core's commands, as they go out in JSON (HTTP
// bodies and long-link packets). A failed command answers ErrorReply (ret.ts).
import type { SyncKeyJson } from '../wire/synckey.ts';
import type { ContactItem, MessageItem } from './model.ts';
import type { BaseResponse, RetCode } from './ret.ts';

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
  User: { Uin: number; UserName: string; NickName: string };
  Count: number;
  ContactList: ContactItem[];
  SyncKey: SyncKeyJson;
  SKey: string;
  SystemTime: number;
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
  ModContactList: ContactItem[];
  DelContactCount: number;
  DelContactList: ContactItem[];
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
