// Ret codes: the stable answers of the protocol core. Transports map them to
// synccheck retcodes and long-link disconnects; docs/protocol.md and docs/errors.md list them.
export const Ret = {
  Ok: 0,
  ServerError: 1,
  Busy: 2,
  SessionInvalid: 1100,
  SessionReplaced: 1101,
  BadRequest: 1102,
  AuthFailed: 1103,
  UserNameTaken: 1104,
  ContentTooLarge: 1105,
  UnknownRecipient: 1106,
  NotGroupMember: 1107,
  LimitExceeded: 1108,
  /** The same device opened a newer long link; this one closes (not a session change). */
  LinkReplaced: 1109,
  /**
   * A recipient's log holds as much as it may (maxLogItemsPerCategory, or
   * maxStrangerBacklog for a stranger's message): nothing was stored; retry later.
   */
  MailboxFull: 1110,
  /** A send quota was used up; ErrMsg ends `retry after <ms> ms`. Nothing was stored. */
  RateLimited: 1111,
  /**
   * Too many failed logins from this address or for this account, or too many
   * registrations from this address: nothing was hashed or stored; ErrMsg ends
   * `retry after <ms> ms`, after which a correct password works again.
   */
  TooManyAttempts: 1112,
  Resync: 1200,
} as const;

export type RetCode = (typeof Ret)[keyof typeof Ret];

export interface BaseResponse {
  Ret: number;
  ErrMsg: string;
}

export const OK: BaseResponse = Object.freeze({ Ret: Ret.Ok, ErrMsg: '' });

export function baseError(ret: RetCode, errMsg: string): BaseResponse {
  return { Ret: ret, ErrMsg: errMsg };
}

/** A failed command: the core answers `{BaseResponse}` and writes nothing. */
export interface ErrorReply {
  BaseResponse: BaseResponse;
}

export function errorReply(ret: RetCode, errMsg: string): ErrorReply {
  return { BaseResponse: baseError(ret, errMsg) };
}
