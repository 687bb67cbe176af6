// The protocol core: every command of PROTOCOL.md as a sans-IO step. A
// command is a generator that yields store Reads and returns a Plan: the
// writes to commit, the reply to send once they are committed, and the
// effects (accounts whose logs grew, sessions that ended). Time and
// randomness come in; nothing here touches a socket, a clock or a store.
import { parseSyncKeyJson, parseSyncKeyQuery, toSyncKeyJson, type SyncKeyJson, type SyncKeyMap } from '../wire/synckey.ts';
import { WireError } from '../wire/wire-error.ts';
// Reads are yielded inline, not through a helper generator: one generator object fewer per read on the hot path.
import type { ReadResult, Step, Write } from '../store/store-ops.ts';
import type { CoreConfig } from './config.ts';
import type { PasswordHasher, RandomSource } from './deps.ts';
import {
  CATEGORIES,
  Category,
  perCategory,
  type Account,
  type CategoryId,
  type ContactItem,
  type Device,
  type Group,
  type LogItem,
  type MessageItem,
  type PerCategory,
  type Session,
} from './model.ts';
import { NO_BUGS, type BugSet } from './planted-bugs.ts';
import { OK, Ret, errorReply, type BaseResponse, type ErrorReply, type RetCode } from './ret.ts';
import { DEVICE_ID_RE, InputError, USER_NAME_RE, idString, int, isObj, obj, optInt, optStr, str, utf8Length, type Obj } from './validate.ts';

export type CoreEffect =
  /** The logs of `uin` grew: notify its long links, complete its synccheck polls. */
  | { kind: 'appended'; uin: number; selector: number; seq: number }
  /** A session ended (replaced, logged out): close its long links with `ret`. */
  | { kind: 'sessionEnded'; sid: string; uin: number; ret: RetCode };

export interface Plan<R = unknown> {
  writes: Write[];
  reply: R;
  effects: CoreEffect[];
}

/** Who is calling: an HTTP request's BaseRequest, or an authenticated long link. */
export type Caller =
  | { kind: 'http'; base: unknown; checkSkey: boolean }
  | { kind: 'link'; uin: number; sid: string; deviceId: string };

interface Auth {
  session: Session;
  device: Device;
  account: Account;
}

export interface OkReply {
  BaseResponse: BaseResponse;
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

export interface SyncCheckReply {
  retcode: string;
  selector: string;
  /** The account's sequence when checked: the poll registry compares it with later appends. Not sent. */
  seq: number;
  uin: number;
}

export interface CoreDeps {
  random: RandomSource;
  hasher: PasswordHasher;
  bugs?: BugSet;
}

/** The fields of a stored message besides Content, JSON-encoded, with room to spare. */
const MESSAGE_OVERHEAD_BYTES = 1024;
const MSG_TYPES = new Set([1, 3, 34, 42, 43, 47, 49, 10000]);
const TOPIC_MAX = 64;
const REMARK_MAX = 64;

export class ProtocolCore {
  private readonly bugs: BugSet;
  // Planted-bug state only: the real core keeps nothing between commands.
  private readonly volatileSeq = new Map<number, number>();
  private readonly deferredFanout = new Map<string, LogItem[]>();
  private readonly dummyHash: string;

  constructor(
    readonly config: CoreConfig,
    private readonly deps: CoreDeps,
  ) {
    this.bugs = deps.bugs ?? NO_BUGS;
    // Unknown user names still pay for one verify, so timing does not tell them apart.
    this.dummyHash = deps.hasher.hash('dummy', new Uint8Array(16));
  }

  // ---- accounts and sessions ----

  *register(body: unknown, now: number): Step<Plan<{ BaseResponse: BaseResponse; Uin: number } | ErrorReply>> {
    return yield* guard(this.registerStep(body, now));
  }

  private *registerStep(body: unknown, now: number): Step<Plan<{ BaseResponse: BaseResponse; Uin: number } | ErrorReply>> {
    const b = obj(body, 'request body');
    const userName = str(b, 'UserName', { max: 32, pattern: USER_NAME_RE, patternText: '[A-Za-z0-9_-]{1,32}' });
    const password = str(b, 'Password', { min: 1, max: 128 });
    const nickName = optStr(b, 'NickName', { min: 0, max: 64 }, userName);
    if (((yield { kind: 'accountByName', userName }) as ReadResult['accountByName'])) return fail(Ret.UserNameTaken, 'that user name is taken');
    const uin = (((yield { kind: 'meta', name: 'nextUin' }) as ReadResult['meta'])) + 1;
    if (uin > 0xffffffff) return fail(Ret.LimitExceeded, 'no account numbers left');
    const account: Account = {
      uin,
      userName,
      nickName,
      passwordHash: this.deps.hasher.hash(password, this.deps.random.bytes(16)),
      createdAt: now,
      seq: 0,
      floor: perCategory(),
      itemCount: perCategory(),
      lastPrunedAt: now,
    };
    return plan([{ kind: 'putAccount', account }, { kind: 'setMeta', name: 'nextUin', value: uin }], { BaseResponse: OK, Uin: uin });
  }

  /** manualauth, and long-link auth by password: a device login. */
  *login(body: unknown, now: number): Step<Plan<LoginReply | ErrorReply>> {
    return yield* guard(this.loginStep(body, now));
  }

