// webwxsync (and the long link's sync) and synccheck. Presenting a key
// acknowledges it; fetching alone acknowledges nothing.
import { webContactItem } from './web-contact.ts';
import { parseSyncKeyJson, parseSyncKeyQuery, toSyncKeyJson, type SyncKeyMap } from '../wire/synckey.ts';
import { read, type Step, type Write } from '../store/store-ops.ts';
import { authenticate, type Caller } from './auth.ts';
import type { CoreContext } from './core-context.ts';
import { touch } from './devices.ts';
import { CATEGORIES, Category, Selector, isDeletion, maxPer, perCategory, selectorOf, type ContactItem, type MessageItem } from './model.ts';
import { PageBudget } from './page-budget.ts';
import { fail, plan, refuse, type Plan } from './plan.ts';
import { NO_PROFILE_CHANGE, type DeletedContact, type SyncCheckReply, type SyncReply } from './replies.ts';
import { prune } from './retention.ts';
import { OK, Ret, type ErrorReply, type RetCode } from './ret.ts';
import { rotateSkey } from './session-tokens.ts';
import { checkKey, parseKey } from './sync-keys.ts';

/** Items after the presented key, a page at a time (ContinueFlag 1: more remain). */
export function* sync(ctx: CoreContext, caller: Caller, syncKey: unknown, now: number): Step<Plan<SyncReply | ErrorReply>> {
  const { config, bugs } = ctx;
  const auth = yield* authenticate(config, caller, now);
  if ('BaseResponse' in auth) return refuse(auth);
  const key = parseKey(() => parseSyncKeyJson(syncKey));
  let { account, device } = auth;
  const bad = checkKey(key, account, device);
  if (bad) return fail(bad.ret, bad.msg);

  const writes: Write[] = [];
  const newKey = new Map<number, number>();
  const messages: MessageItem[] = [];
  const contacts: ContactItem[] = [];
  const deleted: DeletedContact[] = [];
  let remaining = config.syncLimit;
  const page = new PageBudget(config.maxSyncReplyBytes);
  let more = false;
  for (const cat of CATEGORIES) {
    const from = Math.max(key.get(cat) ?? 0, account.floor[cat]);
    const items = yield* read({ kind: 'items', uin: account.uin, category: cat, afterSeq: from, limit: remaining + 1 });
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
    if (bugs.has('continue-off-by-one') && items.length > taken.length) last = items[taken.length]!.seq;
    newKey.set(cat, last);
    for (const it of taken) {
      if (it.category === Category.Messages) messages.push(it.data);
      else if (isDeletion(it.data)) deleted.push({ UserName: it.data.UserName, ContactFlag: 0 });
      else contacts.push(it.data);
    }
  }

  const presented = perCategory();
  for (const cat of CATEGORIES) presented[cat] = key.get(cat) ?? 0;
  const acked = bugs.has('ack-on-fetch') ? { 1: newKey.get(Category.Messages)!, 2: newKey.get(Category.Contacts)! } : presented;
  writes.push(...touch(config, device, now, acked));
  device = { ...device, acked: maxPer(device.acked, acked) };
  yield* prune(ctx, account, device, now, writes);
  const skey = rotateSkey(ctx, auth.session, now, writes, caller);
  const json = toSyncKeyJson(newKey);
  const reply: SyncReply = {
    BaseResponse: OK,
    AddMsgCount: messages.length,
    AddMsgList: messages,
    ModContactCount: contacts.length,
    ModContactList: contacts,
    DelContactCount: deleted.length,
    DelContactList: deleted,
    SyncKey: json,
    SyncCheckKey: json,
    SKey: skey,
    ContinueFlag: more ? 1 : 0,
  };
  // The web client reads these; they never carry anything here, so the long link's op 11 goes without them.
  if (caller.kind === 'http') {
    // Room membership comes as the room's ModContactList entry, as the real web service sends it.
    reply.ModContactList = contacts.map(webContactItem);
    reply.ModChatRoomMemberCount = 0;
    reply.ModChatRoomMemberList = [];
    reply.Profile = NO_PROFILE_CHANGE;
  }
  return plan(writes, reply);
}

/** synccheck: is there anything after this key? Presenting the key acknowledges it. */
export function* syncCheck(ctx: CoreContext, query: Readonly<Record<string, string | undefined>>, now: number): Step<Plan<SyncCheckReply>> {
  const answer = (retcode: RetCode): Plan<SyncCheckReply> => ({
    writes: [],
    effects: [],
    reply: { retcode, selector: Selector.None, seq: 0, uin: 0 },
  });
  const uinText = query['uin'] ?? '';
  const uin = /^[0-9]{1,10}$/.test(uinText) ? Number(uinText) : NaN;
  const sid = query['sid'];
  const skey = query['skey'];
  const deviceId = query['deviceid'];
  if (!Number.isInteger(uin) || !sid || skey === undefined || !deviceId || query['synckey'] === undefined) {
    return answer(Ret.BadRequest);
  }
  const auth = yield* authenticate(ctx.config, { kind: 'http', base: { Uin: uin, Sid: sid, Skey: skey, DeviceID: deviceId }, checkSkey: true }, now);
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
  let selector: number = Selector.None;
  if (bad) {
    selector = Selector.Messages; // the sync that follows answers 1200
  } else {
    for (const cat of CATEGORIES) {
      const from = Math.max(key.get(cat) ?? 0, account.floor[cat]);
      const next = yield* read({ kind: 'items', uin: account.uin, category: cat, afterSeq: from, limit: 1 });
      if (next.length > 0) selector |= selectorOf(cat);
    }
  }
  const presented = perCategory();
  if (!bad) for (const cat of CATEGORIES) presented[cat] = key.get(cat) ?? 0;
  const writes = touch(ctx.config, device, now, presented);
  return { writes, effects: [], reply: { retcode: Ret.Ok, selector, seq: account.seq, uin: account.uin } };
}
