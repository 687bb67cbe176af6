// webwxsendmsg, and the long link's send: one message appended to the logs of
// the sender (the multi-device echo) and of each recipient, deduplicated per
// (sender, ClientMsgId) so that a retry gets the first answer. A send is
// refused, with nothing stored, past the sender's quota (1111), past a
// stranger's limits at its recipient (1110, 1111), or when a log it goes to
// is full (1110).
import { isMediaId, ownedMedia } from '../media/media-id.ts';
import { read, type PeerLinks, type Step, type Write } from '../store/store-ops.ts';
import { Appender } from './appender.ts';
import { authenticate, type Caller } from './auth.ts';
import type { CoreContext } from './core-context.ts';
import { touch } from './devices.ts';
import { Field } from './field-rules.ts';
import {
  Category,
  MessageStatus,
  MsgType,
  USER_MSG_TYPES,
  isGroupName,
  unixSeconds,
  type Account,
  type Group,
  type LogItem,
  type MessageItem,
} from './model.ts';
import { fail, plan, refuse, type Plan } from './plan.ts';
import { takeFanoutQuota, takeSendQuota } from './rate-limits.ts';
import type { SendReply } from './replies.ts';
import { OK, Ret, type ErrorReply } from './ret.ts';
import { admitDirect, notePeer, peerLinks } from './strangers.ts';
import { InputError, idString, obj, optInt, str, utf8Length } from './validate.ts';

/** The fields of a stored message besides Content, JSON-encoded, with room to spare. */
const MESSAGE_OVERHEAD_BYTES = 1024;
/** The appmsg type of a file attachment, which webwxsendappmsg sends as Msg.Type. */
const APP_MSG_FILE = 6;
/** MsgType is a 16-bit number. */
const MSG_TYPE_MAX = 0xffff;

/**
 * How a media message is sent: webwxsendmsgimg takes Type 3, webwxsendappmsg
 * Type 6 (the web client's appmsg type, an attachment), stored as MsgType 49,
 * webwxsendvideomsg Type 43 and webwxsendemoticon Type 47.
 */
export type MediaSend = 'image' | 'app' | 'video' | 'emoticon';

/** The Msg.Type each media endpoint takes. */
const MEDIA_TYPE: Readonly<Record<MediaSend, number>> = { image: MsgType.Image, app: APP_MSG_FILE, video: MsgType.Video, emoticon: MsgType.Emoticon };