  private *loginStep(body: unknown, now: number): Step<Plan<LoginReply | ErrorReply>> {
    const b = obj(body, 'request body');
    const userName = str(b, 'UserName', { max: 32, pattern: USER_NAME_RE, patternText: '[A-Za-z0-9_-]{1,32}' });
    const password = str(b, 'Password', { min: 1, max: 128 });
    const deviceId = str(b, 'DeviceID', { max: 64, pattern: DEVICE_ID_RE, patternText: '[A-Za-z0-9_-]{1,64}' });
    const loginId = idString(b, 'ClientLoginId', false) ?? '';
    const account = ((yield { kind: 'accountByName', userName }) as ReadResult['accountByName']);
    const ok = this.deps.hasher.verify(password, account?.passwordHash ?? this.dummyHash);
    if (!account || !ok) return fail(Ret.AuthFailed, 'wrong user name or password');

    const devices = ((yield { kind: 'devicesOf', uin: account.uin }) as ReadResult['devicesOf']);
    const prev = devices.find((d) => d.deviceId === deviceId);
    if (loginId !== '' && prev && prev.sid !== '') {
      // A retried or duplicated login (same ClientLoginId) gets the session it already made,
      // instead of replacing it: otherwise the client would hold a replaced Sid.
      const current = ((yield { kind: 'session', sid: prev.sid }) as ReadResult['session']);
      if (current && current.state === 'active' && current.loginId === loginId && this.isLive(prev, now)) {
        return plan([], { BaseResponse: OK, Uin: account.uin, Sid: current.sid, Skey: current.skey, SyncKey: toSyncKeyJson(initKey(account, prev)) });
      }
    }
    if (loginId !== '' && prev) {
      // A late duplicate of a login whose session a newer login (or a logout) has since
      // ended must not replace the newer session: it is told it was replaced.
      // This login already made a session that is no longer the device's: a newer login superseded it.
      const made = ((yield { kind: 'dedup', uin: account.uin, clientMsgId: loginDedupKey(deviceId, loginId) }) as ReadResult['dedup']);
      if (made && made.localId !== prev.sid) return fail(Ret.SessionReplaced, 'this login was superseded by a newer login of this device');
    }
    const live = devices.filter((d) => d.deviceId !== deviceId && this.isLive(d, now));
    if (live.length >= this.config.maxDevicesPerAccount) {
      return fail(Ret.LimitExceeded, `at most ${this.config.maxDevicesPerAccount} devices may be logged in; log one out first`);
    }
    const writes: Write[] = [];
    const effects: CoreEffect[] = [];
    if (prev && prev.sid !== '') {
      const old = ((yield { kind: 'session', sid: prev.sid }) as ReadResult['session']);
      if (old && old.state === 'active') {
        writes.push({ kind: 'putSession', session: { ...old, state: 'replaced' } });
        effects.push({ kind: 'sessionEnded', sid: old.sid, uin: account.uin, ret: Ret.SessionReplaced });
      }
    }
    const sid = this.newSid();
    const skey = this.newSkey();
    const session: Session = { sid, uin: account.uin, deviceId, state: 'active', skey, prevSkey: '', skeyAt: now, createdAt: now, loginId };
    // A device keeps its current session and the one before (whose requests hear 1101); older ones go.
    const device: Device = prev
      ? { ...prev, sid, prevSid: prev.sid !== '' ? prev.sid : prev.prevSid, lastSeenAt: now }
      : { uin: account.uin, deviceId, sid, prevSid: '', acked: perCategory(), createdAt: now, lastSeenAt: now };
    if (prev && prev.sid !== '' && prev.prevSid !== '') writes.push({ kind: 'deleteSession', sid: prev.prevSid });
    writes.push({ kind: 'putSession', session }, { kind: 'putDevice', device });
    if (loginId !== '') {
      // Which session this login made, for its late duplicates (kept as long as send dedup records).
      writes.push({ kind: 'putDedup', dedup: { uin: account.uin, clientMsgId: loginDedupKey(deviceId, loginId), msgId: 0, localId: sid, createdAt: now } });
    }
    return {
      writes,
      effects,
      reply: { BaseResponse: OK, Uin: account.uin, Sid: sid, Skey: skey, SyncKey: toSyncKeyJson(initKey(account, device)) },
    };
  }

  /** Long-link auth by an existing session: `{Uin, Sid, DeviceID}`. */
  *resume(body: unknown, now: number): Step<Plan<LoginReply | ErrorReply>> {
    return yield* guard(this.resumeStep(body, now));
  }

  private *resumeStep(body: unknown, now: number): Step<Plan<LoginReply | ErrorReply>> {
    const b = obj(body, 'request body');
    const uin = int(b, 'Uin', 1, 0xffffffff);
    const sid = str(b, 'Sid', { max: 64 });
    const deviceId = str(b, 'DeviceID', { max: 64, pattern: DEVICE_ID_RE });
    const auth = yield* this.authLink(uin, sid, deviceId, now);
    if ('BaseResponse' in auth) return { writes: [], effects: [], reply: auth };
    const writes = this.touch(auth.device, now, auth.device.acked);
    return plan(writes, {
      BaseResponse: OK,
      Uin: uin,
      Sid: sid,
      Skey: auth.session.skey,
      SyncKey: toSyncKeyJson(initKey(auth.account, auth.device)),
    });
  }

