// A MediaId names one finished upload of one account. It is 192 random bits
// from the injected random source (cryptographic on a real server, a seeded
// stream in the simulator), so it cannot be guessed and encodes nothing: not
// the owner, not the content hash, not the time. Possessing one is not
// permission: every use checks the record's owner (or, for fetching a
// message's media, that the caller is in the message's conversation).
//
// Content is stored once (by SHA-256, media-files.ts); a MediaId is per
// account and per ClientMediaId, so two accounts uploading the same file get
// two MediaIds and two records over one file, and each is charged its size.
import type { RandomSource } from '../core/deps.ts';
import { mediaFault, type MediaFault } from './media-errors.ts';

export const MEDIA_TYPES = ['pic', 'video', 'doc'] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

export function isMediaType(s: string): s is MediaType {
  return (MEDIA_TYPES as readonly string[]).includes(s);
}

const MEDIA_ID_BYTES = 24;
const PREFIX = '@media_';
const MEDIA_ID_PATTERN = /^@media_[A-Za-z0-9_-]{32}$/;

export function newMediaId(random: RandomSource): string {
  return PREFIX + Buffer.from(random.bytes(MEDIA_ID_BYTES)).toString('base64url');
}

/** Whether `s` has the shape of a MediaId (says nothing about whether it exists). */
export function isMediaId(s: unknown): s is string {
  return typeof s === 'string' && MEDIA_ID_PATTERN.test(s);
}

/** What the server keeps per MediaId (the proposed `media` table holds one row each). */
export interface MediaRecord {
  mediaId: string;
  ownerUin: number;
  /** The client's id of the upload: a retried last chunk finds its MediaId again by it. */
  clientMediaId: string;
  /** Hex SHA-256 of the bytes: where they are (MediaFiles), shared by identical uploads. */
  sha256: string;
  /** Hex MD5, as the client declared and the server checked. */
  md5: string;
  size: number;
  /** The file name the client gave, checked by checkFileName. */
  name: string;
  mediaType: MediaType;
  createdAt: number;
}

/**
 * The record a caller may use (to send it, or fetch it as its uploader).
 * Unknown and someone else's answer the same code, so a MediaId seen in
 * transit tells nothing about whether its owner still holds it.
 */
export function ownedMedia(record: MediaRecord | undefined, uin: number): MediaRecord | MediaFault {
  if (!record || record.ownerUin !== uin) return mediaFault('MEDIA_UNKNOWN', 'no such MediaId for this account');
  return record;
}
