// The store boundary as data. The protocol core never calls a store: it
// yields Reads and returns Writes, and the shell (a command runner) answers
// the reads and commits the writes. A synchronous store answers at once; an
// asynchronous one (PostgreSQL, a later issue) awaits each read in its driver,
// and the core does not change.
import type {
  Account,
  CategoryId,
  DedupRecord,
  Device,
  Group,
  LogItem,
  MetaName,
  Remark,
  Session,
} from '../core/model.ts';
import type { MediaRecord } from '../media/media-id.ts';

export type Read =
  | { kind: 'account'; uin: number }
  | { kind: 'accountByName'; userName: string }
  /** Accounts with uin > afterUin, in uin order: the retention sweep walks them. */
  | { kind: 'accountsAfter'; afterUin: number; limit: number }
  | { kind: 'session'; sid: string }
  | { kind: 'device'; uin: number; deviceId: string }
  | { kind: 'devicesOf'; uin: number }
  | { kind: 'dedup'; uin: number; clientMsgId: string }
  | { kind: 'group'; userName: string }
  | { kind: 'groupsOf'; uin: number; limit: number }
  | { kind: 'remarksOf'; uin: number; limit: number }
  /** What `uin` set on one contact (its remark, its pin). */
  | { kind: 'remark'; uin: number; target: string }
  /** The chat rooms `uin` is a member of whose numeric id is above `afterId`, by id: webwxgetcontact pages them. */
  | { kind: 'roomsAfter'; uin: number; afterId: number; limit: number }
  /** The accounts `uin` sent a direct message to, uins above `afterUin`, ascending. */
  | { kind: 'peersAfter'; uin: number; afterUin: number; limit: number }
  /** `uin`'s remarks (and pins) of existing users, not rooms, whose uin is above `afterUin`, by that uin. */
  | { kind: 'remarkedAfter'; uin: number; afterUin: number; limit: number }
  /** Whether `a` ever sent `b` a direct message, and `b` `a` (who is a stranger to whom). */
  | { kind: 'peers'; a: number; b: number }
  /** Whether `member` is in a chat room that `owner` created. */
  | { kind: 'inRoomOf'; member: number; owner: number }
  /** Items with seq > afterSeq, oldest first. */
  | { kind: 'items'; uin: number; category: CategoryId; afterSeq: number; limit: number }
  | { kind: 'meta'; name: MetaName }
  | { kind: 'media'; mediaId: string }
  /** The record of a finished upload, by the uploader's id for it. */
  | { kind: 'mediaByClient'; uin: number; clientMediaId: string }
  /** Sum of the sizes of the account's media records (its quota's stored bytes). */
  | { kind: 'mediaBytes'; uin: number }
  /**
   * Whether the account's message log holds a message with this MsgId (its
   * MediaId, '' if it has none, else undefined) or with this MediaId (that
   * MediaId): who may fetch a message's media.
   */
  | { kind: 'logMedia'; uin: number; msgId: number }
  | { kind: 'logHasMedia'; uin: number; mediaId: string };

export interface ReadResult {
  account: Account | undefined;
  accountByName: Account | undefined;
  accountsAfter: Account[];
  session: Session | undefined;
  device: Device | undefined;
  devicesOf: Device[];
  dedup: DedupRecord | undefined;
  group: Group | undefined;
  groupsOf: Group[];
  remarksOf: Remark[];
  remark: Remark | undefined;
  roomsAfter: Group[];
  peersAfter: number[];
  remarkedAfter: RemarkedUser[];
  peers: PeerLinks;
  inRoomOf: boolean;
  items: LogItem[];
  meta: number;
  media: MediaRecord | undefined;
  mediaByClient: MediaRecord | undefined;
  mediaBytes: number;
  logMedia: string | undefined;
  logHasMedia: boolean;
}

/** A remark of a user, with the user's uin (the order of a `remarkedAfter` read). */
export interface RemarkedUser {
  uin: number;
  remark: Remark;
}

/** The direct messages between two accounts, each way: the answer of a `peers` read. */
export interface PeerLinks {
  aToB: boolean;
  bToA: boolean;
}

export type Write =
  | { kind: 'putAccount'; account: Account }
  | { kind: 'putSession'; session: Session }
  /** Forget a session that ended two logins ago, or whose device is gone. */
  | { kind: 'deleteSession'; sid: string }
  | { kind: 'putDevice'; device: Device }
  /** Forget a device that is gone (its sessions are deleted by their own writes). */
  | { kind: 'deleteDevice'; uin: number; deviceId: string }
  /** `uin` sent `peer` a direct message: from then on `peer` is no stranger to `uin`. */
  | { kind: 'putPeer'; uin: number; peer: number }
  | { kind: 'putDedup'; dedup: DedupRecord }
  | { kind: 'putGroup'; group: Group }
  | { kind: 'putRemark'; remark: Remark }
  | { kind: 'appendItem'; item: LogItem }
  /** Delete items of (uin, category) with seq <= throughSeq. */
  | { kind: 'pruneItems'; uin: number; category: CategoryId; throughSeq: number }
  /** Delete dedup records of uin created before `before`. */
  | { kind: 'pruneDedup'; uin: number; before: number }
  | { kind: 'setMeta'; name: MetaName; value: number }
  /** A finished upload; a second record for (ownerUin, clientMediaId) or the same mediaId throws. */
  | { kind: 'putMedia'; media: MediaRecord };

/** A command: yields Reads, is handed each one's result, returns T. */
export type Step<T> = Generator<Read, T, unknown>;

/**
 * One read, typed by its kind: `const a = yield* read({ kind: 'account', uin })`.
 * An iterator object rather than a generator function: reads are the core's
 * hot path, and delegating to this costs about half as much (measured).
 */
export function read<R extends Read>(r: R): ReadStep<ReadResult[R['kind']]> {
  return new ReadStep(r);
}

/** Yields its read once, then returns what the driver answered. */
class ReadStep<T> implements Iterator<Read, T, unknown> {
  private asked = false;

  constructor(private readonly r: Read) {}

  [Symbol.iterator](): this {
    return this;
  }

  next(answer?: unknown): IteratorResult<Read, T> {
    if (this.asked) return { done: true, value: answer as T };
    this.asked = true;
    return { done: false, value: this.r };
  }

  /** A driver that fails the read (an asynchronous store) raises the error at the yield*, as a generator would. */
  throw(e?: unknown): IteratorResult<Read, T> {
    throw e;
  }
}
