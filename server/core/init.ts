// webwxinit: the user, its contacts (chat rooms and remarks) and the key to
// sync from; an HTTP caller may get a new Skey.
import { toSyncKeyJson } from '../wire/synckey.ts';
import { read, type Step } from '../store/store-ops.ts';
import { authenticate, type Caller } from './auth.ts';
import type { CoreContext } from './core-context.ts';
import { touch } from './devices.ts';
import { groupContact } from './groups.ts';
import { isGroupName, unixSeconds, type ContactItem } from './model.ts';
import { plan, refuse, type Plan } from './plan.ts';
import type { InitReply } from './replies.ts';
import { OK, type ErrorReply } from './ret.ts';
import { rotateSkey } from './session-tokens.ts';
import { initKey } from './sync-keys.ts';

export function* init(ctx: CoreContext, caller: Caller, now: number): Step<Plan<InitReply | ErrorReply>> {
  const { config } = ctx;
  const auth = yield* authenticate(config, caller, now);
  if ('BaseResponse' in auth) return refuse(auth);
  const { account, device } = auth;
  const groups = yield* read({ kind: 'groupsOf', uin: account.uin, limit: config.maxInitContacts });
  const remarks = yield* read({ kind: 'remarksOf', uin: account.uin, limit: config.maxInitContacts });
  const contacts: ContactItem[] = [];
  for (const g of groups) contacts.push(yield* groupContact(g, ''));
  for (const r of remarks) {
    if (contacts.length >= config.maxInitContacts) break;
    const target = isGroupName(r.target) ? undefined : yield* read({ kind: 'accountByName', userName: r.target });
    const found = contacts.find((c) => c.UserName === r.target);
    if (found) found.RemarkName = r.remarkName;
    else contacts.push({ UserName: r.target, NickName: target?.nickName ?? '', RemarkName: r.remarkName, MemberList: [], MemberCount: 0 });
  }
  const writes = touch(config, device, now, device.acked);
  const skey = rotateSkey(ctx, auth.session, now, writes, caller);
  return plan(writes, {
    BaseResponse: OK,
    User: { Uin: account.uin, UserName: account.userName, NickName: account.nickName },
    Count: contacts.length,
    ContactList: contacts,
    SyncKey: toSyncKeyJson(initKey(account, device)),
    SKey: skey,
    SystemTime: unixSeconds(now),
  });
}
