// The records the protocol core reads and writes. They are plain JSON-able
// values so that any store (memory, SQLite, later PostgreSQL) can hold them.

/** Data categories of a SyncKey (PROTOCOL.md section 3). */
export const Category = { Messages: 1, Contacts: 2 } as const;
export type CategoryId = (typeof Category)[keyof typeof Category];
export const CATEGORIES: readonly CategoryId[] = [Category.Messages, Category.Contacts];

/** Per-category numbers, indexed by category id (1, 2). */
export interface PerCategory {
  1: number;
  2: number;
}

export function perCategory(v = 0): PerCategory {
  return { 1: v, 2: v };
}

export interface Account {
  uin: number;
  userName: string;
  nickName: string;
  /** `scrypt$N$r$p$salt$hash`, never the password. */
  passwordHash: string;
  createdAt: number;
  /** The account's sequence generator: every appended item takes seq + 1. */
  seq: number;
  /** Highest pruned sequence per category: a key below it gets Ret 1200. */
  floor: PerCategory;
  /** Items retained per category, to bound the log. */
  itemCount: PerCategory;
  lastPrunedAt: number;
}

export type SessionState = 'active' | 'replaced' | 'loggedout';

export interface Session {
  sid: string;
  uin: number;
  deviceId: string;
  state: SessionState;
  skey: string;
  prevSkey: string;
  skeyAt: number;
  createdAt: number;
  /** The client's ClientLoginId of the login that made this session ('' if none): a retried login gets this session back. */
  loginId: string;
}

export interface Device {
  uin: number;
  deviceId: string;
  /** The current session of this device ('' once logged out). */
  sid: string;
  /**
   * The session before it, kept so that its requests hear 1101 (replaced);
   * the one before that is deleted, so a device holds at most two sessions.
   */
  prevSid: string;
  /** Acknowledged position per category: what the device last presented. */
  acked: PerCategory;
  createdAt: number;
  lastSeenAt: number;
}

export interface Group {
  /** `@@` + id. */
  userName: string;
  topic: string;
  ownerUin: number;
  /** Member uins in join order: fan-out follows it. */
  members: number[];
  /** Group-wide order: every group message takes seq + 1. */
  seq: number;
  createdAt: number;
}

/** A message as it appears in AddMsgList. */
export interface MessageItem {
  MsgId: number;
  NewMsgId: number;
  FromUserName: string;
  ToUserName: string;
  MsgType: number;
  Content: string;
  CreateTime: number;
  ClientMsgId: string;
  Status: number;
  /** Position in the group's total order; 0 for direct messages. */
  GroupSeq: number;
}

/** A contact change as it appears in ModContactList. */
export interface ContactItem {
  UserName: string;
  NickName: string;
  RemarkName: string;
  /** Group members' user names (groups only). */
  MemberList: string[];
  MemberCount: number;
}

export type LogItem =
  | { uin: number; category: 1; seq: number; createdAt: number; data: MessageItem }
  | { uin: number; category: 2; seq: number; createdAt: number; data: ContactItem };

/** What a (sender, ClientMsgId) was answered, so a retry gets the same MsgID. */
export interface DedupRecord {
  uin: number;
  clientMsgId: string;
  msgId: number;
  localId: string;
  createdAt: number;
}

export interface Remark {
  uin: number;
  target: string;
  remarkName: string;
}

/** Store-wide counters. */
export type MetaName = 'nextUin' | 'nextMsgId' | 'nextGroupId';
