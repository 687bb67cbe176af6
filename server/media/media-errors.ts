// The stable error codes of media upload and fetch. A refusal's ErrMsg starts
// with its code (`MEDIA_CHUNK_CONFLICT: ...`), the way the transports' codes
// do (HTTP_BODY_TIMEOUT, LINK_...): clients and tests match the code, never
// the prose after it. Each code carries the Ret it answers with, reusing the
// project's Ret numbers so no client learns a new one.
import { Ret, errorReply, type ErrorReply, type RetCode } from '../core/ret.ts';

export const MEDIA_ERRORS = {
  /** Not multipart/form-data, or no boundary. */
  MEDIA_NOT_MULTIPART: Ret.BadRequest,
  /** The body ended (or the connection closed) before the closing boundary. */
  MEDIA_BODY_CUT_SHORT: Ret.BadRequest,
  /** The multipart framing itself is broken (a bad part header). */
  MEDIA_MALFORMED: Ret.BadRequest,
  /** More fields or parts than an upload form has, or a second file. */
  MEDIA_TOO_MANY_PARTS: Ret.BadRequest,
  /** A field value over maxFieldBytes. */
  MEDIA_FIELD_TOO_LARGE: Ret.BadRequest,
  /** A field given twice. */
  MEDIA_FIELD_REPEATED: Ret.BadRequest,
  /** No uploadmediarequest field before the file part. */
  MEDIA_NO_REQUEST: Ret.BadRequest,
  /** uploadmediarequest is not a JSON object. */
  MEDIA_BAD_JSON: Ret.BadRequest,
  /** A field of the form or of uploadmediarequest is missing or malformed. */
  MEDIA_BAD_REQUEST: Ret.BadRequest,
  /** The form has no file part. */
  MEDIA_NO_FILE: Ret.BadRequest,
  /** A file name that is empty, too long, or holds a path separator, NUL or a control character. */
  MEDIA_BAD_NAME: Ret.BadRequest,
  /** TotalLen over maxFileBytes. */
  MEDIA_TOO_LARGE: Ret.ContentTooLarge,
  /** A file part over chunkBytes. */
  MEDIA_CHUNK_TOO_LARGE: Ret.ContentTooLarge,
  /** A chunk that reaches past TotalLen. */
  MEDIA_CHUNK_BEYOND_END: Ret.BadRequest,
  /** The file part is shorter or longer than the place it claims. */
  MEDIA_CHUNK_LENGTH: Ret.BadRequest,
  /** A chunk overlapping bytes already received, with different bytes. */
  MEDIA_CHUNK_CONFLICT: Ret.BadRequest,
  /** The chunk would leave the upload in more than maxRangesPerUpload separate ranges. */
  MEDIA_FRAGMENTED: Ret.BadRequest,
  /** A chunk overlapping one still being received: retry when that one is answered. */
  MEDIA_CHUNK_BUSY: Ret.Busy,
  /** A ClientMediaId already uploading with another TotalLen or FileMd5. */
  MEDIA_UPLOAD_MISMATCH: Ret.BadRequest,
  /** Every byte arrived but their MD5 is not FileMd5: the upload is dropped. */
  MEDIA_MD5_MISMATCH: Ret.BadRequest,
  /** The account's stored and in-progress bytes would pass maxStoredBytesPerAccount. */
  MEDIA_QUOTA: Ret.LimitExceeded,
  /** The account has maxUploadsPerAccount uploads (or maxInProgressBytesPerAccount bytes) in progress. */
  MEDIA_TOO_MANY_UPLOADS: Ret.LimitExceeded,
  /** The server holds maxUploads uploads (or maxInProgressBytes bytes) in progress: retry later. */
  MEDIA_SERVER_FULL: Ret.Busy,
  /** No such MediaId for this account (unknown and another account's look the same). */
  MEDIA_UNKNOWN: Ret.BadRequest,
  /** Reading or writing the media files failed: nothing of the request counts. */
  MEDIA_IO: Ret.ServerError,
} as const satisfies Record<string, RetCode>;

export type MediaErrorCode = keyof typeof MEDIA_ERRORS;

/** A refusal as data: what sans-IO code returns. */
export interface MediaFault {
  code: MediaErrorCode;
  ret: RetCode;
  /** `<code>: <detail>`, the ErrMsg of the answer. */
  message: string;
}

export function mediaFault(code: MediaErrorCode, detail: string): MediaFault {
  return { code, ret: MEDIA_ERRORS[code], message: `${code}: ${detail}` };
}

/** A refusal as an exception: what the asynchronous, streaming code throws. */
export class MediaFailure extends Error {
  readonly code: MediaErrorCode;
  readonly ret: RetCode;

  constructor(fault: MediaFault) {
    super(fault.message);
    this.name = 'MediaFailure';
    this.code = fault.code;
    this.ret = fault.ret;
  }
}

export function mediaFailure(code: MediaErrorCode, detail: string): MediaFailure {
  return new MediaFailure(mediaFault(code, detail));
}

export function isMediaFailure(e: unknown): e is MediaFailure {
  return e instanceof MediaFailure;
}

export function faultReply(f: MediaFault | MediaFailure): ErrorReply {
  return errorReply(f.ret, f.message);
}
