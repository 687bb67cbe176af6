// Records for the store suite: each builder makes a complete, valid record
// from a few keys, and a test overrides only the fields it is about.
import type {
  Account,
  ContactItem,
  DedupRecord,
  Device,
  Group,
  LogItem,
  MessageItem,
  Remark,
  Session,
} from '../../../server/core/model.ts';

export const T0 = 1_700_000_000_000;

export function account(uin: number, over: Partial<Account> = {}): Account {
  return {
    uin,
    userName: `user${uin}`,
    nickName: `Nick ${uin}`,
    passwordHash: `scrypt$16384$8$1$salt${uin}$hash${uin}`,
    createdAt: T0 + uin,
    seq: 0,
    floor: { 1: 0, 2: 0 },
    itemCount: { 1: 0, 2: 0 },
    lastPrunedAt: 0,
    lastEvictedAt: 0,
    ...over,
  };
}

export function session(sid: string, uin: number, over: Partial<Session> = {}): Session {
  return {
    sid,
    uin,
    deviceId: 'e000000000000001',
    state: 'active',
    skey: `@crypt_${sid}_1`,
    prevSkey: '',
    skeyAt: T0,
    createdAt: T0,
    loginId: '',
    ...over,
  };
}

export function device(uin: number, deviceId: string, over: Partial<Device> = {}): Device {
  return {
    uin,
    deviceId,
    sid: `sid-${uin}-${deviceId}`,
    acked: { 1: 0, 2: 0 },
    createdAt: T0,
    lastSeenAt: T0,
    prevSid: '',
    retiredSids: [],
    ...over,
  };
}

export function dedup(uin: number, clientMsgId: string, createdAt: number, msgId = 1000 + createdAt - T0): DedupRecord {
  return { uin, clientMsgId, msgId, localId: `local-${clientMsgId}`, createdAt };
}

export function group(userName: string, members: number[], over: Partial<Group> = {}): Group {
  return { userName, topic: `topic ${userName}`, ownerUin: members[0] ?? 0, members, seq: 0, createdAt: T0, ...over };
}

export function remark(uin: number, target: string, remarkName: string): Remark {
  return { uin, target, remarkName };
}

export function message(uin: number, seq: number, over: Partial<MessageItem> = {}): LogItem {
  const data: MessageItem = {
    MsgId: 5000 + seq,
    NewMsgId: 5000 + seq,
    FromUserName: 'user1',
    ToUserName: `user${uin}`,
    MsgType: 1,
    Content: `hello ${seq}`,
    CreateTime: 1_700_000_000 + seq,
    ClientMsgId: `c${seq}`,
    Status: 3,
    GroupSeq: 0,
    ...over,
  };
  return { uin, category: 1, seq, createdAt: T0 + seq, data };
}

export function contact(uin: number, seq: number, over: Partial<ContactItem> = {}): LogItem {
  const data: ContactItem = {
    UserName: `@@g${seq}`,
    NickName: `group ${seq}`,
    RemarkName: '',
    MemberList: ['user1', `user${uin}`],
    MemberCount: 2,
    ...over,
  };
  return { uin, category: 2, seq, createdAt: T0 + seq, data };
}
