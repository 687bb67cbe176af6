// The contact items of key 2 (ModContactList, webwxinit's ContactList) as
// this server has always written them: `{UserName, NickName, RemarkName,
// MemberList, MemberCount}`, a room's members by user name. Each is the view
// of the log's owner: its remark, and ContactFlag once it pinned the contact.
import { read, type Step } from '../store/store-ops.ts';
import type { ContactItem, Group, Remark } from './model.ts';
import { contactFlagOf } from './web-contact.ts';

/**
 * `pinOp`: the item of a pin or unpin (webwxoplog CmdId 3), which carries
 * ContactFlag either way; other items carry it only while pinned, so the
 * items of contacts never pinned keep their five fields.
 */
export function contactItem(userName: string, nickName: string, memberNames: string[], remark: Remark | undefined, pinOp = false): ContactItem {
  const c: ContactItem = { UserName: userName, NickName: nickName, RemarkName: remark?.remarkName ?? '', MemberList: memberNames, MemberCount: memberNames.length };
  if (remark?.pinned || pinOp) c.ContactFlag = contactFlagOf(userName, true, remark);
  return c;
}

/** A room's members by user name, in join order ('' for an account gone from the store). */
export function* memberNames(g: Group): Step<string[]> {
  const names: string[] = [];
  for (const uin of g.members) {
    const a = yield* read({ kind: 'account', uin });
    names.push(a?.userName ?? '');
  }
  return names;
}
