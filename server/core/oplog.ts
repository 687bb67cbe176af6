// webwxoplog: what a user sets on one of its contacts, kept in its record for
// that contact (a Remark) and synced to its own devices as the contact's item
// (key 2). CmdId 2 sets the remark (`RemarkName`), CmdId 3 pins the contact to
// the top of the chat list or unpins it (`OP` 1 or 0); each keeps what the
// other set.
import { read, type Step, type Write } from '../store/store-ops.ts';
import { Appender } from './appender.ts';
import { authenticate, type Caller } from './auth.ts';
import { contactItem, memberNames } from './contact-items.ts';
import type { CoreContext } from './core-context.ts';
import { touch } from './devices.ts';
import { Field } from './field-rules.ts';
import { Category, isGroupName, type ContactItem, type Remark } from './model.ts';
import { fail, refuse, type Plan } from './plan.ts';
import type { OkReply } from './replies.ts';
import { OK, Ret, type ErrorReply } from './ret.ts';
import { InputError, int, obj, str } from './validate.ts';

/** webwxoplog's CmdId: a remark, a pin. */
const OplogCmd = { Remark: 2, Pin: 3 } as const;
const OPLOG_CMD_MAX = 1000;
/** CmdId 3's OP: unpin, pin. */
const PIN_OFF = 0;
const PIN_ON = 1;

export function* oplog(ctx: CoreContext, caller: Caller, body: unknown, now: number): Step<Plan<OkReply | ErrorReply>> {
  const auth = yield* authenticate(ctx.config, caller, now);
  if ('BaseResponse' in auth) return refuse(auth);
  const me = auth.account;
  const b = obj(body, 'request body');
  const cmd = int(b, 'CmdId', 0, OPLOG_CMD_MAX);
  if (cmd !== OplogCmd.Remark && cmd !== OplogCmd.Pin) {
    throw new InputError(`CmdId ${cmd} is not supported (${OplogCmd.Remark}: remark, ${OplogCmd.Pin}: pin)`);
  }
  const target = str(b, 'UserName', Field.contactName);
  // A pin's RemarkName (the web client sends '') is ignored: it never clears the remark.
  const remarkName = cmd === OplogCmd.Remark ? str(b, 'RemarkName', Field.remarkName) : undefined;
  const pin = cmd === OplogCmd.Pin ? int(b, 'OP', PIN_OFF, PIN_ON) === PIN_ON : undefined;

  let nickName: string;
  let names: string[] = [];
  if (isGroupName(target)) {
    const g = yield* read({ kind: 'group', userName: target });
    if (!g || !g.members.includes(me.uin)) return fail(Ret.UnknownRecipient, `no chat room named ${target}`);
    nickName = g.topic;
    names = yield* memberNames(g);
  } else {
    const a = yield* read({ kind: 'accountByName', userName: target });
    if (!a) return fail(Ret.UnknownRecipient, `no user named ${target}`);
    nickName = a.nickName;
  }
  const prev = yield* read({ kind: 'remark', uin: me.uin, target });
  const remark: Remark = { uin: me.uin, target, remarkName: remarkName ?? prev?.remarkName ?? '' };
  if (pin ?? prev?.pinned) remark.pinned = true;
  const contact: ContactItem = contactItem(target, nickName, names, remark, pin !== undefined);

  const writes: Write[] = [{ kind: 'putRemark', remark }];
  const appender = new Appender(ctx, now, writes);
  appender.seed(me);
  if (!(yield* appender.append(me.uin, Category.Contacts, contact))) {
    return fail(Ret.MailboxFull, 'your contact log is full of changes your devices have not synced yet; sync them, then try again');
  }
  writes.push(...touch(ctx.config, auth.device, now, auth.device.acked));
  return { writes, effects: appender.effects(), reply: { BaseResponse: OK } };
}
