// Every limit of media upload, named for its unit. The proposed section of
// docs/protocol.md lists them with these defaults; the CLI may override them.
// Why each is there: an upload holds disk (its part file, up to TotalLen) and
// memory (its interval set) before anything is stored, so both the number of
// uploads and their declared bytes are bounded per account and server-wide,
// and an upload nobody finishes gives its room back after uploadTtlMs.

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export interface MediaLimits {
  /**
   * Bytes of one chunk of a chunked upload, and the largest file part of any
   * request: the web client sends files over this size in chunks of exactly
   * this size (the last one shorter), `chunk` numbering them from 0.
   */
  chunkBytes: number;
  /** TotalLen at most (MEDIA_TOO_LARGE beyond). */
  maxFileBytes: number;
  /** Uploads one account may have in progress at once (MEDIA_TOO_MANY_UPLOADS). */
  maxUploadsPerAccount: number;
  /** Sum of TotalLen of one account's uploads in progress (MEDIA_TOO_MANY_UPLOADS). */
  maxInProgressBytesPerAccount: number;
  /** Bytes one account may have stored, finished uploads plus those in progress (MEDIA_QUOTA). */
  maxStoredBytesPerAccount: number;
  /** Uploads in progress on the whole server (MEDIA_SERVER_FULL). */
  maxUploads: number;
  /** Sum of TotalLen of all uploads in progress on the server (MEDIA_SERVER_FULL). */
  maxInProgressBytes: number;
  /**
   * Separate byte ranges one upload may hold: chunks sent at arbitrary
   * StartPos could otherwise split an upload into millions of one-byte
   * islands, each an entry of its interval set (MEDIA_FRAGMENTED beyond).
   */
  maxRangesPerUpload: number;
  /** An upload that received no chunk for this long is dropped, its part file deleted. */
  uploadTtlMs: number;
  /** A file name (the `name` field and the file part's filename), in UTF-8 bytes. */
  maxNameBytes: number;
  /** Fields of one upload form; the web client sends 12. */
  maxFields: number;
  /** One field's value, in bytes; uploadmediarequest is the largest (a few hundred). */
  maxFieldBytes: number;
}

export const MEDIA_LIMITS: Readonly<MediaLimits> = Object.freeze({
  chunkBytes: 512 * KiB,
  maxFileBytes: 25 * MiB,
  maxUploadsPerAccount: 8,
  maxInProgressBytesPerAccount: 100 * MiB,
  maxStoredBytesPerAccount: 1 * GiB,
  maxUploads: 1000,
  maxInProgressBytes: 4 * GiB,
  maxRangesPerUpload: 256,
  uploadTtlMs: 10 * 60 * 1000,
  maxNameBytes: 255,
  maxFields: 24,
  maxFieldBytes: 8 * KiB,
});

export function mediaLimits(overrides: Partial<MediaLimits> = {}): MediaLimits {
  const l = { ...MEDIA_LIMITS, ...overrides };
  for (const [k, v] of Object.entries(l)) {
    if (!Number.isSafeInteger(v) || v < 1) throw new Error(`media limit ${k} must be a positive integer, not ${v}`);
  }
  if (l.maxFileBytes > l.maxInProgressBytesPerAccount) throw new Error('maxFileBytes over maxInProgressBytesPerAccount: no file that large could ever upload');
  return l;
}

/** Bytes of one part's headers and boundary in a form, with room to spare. */
const PART_OVERHEAD_BYTES = 512;

/**
 * The largest webwxuploadmedia body: one chunk plus the most form the limits
 * allow around it (every field at its largest). Over it: 413, before or while
 * the body arrives, and nothing of it counts.
 */
export function uploadBodyLimit(l: MediaLimits): number {
  return l.chunkBytes + (l.maxFields + 1) * (l.maxFieldBytes + PART_OVERHEAD_BYTES);
}
