// webwxstatusnotify: the web client tells the server it started (Code 3,
// after webwxinit) or that the user opened or read a chat (Code 1, 2, 4, 5).
// This server keeps no read state (every message has Status 3) and tells no
// other device, so it checks the request, counts it as the session's use and
// answers Ok; no message is made, so MsgID is "0".
import type { Step } from '../store/store-ops.ts';
import { authenticate, type Caller } from './auth.ts';
import type { CoreContext } from './core-context.ts';
import { touch } from './devices.ts';
import { Field } from './field-rules.ts';
import { plan, refuse, type Plan } from './plan.ts';
import type { StatusNotifyReply } from './replies.ts';
import { OK, type ErrorReply } from './ret.ts';
import { InputError, idString, int, obj, str } from './validate.ts';

/** The Codes the web client sends: 1 read, 2 enter a chat, 3 init, 4 sync the chat list, 5 leave a chat. */
const CODE_MIN = 1;
const CODE_MAX = 5;

export function* statusNotify(ctx: CoreContext, caller: Caller, body: unknown, now: number): Step<Plan<StatusNotifyReply | ErrorReply>> {
  const auth = yield* authenticate(ctx.config, caller, now);
  if ('BaseResponse' in auth) return refuse(auth);
  const b = obj(body, 'request body');
  int(b, 'Code', CODE_MIN, CODE_MAX);
  const from = b['FromUserName'];
  if (from !== undefined && from !== '' && from !== auth.account.userName) throw new InputError('FromUserName must be your own user name');
  str(b, 'ToUserName', Field.contactName);
  idString(b, 'ClientMsgId', false);
  return plan(touch(ctx.config, auth.device, now, auth.device.acked), { BaseResponse: OK, MsgID: '0' });
}