  /** A long link's heartbeat: the device is alive (its session neither expires nor stops holding retention). */
  *heartbeat(caller: Caller, now: number): Step<Plan<OkReply | ErrorReply>> {
    const auth = yield* this.authenticate(caller, now);
    if ('BaseResponse' in auth) return { writes: [], effects: [], reply: auth };
    return plan(this.touch(auth.device, now, auth.device.acked), { BaseResponse: OK });
  }

  *logout(caller: Caller, now: number): Step<Plan<OkReply | ErrorReply>> {
    return yield* guard(this.logoutStep(caller, now));
  }

  private *logoutStep(caller: Caller, now: number): Step<Plan<OkReply | ErrorReply>> {
    const auth = yield* this.authenticate(caller, now);
    if ('BaseResponse' in auth) return { writes: [], effects: [], reply: auth };
    const { session, device } = auth;
    return {
      writes: [
        { kind: 'putSession', session: { ...session, state: 'loggedout' } },
        { kind: 'putDevice', device: { ...device, sid: '', prevSid: session.sid, lastSeenAt: now } },
        ...(device.prevSid !== '' ? [{ kind: 'deleteSession' as const, sid: device.prevSid }] : []),
      ],
      effects: [{ kind: 'sessionEnded', sid: session.sid, uin: session.uin, ret: Ret.SessionReplaced }],
      reply: { BaseResponse: OK },
    };
  }

  // ---- init and sync ----

  *init(caller: Caller, now: number): Step<Plan<InitReply | ErrorReply>> {
    return yield* guard(this.initStep(caller, now));
  }

  private *initStep(caller: Caller, now: number): Step<Plan<InitReply | ErrorReply>> {
    const auth = yield* this.authenticate(caller, now);
    if ('BaseResponse' in auth) return { writes: [], effects: [], reply: auth };
    const { account, device } = auth;
    const groups = ((yield { kind: 'groupsOf', uin: account.uin, limit: this.config.maxInitContacts }) as ReadResult['groupsOf']);
    const remarks = ((yield { kind: 'remarksOf', uin: account.uin, limit: this.config.maxInitContacts }) as ReadResult['remarksOf']);
    const contacts: ContactItem[] = [];
    for (const g of groups) contacts.push(yield* this.groupContact(g, ''));
    for (const r of remarks) {
      if (contacts.length >= this.config.maxInitContacts) break;
      const target = r.target.startsWith('@@') ? undefined : ((yield { kind: 'accountByName', userName: r.target }) as ReadResult['accountByName']);
      const found = contacts.find((c) => c.UserName === r.target);
      if (found) found.RemarkName = r.remarkName;
      else contacts.push({ UserName: r.target, NickName: target?.nickName ?? '', RemarkName: r.remarkName, MemberList: [], MemberCount: 0 });
    }
    const writes = this.touch(device, now, device.acked);
    const skey = this.rotateSkey(auth.session, now, writes, caller);
    return plan(writes, {
      BaseResponse: OK,
      User: { Uin: account.uin, UserName: account.userName, NickName: account.nickName },
      Count: contacts.length,
      ContactList: contacts,
      SyncKey: toSyncKeyJson(initKey(account, device)),
      SKey: skey,
      SystemTime: Math.floor(now / 1000),
    });
  }

  /** webwxsync, and the long link's sync: items after the presented key; presenting it acknowledges. */
  *sync(caller: Caller, syncKey: unknown, now: number): Step<Plan<SyncReply | ErrorReply>> {
    return yield* guard(this.syncStep(caller, syncKey, now));
  }

  private *syncStep(caller: Caller, syncKey: unknown, now: number): Step<Plan<SyncReply | ErrorReply>> {
    const auth = yield* this.authenticate(caller, now);
    if ('BaseResponse' in auth) return { writes: [], effects: [], reply: auth };
    const key = parseKey(() => parseSyncKeyJson(syncKey));
    let { account, device } = auth;
    const bad = checkKey(key, account, device);
    if (bad) return fail(bad.ret, bad.msg);

    const writes: Write[] = [];
    const newKey = new Map<number, number>();
    const messages: MessageItem[] = [];
    const contacts: ContactItem[] = [];
    let remaining = this.config.syncLimit;
    const page = new PageBudget(this.config.maxSyncReplyBytes);
    let more = false;
    for (const cat of CATEGORIES) {
      const from = Math.max(key.get(cat) ?? 0, account.floor[cat]);
      const items = ((yield { kind: 'items', uin: account.uin, category: cat, afterSeq: from, limit: remaining + 1 }) as ReadResult['items']);
      // A page ends at syncLimit items or at maxSyncReplyBytes, whichever comes first (always at least one item).
      let n = 0;
      while (n < items.length && n < remaining) {
        if (!page.fits(items[n]!.data)) break;
        n++;
      }
      const taken = items.slice(0, n);
      if (items.length > taken.length) {
        more = true;
      }
      remaining -= taken.length;
      let last = taken.length > 0 ? taken[taken.length - 1]!.seq : from;
      if (this.bugs.has('continue-off-by-one') && items.length > taken.length) last = items[taken.length]!.seq;
      newKey.set(cat, last);
      for (const it of taken) {
        if (it.category === Category.Messages) messages.push(it.data);
        else contacts.push(it.data);
      }
    }

    const presented = perCategory();
    for (const cat of CATEGORIES) presented[cat] = key.get(cat) ?? 0;
    const acked = this.bugs.has('ack-on-fetch') ? { 1: newKey.get(1)!, 2: newKey.get(2)! } : presented;
    writes.push(...this.touch(device, now, acked));
    device = { ...device, acked: maxPer(device.acked, acked) };
    yield* this.prune(account, device, now, writes);
    const skey = this.rotateSkey(auth.session, now, writes, caller);
    const json = toSyncKeyJson(newKey);
    return plan(writes, {
      BaseResponse: OK,
      AddMsgCount: messages.length,
      AddMsgList: messages,
      ModContactCount: contacts.length,
      ModContactList: contacts,
      DelContactCount: 0,
      DelContactList: [],
      SyncKey: json,
      SyncCheckKey: json,
      SKey: skey,
      ContinueFlag: more ? 1 : 0,
    });
  }

