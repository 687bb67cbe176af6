// The records the protocol core reads and writes. They are plain JSON-able
// values so that any store (memory, SQLite, later PostgreSQL) can hold them.

/** Data categories of a SyncKey (docs/protocol.md section 3). */
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

/** The larger of each category's two numbers. */
export function maxPer(a: PerCategory, b: PerCategory): PerCategory {
  return { 1: Math.max(a[1], b[1]), 2: Math.max(a[2], b[2]) };
}

/** Selector bits of synccheck and Notify: which categories have something new (2 messages, 4 contacts, 6 both). */
export const Selector = { None: 0, Messages: 2, Contacts: 4 } as const;

export function selectorOf(category: CategoryId): number {
  return category === Category.Messages ? Selector.Messages : Selector.Contacts;
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
  /** The last retention pass (it runs at most every pruneIntervalMs). */
  lastPrunedAt: number;
  /**
   * The last time the log bound dropped an item (0: never). Like a retention
   * pass, it may leave a gap that a device which acknowledged nothing must hear of.
   */
  lastEvictedAt: number;
}

/** The account with new counters, built field by field: spreading frozen records is several times slower on the hot path. */
export function withAccount(a: Account, seq: number, floor: PerCategory, itemCount: PerCategory, lastPrunedAt: number, lastEvictedAt: number): Account {
  return { uin: a.uin, userName: a.userName, nickName: a.nickName, passwordHash: a.passwordHash, createdAt: a.createdAt, seq, floor, itemCount, lastPrunedAt, lastEvictedAt };
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
  /**
   * Fingerprints of the device's older, deleted sessions (newest last, at most
   * retiredSidsPerDevice): their Sids still answer 1101, not 1100, so an old
   * install stops instead of logging in again and taking the device back.
   */
  retiredSids: string[];
  /** Acknowledged position per category: what the device last presented. */
  acked: PerCategory;
  createdAt: number;
  lastSeenAt: number;
}

/** A chat room's UserName is this prefix and its id; a user name cannot start with it. */
export const GROUP_PREFIX = '@@';

export function groupUserName(id: number): string {
  return `${GROUP_PREFIX}${id}`;
}

export function isGroupName(userName: string): boolean {
  return userName.startsWith(GROUP_PREFIX);
}

/** A chat room's numeric id (webwxgetcontact pages rooms in its order). */
export function groupIdOf(userName: string): number {
  return Number(userName.slice(GROUP_PREFIX.length));
}

export interface Group {
  /** GROUP_PREFIX + id. */
  userName: string;
  topic: string;
  ownerUin: number;
  /** Member uins in join order: fan-out follows it. */
  members: number[];
  /** Group-wide order: every group message takes seq + 1. */
  seq: number;
  createdAt: number;
}

/** The message types (MsgType) of stored messages. */
export const MsgType = {
  Text: 1,
  Image: 3,
  Voice: 34,
  Card: 42,
  Video: 43,
  Emoticon: 47,
  App: 49,
  System: 10000,
} as const;

/** The types a user may send: every type but the server's own system notices (10000). */
export const USER_MSG_TYPES: ReadonlySet<number> = new Set<number>(Object.values(MsgType).filter((t) => t !== MsgType.System));

/** Message Status: every stored message is delivered (3); this server keeps no read state. */
export const MessageStatus = { Delivered: 3 } as const;

/** Wire times (CreateTime, SystemTime) are whole Unix seconds. */
export function unixSeconds(ms: number): number {
  return Math.floor(ms / 1000);
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
  /** The uploaded file of an image or attachment message (webwxsendmsgimg, webwxsendappmsg). */
  MediaId?: string;
}

/** A contact change as it appears in ModContactList. */
export interface ContactItem {
  UserName: string;
  NickName: string;
  RemarkName: string;
  /** Group members' user names (groups only). */
  MemberList: string[];
  MemberCount: number;
  /**
   * Present once the owner of the log pinned the contact (webwxoplog CmdId 3),
   * with bit 2048 while it is pinned; absent means not pinned. Items of
   * contacts never pinned keep the five fields above alone.
   */
  ContactFlag?: number;
}

/**
 * A contact the log's owner no longer has (a chat room it left or was
 * removed from): it goes out in DelContactList as `{UserName, ContactFlag: 0}`.
 */
export interface ContactDeletion {
  UserName: string;
  ContactFlag: 0;
  Deleted: 1;
}

export function isDeletion(c: ContactItem | ContactDeletion): c is ContactDeletion {
  return 'Deleted' in c;
}

export type LogItem =
  | { uin: number; category: 1; seq: number; createdAt: number; data: MessageItem }
  | { uin: number; category: 2; seq: number; createdAt: number; data: ContactItem | ContactDeletion };

/** What a (sender, ClientMsgId) was answered, so a retry gets the same MsgID. */
export interface DedupRecord {
  uin: number;
  clientMsgId: string;
  msgId: number;
  localId: string;
  createdAt: number;
}

/** What `uin` set on a contact `target`: its remark (webwxoplog CmdId 2) and whether it is pinned (CmdId 3). */
export interface Remark {
  uin: number;
  target: string;
  remarkName: string;
  /** Present (true) only while pinned, so records written before pins existed read back the same. */
  pinned?: true;
}

/** Store-wide counters. */
export type MetaName = 'nextUin' | 'nextMsgId' | 'nextGroupId';
