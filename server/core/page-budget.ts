// How many bytes of items one sync page may carry (maxSyncReplyBytes): a
// reply must fit one long-link packet.
import { isDeletion, type ContactDeletion, type ContactItem, type MessageItem } from './model.ts';
import { utf8Length } from './validate.ts';

/**
 * The bytes of one sync page. Items are counted by a cheap upper bound of
 * their encoded size until the bounds near the budget; from then on by their
 * exact JSON size, so the common small page costs no extra encoding.
 */
export class PageBudget {
  private bound = 0;
  private exact = -1;
  private readonly taken: Array<MessageItem | ContactItem | ContactDeletion> = [];

  constructor(private readonly max: number) {}

  /** Take the item if it fits (the first item always does). */
  fits(data: MessageItem | ContactItem | ContactDeletion): boolean {
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

/** An item's JSON size in a list: its encoding and a separating comma. */
function encodedSize(data: MessageItem | ContactItem | ContactDeletion): number {
  return utf8Length(JSON.stringify(data)) + 1;
}

/** JSON escaping grows a character to at most this many bytes. */
const MAX_ESCAPED_CHAR_BYTES = 6;
/** Room for an item's field names, numbers and punctuation. */
const ITEM_FRAME_BYTES = 256;
/** A member name's quotes and comma. */
const MEMBER_FRAME_BYTES = 3;

/** At least the encoded size. */
function sizeBound(data: MessageItem | ContactItem | ContactDeletion): number {
  if ('Content' in data) return MAX_ESCAPED_CHAR_BYTES * (data.Content.length + data.FromUserName.length + data.ToUserName.length + data.ClientMsgId.length) + ITEM_FRAME_BYTES;
  if (isDeletion(data)) return MAX_ESCAPED_CHAR_BYTES * data.UserName.length + ITEM_FRAME_BYTES;
  let n = MAX_ESCAPED_CHAR_BYTES * (data.UserName.length + data.NickName.length + data.RemarkName.length) + ITEM_FRAME_BYTES;
  for (const m of data.MemberList) n += MAX_ESCAPED_CHAR_BYTES * m.length + MEMBER_FRAME_BYTES;
  return n;
}