  /** synccheck: is there anything after this key? Presenting the key acknowledges it. */
  *syncCheck(query: Readonly<Record<string, string | undefined>>, now: number): Step<Plan<SyncCheckReply>> {
    const answer = (retcode: number): Plan<SyncCheckReply> => ({
      writes: [],
      effects: [],
      reply: { retcode: String(retcode), selector: '0', seq: 0, uin: 0 },
    });
    const uinText = query['uin'] ?? '';
    const uin = /^[0-9]{1,10}$/.test(uinText) ? Number(uinText) : NaN;
    const sid = query['sid'];
    const skey = query['skey'];
    const deviceId = query['deviceid'];
    if (!Number.isInteger(uin) || !sid || skey === undefined || !deviceId || query['synckey'] === undefined) {
      return answer(Ret.BadRequest);
    }
    const auth = yield* this.authenticate({ kind: 'http', base: { Uin: uin, Sid: sid, Skey: skey, DeviceID: deviceId }, checkSkey: true }, now);
    if ('BaseResponse' in auth) return answer(auth.BaseResponse.Ret === Ret.SessionReplaced ? Ret.SessionReplaced : Ret.SessionInvalid);
    let key: SyncKeyMap;
    try {
      key = parseSyncKeyQuery(query['synckey']);
    } catch {
      return answer(Ret.BadRequest);
    }
    const { account, device } = auth;
    const bad = checkKey(key, account, device);
    if (bad && bad.ret !== Ret.Resync) return answer(Ret.BadRequest);
    let selector = 0;
    if (bad) {
      selector = 2; // the sync that follows answers 1200
    } else {
      for (const cat of CATEGORIES) {
        const from = Math.max(key.get(cat) ?? 0, account.floor[cat]);
        const next = ((yield { kind: 'items', uin: account.uin, category: cat, afterSeq: from, limit: 1 }) as ReadResult['items']);
        if (next.length > 0) selector |= cat === Category.Messages ? 2 : 4;
      }
    }
    const presented = perCategory();
    if (!bad) for (const cat of CATEGORIES) presented[cat] = key.get(cat) ?? 0;
    const writes = this.touch(device, now, presented);
    return { writes, effects: [], reply: { retcode: '0', selector: String(selector), seq: account.seq, uin: account.uin } };
  }

  // ---- sending ----

  /** webwxsendmsg `{BaseRequest, Msg}`, or the long link's send `Msg`. */
  *send(caller: Caller, msg: unknown, now: number): Step<Plan<SendReply | ErrorReply>> {
    return yield* guard(this.sendStep(caller, msg, now));
  }

