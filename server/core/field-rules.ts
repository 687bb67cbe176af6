// The rules of request fields that commands check. A rule with patternText
// names the pattern in its error; the others name the regular expression.
import type { StrRule } from './validate.ts';

/** Account numbers are unsigned 32-bit. */
export const MAX_UIN = 0xffffffff;
/** A Sid longer than this is no Sid of ours. */
export const SID_MAX = 64;

const USER_NAME_MAX = 32;
const DEVICE_ID_MAX = 64;
const USER_NAME_PATTERN = `[A-Za-z0-9_-]{1,${USER_NAME_MAX}}`;
const DEVICE_ID_PATTERN = `[A-Za-z0-9_-]{1,${DEVICE_ID_MAX}}`;
const USER_NAME_RE = new RegExp(`^${USER_NAME_PATTERN}$`);
const DEVICE_ID_RE = new RegExp(`^${DEVICE_ID_PATTERN}$`);

export const Field = {
  userName: { max: USER_NAME_MAX, pattern: USER_NAME_RE, patternText: USER_NAME_PATTERN },
  /** A user name in a chat room's MemberList. */
  memberName: { max: USER_NAME_MAX, pattern: USER_NAME_RE },
  password: { min: 1, max: 128 },
  nickName: { min: 0, max: 64 },
  deviceId: { max: DEVICE_ID_MAX, pattern: DEVICE_ID_RE, patternText: DEVICE_ID_PATTERN },
  /** The DeviceID of a long-link resume. */
  resumeDeviceId: { max: DEVICE_ID_MAX, pattern: DEVICE_ID_RE },
  sid: { max: SID_MAX },
  /** A user or a chat room: ToUserName, oplog's UserName. */
  contactName: { max: 40 },
  /** webwxbatchgetcontact's EncryChatRoomId: the room a member was seen in ('' for none). */
  encryChatRoomId: { min: 0, max: 40 },
  topic: { min: 0, max: 64 },
  remarkName: { min: 0, max: 64 },
  /** Any length: Content is limited in UTF-8 bytes (maxContentBytes), never in string length. */
  content: { min: 0, max: Number.MAX_SAFE_INTEGER },
} as const satisfies Record<string, StrRule>;