/** `msgIn` is webwxsendmsg's `Msg`, or the long link's send body; `media`: a media send's kind. */
export function* send(ctx: CoreContext, caller: Caller, msgIn: unknown, now: number, media?: MediaSend): Step<Plan<SendReply | ErrorReply>> {
  const { config, bugs } = ctx;
  const auth = yield* authenticate(config, caller, now);
  if ('BaseResponse' in auth) return refuse(auth);
  const m = obj(msgIn, 'Msg');
  const clientMsgId = idString(m, 'ClientMsgId', true)!;
  const localId = idString(m, 'LocalID', false) ?? clientMsgId;
  const sender = auth.account;
  if (m['FromUserName'] !== undefined && m['FromUserName'] !== '' && m['FromUserName'] !== sender.userName) {
    throw new InputError('FromUserName must be your own user name');
  }
  const to = str(m, 'ToUserName', Field.contactName);
  let type = optInt(m, 'Type', 1, MSG_TYPE_MAX, MsgType.Text);
  const mediaId = media ? mediaIdOf(m, media, type) : undefined;
  if (media === 'app') type = MsgType.App;
  if (type === MsgType.System) throw new InputError(`Type ${type} (a system notice) is sent by the server only`);
  if (!USER_MSG_TYPES.has(type)) throw new InputError(`Type ${type} is not a known message type`);
  // The limit is in UTF-8 bytes: only the byte count decides (1105), never the string length.
  const content = str(m, 'Content', Field.content);
  const bytes = utf8Length(content);
  if (bytes > config.maxContentBytes) {
    return fail(Ret.ContentTooLarge, `Content is larger than ${config.maxContentBytes} bytes`);
  }
  // Escaping can grow Content up to sixfold: the stored message must still fit one sync reply.
  if (utf8Length(JSON.stringify(content)) > config.maxSyncReplyBytes - MESSAGE_OVERHEAD_BYTES) {
    return fail(Ret.ContentTooLarge, `Content is too large once JSON-encoded (more than ${config.maxSyncReplyBytes - MESSAGE_OVERHEAD_BYTES} bytes)`);
  }

  if (!bugs.has('skip-dedup')) {
    const seen = yield* read({ kind: 'dedup', uin: sender.uin, clientMsgId });
    if (seen) {
      const writes = touch(config, auth.device, now, auth.device.acked);
      return plan(writes, { BaseResponse: OK, MsgID: seen.msgId, LocalID: seen.localId });
    }
  }
  // After the dedup check (a retry is free), before anything else is looked up.
  if (mediaId !== undefined) {
    // Unknown and another account's look alike: a MediaId seen in transit is no permission.
    const owned = ownedMedia(yield* read({ kind: 'media', mediaId }), sender.uin);
    if ('code' in owned) return fail(owned.ret, owned.message);
  }
  const limited = takeSendQuota(ctx.quotas, sender.uin, bytes, now);
  if (limited) return refuse(limited);

  let targets: number[];
  let group: Group | undefined;
  let recipientAccount: Account | undefined;
  let links: PeerLinks | undefined;
  if (isGroupName(to)) {
    group = yield* read({ kind: 'group', userName: to });
    if (!group) return fail(Ret.UnknownRecipient, `no chat room named ${to}`);
    if (!group.members.includes(sender.uin)) return fail(Ret.NotGroupMember, `you are not a member of ${to}`);
    targets = group.members;
    // A room message costs a log item per member: its fan-out has a quota of its own.
    const fanout = takeFanoutQuota(ctx.quotas, sender.uin, targets.length, now);
    if (fanout) return refuse(fanout);
  } else {
    const recipient = to === sender.userName ? sender : yield* read({ kind: 'accountByName', userName: to });
    if (!recipient) return fail(Ret.UnknownRecipient, `no user named ${to}`);
    targets = recipient.uin === sender.uin ? [sender.uin] : [sender.uin, recipient.uin];
    recipientAccount = recipient;
    if (recipient.uin !== sender.uin) {
      links = yield* peerLinks(sender, recipient);
      const refused = yield* admitDirect(ctx, sender, recipient, links, now);
      if (refused) return refuse(refused);
    }
  }

  const msgId = (yield* read({ kind: 'meta', name: 'nextMsgId' })) + 1;
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
    CreateTime: unixSeconds(now),
    ClientMsgId: clientMsgId,
    Status: MessageStatus.Delivered,
    GroupSeq: groupSeq,
  };
  if (mediaId !== undefined) data.MediaId = mediaId;
  const appender = new Appender(ctx, now, writes);
  appender.seed(sender);
  if (recipientAccount) appender.seed(recipientAccount);
  if (group && bugs.has('group-order-per-member')) {
    yield* buggyGroupFanout(ctx, group, targets, data, appender);
  } else {
    for (const uin of targets) {
      if (!(yield* appender.append(uin, Category.Messages, data))) return fail(Ret.MailboxFull, fullMessage(uin, sender, recipientAccount, to));
    }
  }
  if (recipientAccount && links) notePeer(sender, recipientAccount, links, writes);
  writes.push({ kind: 'putDedup', dedup: { uin: sender.uin, clientMsgId, msgId, localId, createdAt: now } });
  writes.push(...touch(config, auth.device, now, auth.device.acked));
  return { writes, effects: appender.effects(), reply: { BaseResponse: OK, MsgID: msgId, LocalID: localId } };
}

function mediaIdOf(m: Record<string, unknown>, media: MediaSend, type: number): string {
  const want = MEDIA_TYPE[media];
  if (type !== want) throw new InputError(`Type must be ${want} for this endpoint`);
  const id = m['MediaId'];
  if (!isMediaId(id)) throw new InputError('MEDIA_UNKNOWN: MediaId is missing or not a MediaId');
  return id;
}

/** The 1110 of a send whose log `uin` is full. */
function fullMessage(uin: number, sender: Account, recipient: Account | undefined, to: string): string {
  if (uin === sender.uin) return 'your own message log is full of items your devices have not synced yet; sync them, then try again';
  const whose = recipient ? recipient.userName : `a member of ${to}`;
  return `the mailbox of ${whose} is full; try again later`;
}

/** The group-order-per-member planted bug's fan-out. */
function* buggyGroupFanout(ctx: CoreContext, group: Group, targets: number[], data: MessageItem, appender: Appender): Step<void> {
  const deferredFanout = ctx.bugState.deferredFanout;
  // Odd-indexed members get each message only after the group's next one.
  const deferred = deferredFanout.get(group.userName) ?? [];
  const next: LogItem[] = [];
  for (let i = 0; i < targets.length; i++) {
    const uin = targets[i]!;
    if (i % 2 === 1) next.push({ uin, category: Category.Messages, seq: 0, createdAt: 0, data });
    else yield* appender.append(uin, Category.Messages, data);
  }
  for (const d of deferred) yield* appender.append(d.uin, Category.Messages, d.data as MessageItem);
  deferredFanout.set(group.userName, next);
}