  private *sendStep(caller: Caller, msgIn: unknown, now: number): Step<Plan<SendReply | ErrorReply>> {
    const auth = yield* this.authenticate(caller, now);
    if ('BaseResponse' in auth) return { writes: [], effects: [], reply: auth };
    const m = obj(msgIn, 'Msg');
    const clientMsgId = idString(m, 'ClientMsgId', true)!;
    const localId = idString(m, 'LocalID', false) ?? clientMsgId;
    const sender = auth.account;
    if (m['FromUserName'] !== undefined && m['FromUserName'] !== '' && m['FromUserName'] !== sender.userName) {
      throw new InputError('FromUserName must be your own user name');
    }
    const to = str(m, 'ToUserName', { max: 40 });
    const type = optInt(m, 'Type', 1, 65535, 1);
    if (!MSG_TYPES.has(type)) throw new InputError(`Type ${type} is not a known message type`);
    // The limit is in UTF-8 bytes: only the byte count decides (1105), never the string length.
    const content = str(m, 'Content', { min: 0, max: Number.MAX_SAFE_INTEGER });
    if (utf8Length(content) > this.config.maxContentBytes) {
      return fail(Ret.ContentTooLarge, `Content is larger than ${this.config.maxContentBytes} bytes`);
    }
    // Escaping can grow Content up to sixfold: the stored message must still fit one sync reply.
    if (utf8Length(JSON.stringify(content)) > this.config.maxSyncReplyBytes - MESSAGE_OVERHEAD_BYTES) {
      return fail(Ret.ContentTooLarge, `Content is too large once JSON-encoded (more than ${this.config.maxSyncReplyBytes - MESSAGE_OVERHEAD_BYTES} bytes)`);
    }

    if (!this.bugs.has('skip-dedup')) {
      const seen = ((yield { kind: 'dedup', uin: sender.uin, clientMsgId }) as ReadResult['dedup']);
      if (seen) {
        const writes = this.touch(auth.device, now, auth.device.acked);
        return plan(writes, { BaseResponse: OK, MsgID: seen.msgId, LocalID: seen.localId });
      }
    }

    let targets: number[];
    let group: Group | undefined;
    let recipientAccount: Account | undefined;
    if (to.startsWith('@@')) {
      group = ((yield { kind: 'group', userName: to }) as ReadResult['group']);
      if (!group) return fail(Ret.UnknownRecipient, `no chat room named ${to}`);
      if (!group.members.includes(sender.uin)) return fail(Ret.NotGroupMember, `you are not a member of ${to}`);
      targets = group.members;
    } else {
      const recipient = to === sender.userName ? sender : ((yield { kind: 'accountByName', userName: to }) as ReadResult['accountByName']);
      if (!recipient) return fail(Ret.UnknownRecipient, `no user named ${to}`);
      targets = recipient.uin === sender.uin ? [sender.uin] : [sender.uin, recipient.uin];
      recipientAccount = recipient;
    }

    const msgId = (((yield { kind: 'meta', name: 'nextMsgId' }) as ReadResult['meta'])) + 1;
    const writes: Write[] = [{ kind: 'setMeta', name: 'nextMsgId', value: msgId }];
    let groupSeq = 0;
    if (group) {
      groupSeq = group.seq + 1;
      writes.push({ kind: 'putGroup', group: { ...group, seq: groupSeq } });
    }
    const data: MessageItem = {
      MsgId: msgId,
      NewMsgId: msgId,
      FromUserName: sender.userName,
      ToUserName: to,
      MsgType: type,
      Content: content,
      CreateTime: Math.floor(now / 1000),
      ClientMsgId: clientMsgId,
      Status: 3,
      GroupSeq: groupSeq,
    };
    const appender = new Appender(this, now, writes);
    appender.seed(sender);
    if (recipientAccount) appender.seed(recipientAccount);
    if (group && this.bugs.has('group-order-per-member')) {
      yield* this.buggyGroupFanout(group, targets, data, appender);
    } else {
      for (const uin of targets) yield* appender.append(uin, Category.Messages, data);
    }
    writes.push({ kind: 'putDedup', dedup: { uin: sender.uin, clientMsgId, msgId, localId, createdAt: now } });
    writes.push(...this.touch(auth.device, now, auth.device.acked));
    return { writes, effects: appender.effects(), reply: { BaseResponse: OK, MsgID: msgId, LocalID: localId } };
  }

  private *buggyGroupFanout(group: Group, targets: number[], data: MessageItem, appender: Appender): Step<void> {
    // Odd-indexed members get each message only after the group's next one.
    const deferred = this.deferredFanout.get(group.userName) ?? [];
    const next: LogItem[] = [];
    for (let i = 0; i < targets.length; i++) {
      const uin = targets[i]!;
      if (i % 2 === 1) next.push({ uin, category: 1, seq: 0, createdAt: 0, data });
      else yield* appender.append(uin, Category.Messages, data);
    }
    for (const d of deferred) yield* appender.append(d.uin, Category.Messages, d.data as MessageItem);
    this.deferredFanout.set(group.userName, next);
  }

  // ---- groups and contacts ----

  *createChatRoom(caller: Caller, body: unknown, now: number): Step<Plan<ChatRoomReply | ErrorReply>> {
    return yield* guard(this.createChatRoomStep(caller, body, now));
  }

  private *createChatRoomStep(caller: Caller, body: unknown, now: number): Step<Plan<ChatRoomReply | ErrorReply>> {
    const auth = yield* this.authenticate(caller, now);
    if ('BaseResponse' in auth) return { writes: [], effects: [], reply: auth };
    const b = obj(body, 'request body');
    const list = b['MemberList'];
    if (!Array.isArray(list)) throw new InputError('MemberList must be an array of {UserName}');
    if (b['MemberCount'] !== undefined && b['MemberCount'] !== list.length) throw new InputError('MemberCount does not match MemberList');
    const topic = optStr(b, 'Topic', { min: 0, max: TOPIC_MAX }, '');
    if (list.length + 1 > this.config.maxGroupMembers) {
      return fail(Ret.LimitExceeded, `a chat room has at most ${this.config.maxGroupMembers} members`);
    }
    const creator = auth.account;
    const members: Account[] = [creator];
    for (const entry of list) {
      if (!isObj(entry)) throw new InputError('MemberList entries must be {UserName}');
      const name = str(entry, 'UserName', { max: 32, pattern: USER_NAME_RE });
      if (members.some((a) => a.userName === name)) continue;
      const a = ((yield { kind: 'accountByName', userName: name }) as ReadResult['accountByName']);
      if (!a) return fail(Ret.UnknownRecipient, `no user named ${name}`);
      members.push(a);
    }
    if (members.length < 2) throw new InputError('MemberList must name at least one other user');
    const id = (((yield { kind: 'meta', name: 'nextGroupId' }) as ReadResult['meta'])) + 1;
    const group: Group = {
      userName: `@@${id}`,
      topic,
      ownerUin: creator.uin,
      members: members.map((a) => a.uin),
      seq: 0,
      createdAt: now,
    };
    const writes: Write[] = [{ kind: 'setMeta', name: 'nextGroupId', value: id }, { kind: 'putGroup', group }];
    const contact: ContactItem = {
      UserName: group.userName,
      NickName: topic,
      RemarkName: '',
      MemberList: members.map((a) => a.userName),
      MemberCount: members.length,
    };
    const appender = new Appender(this, now, writes);
    for (const a of members) appender.seed(a);
    for (const a of members) yield* appender.append(a.uin, Category.Contacts, contact);
    writes.push(...this.touch(auth.device, now, auth.device.acked));
    return {
      writes,
      effects: appender.effects(),
      reply: { BaseResponse: OK, ChatRoomName: group.userName, MemberCount: members.length, MemberList: members.map((a) => ({ UserName: a.userName, NickName: a.nickName })) },
    };
  }

  /** webwxoplog CmdId 2: a remark that syncs to the user's other devices (key 2). */
  *oplog(caller: Caller, body: unknown, now: number): Step<Plan<OkReply | ErrorReply>> {
    return yield* guard(this.oplogStep(caller, body, now));
  }

  private *oplogStep(caller: Caller, body: unknown, now: number): Step<Plan<OkReply | ErrorReply>> {
    const auth = yield* this.authenticate(caller, now);
    if ('BaseResponse' in auth) return { writes: [], effects: [], reply: auth };
    const b = obj(body, 'request body');
    const cmd = int(b, 'CmdId', 0, 1000);
    if (cmd !== 2) throw new InputError(`CmdId ${cmd} is not supported (only 2, remark)`);
    const target = str(b, 'UserName', { max: 40 });
    const remarkName = str(b, 'RemarkName', { min: 0, max: REMARK_MAX });
    let contact: ContactItem;
    if (target.startsWith('@@')) {
      const g = ((yield { kind: 'group', userName: target }) as ReadResult['group']);
      if (!g || !g.members.includes(auth.account.uin)) return fail(Ret.UnknownRecipient, `no chat room named ${target}`);
      contact = yield* this.groupContact(g, remarkName);
    } else {
      const a = ((yield { kind: 'accountByName', userName: target }) as ReadResult['accountByName']);
      if (!a) return fail(Ret.UnknownRecipient, `no user named ${target}`);
      contact = { UserName: a.userName, NickName: a.nickName, RemarkName: remarkName, MemberList: [], MemberCount: 0 };
    }
    const writes: Write[] = [{ kind: 'putRemark', remark: { uin: auth.account.uin, target, remarkName } }];
    const appender = new Appender(this, now, writes);
    appender.seed(auth.account);
    yield* appender.append(auth.account.uin, Category.Contacts, contact);
    writes.push(...this.touch(auth.device, now, auth.device.acked));
    return { writes, effects: appender.effects(), reply: { BaseResponse: OK } };
  }

  /**
   * One step of the background retention sweep: the next accounts after
   * `afterUin` that have gone unpruned for sweepAccountIntervalMs are pruned
   * as a sync would. Answers where to go on (0: start over).
   */
  *sweep(afterUin: number, now: number): Step<Plan<{ next: number }>> {
    const accounts = (yield { kind: 'accountsAfter', afterUin, limit: this.config.sweepBatch }) as ReadResult['accountsAfter'];
    const writes: Write[] = [];
    const due = Math.max(this.config.pruneIntervalMs, this.config.sweepAccountIntervalMs);
    for (const a of accounts) {
      if (now - a.lastPrunedAt >= due) yield* this.prune(a, undefined, now, writes);
    }
    const next = accounts.length < this.config.sweepBatch ? 0 : accounts[accounts.length - 1]!.uin;
    return { writes, effects: [], reply: { next } };
  }

  // ---- helpers ----

  /** The next sequence value of an account (a planted bug may use a volatile counter). */
  nextSeq(account: Account): number {
    if (this.bugs.has('volatile-seq')) {
      const s = (this.volatileSeq.get(account.uin) ?? 0) + 1;
      this.volatileSeq.set(account.uin, s);
      return Math.max(s, 1);
    }
    return account.seq + 1;
  }

  private *groupContact(g: Group, remarkName: string): Step<ContactItem> {
    const names: string[] = [];
    for (const uin of g.members) {
      const a = ((yield { kind: 'account', uin }) as ReadResult['account']);
      names.push(a?.userName ?? '');
    }
    return { UserName: g.userName, NickName: g.topic, RemarkName: remarkName, MemberList: names, MemberCount: names.length };
  }

  private *authenticate(caller: Caller, now: number): Step<Auth | ErrorReply> {
    if (caller.kind === 'link') return yield* this.authLink(caller.uin, caller.sid, caller.deviceId, now);
    if (!isObj(caller.base)) return errorReply(Ret.BadRequest, 'BaseRequest is missing or not an object');
    const base: Obj = caller.base;
    const uin = base['Uin'];
    const sid = base['Sid'];
    const deviceId = base['DeviceID'];
    if (typeof uin !== 'number' || typeof sid !== 'string' || typeof deviceId !== 'string') {
      return errorReply(Ret.BadRequest, 'BaseRequest needs Uin (number), Sid and DeviceID (strings)');
    }
    const auth = yield* this.authLink(uin, sid, deviceId, now);
    if ('BaseResponse' in auth || !caller.checkSkey) return auth;
    const skey = base['Skey'];
    if (typeof skey !== 'string' || skey === '' || (skey !== auth.session.skey && skey !== auth.session.prevSkey)) {
      return errorReply(Ret.SessionInvalid, 'unknown or expired session');
    }
    return auth;
  }

  private *authLink(uin: number, sid: string, deviceId: string, now: number): Step<Auth | ErrorReply> {
    const invalid = errorReply(Ret.SessionInvalid, 'unknown or expired session');
    if (sid.length === 0 || sid.length > 64) return invalid;
    const session = ((yield { kind: 'session', sid }) as ReadResult['session']);
    // Another account's Sid answers exactly like an unknown one.
    if (!session || session.uin !== uin || session.deviceId !== deviceId) return invalid;
    if (session.state !== 'active') {
      return errorReply(Ret.SessionReplaced, session.state === 'replaced' ? 'session replaced by a newer login of this device' : 'logged out');
    }
    const device = ((yield { kind: 'device', uin, deviceId }) as ReadResult['device']);
    const account = ((yield { kind: 'account', uin }) as ReadResult['account']);
    if (!device || !account || device.sid !== sid) return invalid;
    if (now - device.lastSeenAt > this.config.sessionTtlMs) return invalid;
    return { session, device, account };
  }

  private isLive(d: Device, now: number): boolean {
    return d.sid !== '' && now - d.lastSeenAt <= this.config.sessionTtlMs;
  }

  /** Device writes for an acknowledgement and a sign of life, only when something changed. */
  private touch(device: Device, now: number, presented: PerCategory): Write[] {
    const acked = maxPer(device.acked, presented);
    const ackMoved = acked[1] !== device.acked[1] || acked[2] !== device.acked[2];
    const stale = now - device.lastSeenAt >= this.config.lastSeenGranularityMs;
    if (!ackMoved && !stale) return [];
    const d: Device = { uin: device.uin, deviceId: device.deviceId, sid: device.sid, prevSid: device.prevSid, acked, createdAt: device.createdAt, lastSeenAt: stale ? now : device.lastSeenAt };
    return [{ kind: 'putDevice', device: d }];
  }

  private rotateSkey(session: Session, now: number, writes: Write[], caller: Caller): string {
    if (caller.kind !== 'http' || now - session.skeyAt < this.config.skeyRotateMs) return session.skey;
    const skey = this.newSkey();
    writes.push({ kind: 'putSession', session: { ...session, skey, prevSkey: session.skey, skeyAt: now } });
    return skey;
  }

  /** Retention for one account: items every live device acknowledged and older than the minimum, or older than the maximum. */
  private *prune(account: Account, self: Device | undefined, now: number, writes: Write[]): Step<void> {
    if (now - account.lastPrunedAt < this.config.pruneIntervalMs) return;
    const devices = (((yield { kind: 'devicesOf', uin: account.uin }) as ReadResult['devicesOf'])).map((d) => (self && d.deviceId === self.deviceId ? self : d));
    const live = devices.filter((d) => this.isLive(d, now));
    const floor = { ...account.floor };
    const itemCount = { ...account.itemCount };
    for (const cat of CATEGORIES) {
      const ackBound = this.bugs.has('prune-unacked') ? Infinity : live.length ? Math.min(...live.map((d) => d.acked[cat])) : 0;
      const items = ((yield { kind: 'items', uin: account.uin, category: cat, afterSeq: floor[cat], limit: this.config.pruneBatch }) as ReadResult['items']);
      let through = floor[cat];
      let n = 0;
      for (const it of items) {
        const old = now - it.createdAt >= this.config.minRetentionMs;
        const tooOld = now - it.createdAt >= this.config.maxRetentionMs;
        if (!((old && it.seq <= ackBound) || tooOld)) break;
        through = it.seq;
        n++;
      }
      if (n > 0) {
        writes.push({ kind: 'pruneItems', uin: account.uin, category: cat, throughSeq: through });
        floor[cat] = through;
        itemCount[cat] -= n;
      }
    }
    writes.push({ kind: 'putAccount', account: withAccount(account, account.seq, floor, itemCount, now) });
    writes.push({ kind: 'pruneDedup', uin: account.uin, before: now - this.config.dedupRetentionMs });
  }

  newSid(): string {
    return Buffer.from(this.deps.random.bytes(16)).toString('base64url');
  }

  private newSkey(): string {
    return Buffer.from(this.deps.random.bytes(24)).toString('hex').toUpperCase();
  }
}

/**
 * Appends items to accounts' logs within one command, keeping each touched
 * account's latest record (a command's reads do not see its own writes).
 */
class Appender {
  private readonly accounts = new Map<number, Account>();
  private readonly selectors = new Map<number, number>();

  constructor(
    private readonly core: ProtocolCore,
    private readonly now: number,
    private readonly writes: Write[],
  ) {}

  seed(a: Account): void {
    if (!this.accounts.has(a.uin)) this.accounts.set(a.uin, a);
  }

  *append(uin: number, category: CategoryId, data: MessageItem | ContactItem): Step<void> {
    let a = this.accounts.get(uin) ?? (((yield { kind: 'account', uin }) as ReadResult['account']));
    if (!a) throw new Error(`account ${uin} vanished`);
    const seq = this.core.nextSeq(a);
    const item = { uin, category, seq, createdAt: this.now, data } as LogItem;
    this.writes.push({ kind: 'appendItem', item });
    // Records are built field by field: spreading frozen records is several times slower on this hot path.
    const itemCount: PerCategory = category === 1 ? { 1: a.itemCount[1] + 1, 2: a.itemCount[2] } : { 1: a.itemCount[1], 2: a.itemCount[2] + 1 };
    let floor = a.floor;
    // Bounded log: over the limit, the oldest item goes (devices behind it get 1200).
    if (itemCount[category] > this.core.config.maxLogItemsPerCategory) {
      const [oldest] = ((yield { kind: 'items', uin, category, afterSeq: floor[category], limit: 1 }) as ReadResult['items']);
      if (oldest) {
        this.writes.push({ kind: 'pruneItems', uin, category, throughSeq: oldest.seq });
        floor = category === 1 ? { 1: oldest.seq, 2: floor[2] } : { 1: floor[1], 2: oldest.seq };
        itemCount[category]--;
      }
    }
    a = withAccount(a, Math.max(a.seq, seq), floor, itemCount, a.lastPrunedAt);
    this.accounts.set(uin, a);
    this.selectors.set(uin, (this.selectors.get(uin) ?? 0) | (category === Category.Messages ? 2 : 4));
  }

  /** The account writes go last so each account is written once. */
  effects(): CoreEffect[] {
    const out: CoreEffect[] = [];
    for (const [uin, selector] of this.selectors) {
      const a = this.accounts.get(uin)!;
      this.writes.push({ kind: 'putAccount', account: a });
      out.push({ kind: 'appended', uin, selector, seq: a.seq });
    }
    return out;
  }
}

/**
 * The bytes of one sync page. Items are counted by a cheap upper bound of
 * their encoded size until the bounds near the budget; from then on by their
 * exact JSON size, so the common small page costs no extra encoding.
 */
class PageBudget {
  private bound = 0;
  private exact = -1;
  private readonly taken: Array<MessageItem | ContactItem> = [];

  constructor(private readonly max: number) {}

  /** Take the item if it fits (the first item always does). */
  fits(data: MessageItem | ContactItem): boolean {
    const b = sizeBound(data);
    if (this.exact < 0 && this.bound + b <= this.max) {
      this.bound += b;
      this.taken.push(data);
      return true;
    }
    if (this.exact < 0) this.exact = this.taken.reduce((sum, d) => sum + encodedSize(d), 0);
    const size = encodedSize(data);
    if (this.exact + size > this.max && this.taken.length > 0) return false;
    this.exact += size;
    this.taken.push(data);
    return true;
  }
}

function encodedSize(data: MessageItem | ContactItem): number {
  return utf8Length(JSON.stringify(data)) + 1;
}

/** At least the encoded size: JSON escaping grows a character to at most 6 bytes. */
function sizeBound(data: MessageItem | ContactItem): number {
  if ('Content' in data) return 6 * (data.Content.length + data.FromUserName.length + data.ToUserName.length + data.ClientMsgId.length) + 256;
  let n = 6 * (data.UserName.length + data.NickName.length + data.RemarkName.length) + 256;
  for (const m of data.MemberList) n += 6 * m.length + 3;
  return n;
}

function withAccount(a: Account, seq: number, floor: PerCategory, itemCount: PerCategory, lastPrunedAt: number): Account {
  return { uin: a.uin, userName: a.userName, nickName: a.nickName, passwordHash: a.passwordHash, createdAt: a.createdAt, seq, floor, itemCount, lastPrunedAt };
}

function initKey(account: Account, device: Device): SyncKeyMap {
  const m: SyncKeyMap = new Map();
  for (const cat of CATEGORIES) m.set(cat, Math.max(device.acked[cat], account.floor[cat]));
  return m;
}

/**
 * The dedup record of a login: keyed apart from every ClientMsgId (which
 * cannot hold ':'), it names the session the login made in `localId`.
 */
function loginDedupKey(deviceId: string, loginId: string): string {
  return `login:${deviceId}:${loginId}`;
}

function maxPer(a: PerCategory, b: PerCategory): PerCategory {
  return { 1: Math.max(a[1], b[1]), 2: Math.max(a[2], b[2]) };
}

function checkKey(key: SyncKeyMap, account: Account, device: Device): { ret: RetCode; msg: string } | undefined {
  for (const cat of CATEGORIES) {
    const v = key.get(cat) ?? 0;
    if (v > account.seq) return { ret: Ret.BadRequest, msg: `SyncKey ${cat}_${v} is ahead of the server` };
    if (v !== 0 && v < account.floor[cat]) return { ret: Ret.Resync, msg: 'resync: call webwxinit again' };
    // Key 0 asks for everything retained; but from a device that has acknowledged
    // nothing and existed when the account was pruned, it may hide a gap: say so.
    if (v === 0 && account.floor[cat] > 0 && device.acked[cat] === 0 && device.createdAt < account.lastPrunedAt) {
      return { ret: Ret.Resync, msg: 'resync: items were pruned since this device logged in; call webwxinit again' };
    }
  }
  return undefined;
}

function parseKey(f: () => SyncKeyMap): SyncKeyMap {
  try {
    return f();
  } catch (e) {
    if (e instanceof WireError) throw new InputError(`SyncKey: ${e.message}`);
    throw e;
  }
}

function plan<R>(writes: Write[], reply: R): Plan<R> {
  return { writes, reply, effects: [] };
}

function fail(ret: RetCode, msg: string): Plan<ErrorReply> {
  return { writes: [], effects: [], reply: errorReply(ret, msg) };
}

/** Bad input becomes its Ret code with nothing written. */
function* guard<R>(step: Step<Plan<R>>): Step<Plan<R | ErrorReply>> {
  try {
    return yield* step;
  } catch (e) {
    if (e instanceof InputError) return fail(e.ret as RetCode, e.message);
    throw e;
  }
}
