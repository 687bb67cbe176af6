// Uploads in progress, per (account, ClientMediaId): which bytes arrived,
// which are arriving, and when the file is whole. Sans-IO: it never sees a
// byte. The bytes stream from the request into a part file (MediaFiles), so a
// 25 MiB upload costs a few intervals of memory here, not 25 MiB; this class
// says where each chunk goes and which of its bytes must equal bytes already
// there, and the driver does the reading and writing.
//
// A chunk is a ticket: begin() reserves its range (a second chunk over the
// same bytes while the first is still streaming is MEDIA_CHUNK_BUSY, so two
// requests never race on one byte), commit() counts it once the whole request
// was read, abort() forgets it. Bytes count only once committed, so a refused
// or cut-short request leaves nothing that counts.
//
// Completion needs every byte AND the MD5: when the last byte is committed
// the upload turns 'finalizing' and the driver hashes the part file
// (MediaFiles.finalize, where the bytes are), then reports the digest to
// finished(), which decides. MD5 is checked, never trusted for storage:
// files are stored by SHA-256, since MD5 collisions are cheap to make.
//
// Memory and disk are bounded by the limits (media-limits.ts); time enters
// only as `now`, and an upload idle for uploadTtlMs is swept.
import type { Interval } from './interval-set.ts';
import { IntervalSet } from './interval-set.ts';
import { mediaFault, type MediaFault } from './media-errors.ts';
import type { MediaLimits } from './media-limits.ts';
import type { MediaType } from './media-id.ts';

/** What every chunk of an upload declares about the whole file. */
export interface UploadDeclaration {
  uin: number;
  clientMediaId: string;
  totalLen: number;
  /** 32 lowercase hex digits. */
  fileMd5: string;
  name: string;
  mediaType: MediaType;
}

/** Where one chunk's bytes go. */
export interface ChunkClaim {
  offset: number;
  length: number;
}

export interface ChunkTicket {
  readonly id: number;
  readonly uin: number;
  readonly clientMediaId: string;
  readonly partId: string;
  readonly offset: number;
  readonly length: number;
  /** Parts of the chunk already received: the request's bytes must equal them. */
  readonly compare: readonly Interval[];
  /** Parts not received yet: the request's bytes are written there. */
  readonly write: readonly Interval[];
}

export type BeginResult =
  | { ok: true; ticket: ChunkTicket; discard: string[] }
  | { ok: false; fault: MediaFault; discard: string[] };

/** A whole upload, ready to be hashed and stored. */
export interface CompleteUpload {
  uin: number;
  clientMediaId: string;
  partId: string;
  totalLen: number;
  fileMd5: string;
  name: string;
  mediaType: MediaType;
}

export type Progress =
  /** More bytes are needed; startPos is the first missing byte. */
  | { kind: 'partial'; startPos: number; missing: Interval[]; discard: string[] }
  /** Every byte arrived: finalize the part file, then call finished(). */
  | { kind: 'complete'; upload: CompleteUpload; discard: string[] }
  /** The ticket is unknown (already committed or aborted). */
  | { kind: 'unknown'; discard: string[] };

export interface FileDigest {
  md5: string;
  sha256: string;
}

interface Upload {
  readonly decl: UploadDeclaration;
  readonly partId: string;
  readonly received: IntervalSet;
  readonly inFlight: Map<number, ChunkTicket>;
  state: 'receiving' | 'finalizing';
  lastActivity: number;
}

interface AccountUse {
  uploads: number;
  bytes: number;
}

export class UploadAssembler {
  /** Map order is last-activity order (touched uploads move to the end): the sweep stops early. */
  private readonly uploads = new Map<string, Upload>();
  private readonly tickets = new Map<number, Upload>();
  private readonly accounts = new Map<number, AccountUse>();
  private totalBytes = 0;
  private nextTicket = 1;
  private nextPart = 1;

  constructor(private readonly limits: MediaLimits) {}

  /** Uploads in progress on the server. */
  get size(): number {
    return this.uploads.size;
  }

  /** Sum of TotalLen of the account's uploads in progress (count them against its quota). */
  inProgressBytes(uin: number): number {
    return this.accounts.get(uin)?.bytes ?? 0;
  }

  /** The missing ranges of an upload in progress (undefined: none such). */
  missing(uin: number, clientMediaId: string): Interval[] | undefined {
    const u = this.uploads.get(key(uin, clientMediaId));
    return u && u.received.missing(u.decl.totalLen);
  }

  /**
   * Reserve a chunk. `storedBytes` is what the account has stored already
   * (from its media records), for the quota. Nothing changes on a refusal.
   */
  begin(decl: UploadDeclaration, claim: ChunkClaim, storedBytes: number, now: number): BeginResult {
    const discard = this.sweep(now);
    const fault = this.checkClaim(decl, claim);
    if (fault) return { ok: false, fault, discard };
    const k = key(decl.uin, decl.clientMediaId);
    let u = this.uploads.get(k);
    if (u) {
      if (u.decl.totalLen !== decl.totalLen || u.decl.fileMd5 !== decl.fileMd5) {
        return refuse('MEDIA_UPLOAD_MISMATCH', `ClientMediaId ${decl.clientMediaId} is uploading ${u.decl.totalLen} bytes with MD5 ${u.decl.fileMd5}`, discard);
      }
      if (u.state === 'finalizing') return refuse('MEDIA_CHUNK_BUSY', 'the upload is being stored; ask again', discard);
    } else {
      const full = this.checkRoom(decl, storedBytes);
      if (full) return { ok: false, fault: full, discard };
    }
    const end = claim.offset + claim.length;
    if (u) {
      for (const t of u.inFlight.values()) {
        if (t.offset < end && claim.offset < t.offset + t.length) {
          return refuse('MEDIA_CHUNK_BUSY', `bytes ${t.offset}-${t.offset + t.length - 1} are still arriving in another request`, discard);
        }
      }
      if (u.received.countAfterAdding(claim.offset, end) > this.limits.maxRangesPerUpload) {
        return refuse('MEDIA_FRAGMENTED', `the upload would hold more than ${this.limits.maxRangesPerUpload} separate ranges`, discard);
      }
    } else {
      u = this.create(decl, now);
    }
    const ticket: ChunkTicket = {
      id: this.nextTicket++,
      uin: decl.uin,
      clientMediaId: decl.clientMediaId,
      partId: u.partId,
      offset: claim.offset,
      length: claim.length,
      compare: u.received.covered(claim.offset, end),
      write: u.received.gaps(claim.offset, end),
    };
    u.inFlight.set(ticket.id, ticket);
    this.tickets.set(ticket.id, u);
    this.touch(u, now);
    return { ok: true, ticket, discard };
  }

  /** The whole chunk was read and matched: its bytes count. */
  commit(ticketId: number, now: number): Progress {
    const u = this.tickets.get(ticketId);
    const t = u?.inFlight.get(ticketId);
    if (!u || !t) return { kind: 'unknown', discard: [] };
    for (const w of t.write) u.received.add(w.start, w.end);
    return this.release(u, ticketId, now);
  }

  /** The chunk was refused or cut short: none of its bytes count. */
  abort(ticketId: number, now: number): Progress {
    const u = this.tickets.get(ticketId);
    if (!u) return { kind: 'unknown', discard: [] };
    return this.release(u, ticketId, now);
  }

  /**
   * The part file was hashed (and, if its MD5 matched, stored). The upload
   * ends either way; a mismatch is MEDIA_MD5_MISMATCH and the client starts over.
   */
  finished(uin: number, clientMediaId: string, digest: FileDigest): MediaFault | undefined {
    const u = this.uploads.get(key(uin, clientMediaId));
    if (!u || u.state !== 'finalizing') return mediaFault('MEDIA_UNKNOWN', `no upload ${clientMediaId} is being stored`);
    this.remove(u);
    if (digest.md5 !== u.decl.fileMd5) {
      return mediaFault('MEDIA_MD5_MISMATCH', `the bytes have MD5 ${digest.md5}, not FileMd5 ${u.decl.fileMd5}; upload again`);
    }
    return undefined;
  }

  /** Forget an upload (its part file failed): returns the part to delete. */
  drop(uin: number, clientMediaId: string): string | undefined {
    const u = this.uploads.get(key(uin, clientMediaId));
    if (!u) return undefined;
    this.remove(u);
    return u.partId;
  }

  /**
   * Drop uploads idle for uploadTtlMs, returning their part files to delete.
   * An upload with a chunk still arriving, or being stored, is not idle.
   */
  sweep(now: number): string[] {
    const gone: string[] = [];
    for (const u of this.uploads.values()) {
      if (u.lastActivity + this.limits.uploadTtlMs > now) break;
      if (u.inFlight.size > 0 || u.state === 'finalizing') continue;
      this.remove(u);
      gone.push(u.partId);
    }
    return gone;
  }

  private checkClaim(decl: UploadDeclaration, claim: ChunkClaim): MediaFault | undefined {
    const l = this.limits;
    if (!Number.isSafeInteger(decl.totalLen) || decl.totalLen < 1) return mediaFault('MEDIA_BAD_REQUEST', 'TotalLen must be a positive integer');
    if (decl.totalLen > l.maxFileBytes) return mediaFault('MEDIA_TOO_LARGE', `TotalLen ${decl.totalLen} is over ${l.maxFileBytes} bytes`);
    if (!/^[0-9a-f]{32}$/.test(decl.fileMd5)) return mediaFault('MEDIA_BAD_REQUEST', 'FileMd5 must be 32 lowercase hex digits');
    if (!Number.isSafeInteger(claim.offset) || claim.offset < 0) return mediaFault('MEDIA_BAD_REQUEST', 'a chunk starts at a non-negative integer');
    if (!Number.isSafeInteger(claim.length) || claim.length < 1) return mediaFault('MEDIA_BAD_REQUEST', 'a chunk holds at least one byte');
    if (claim.offset + claim.length > decl.totalLen) {
      return mediaFault('MEDIA_CHUNK_BEYOND_END', `bytes ${claim.offset}-${claim.offset + claim.length - 1} reach past TotalLen ${decl.totalLen}`);
    }
    if (claim.length > l.chunkBytes) return mediaFault('MEDIA_CHUNK_TOO_LARGE', `a chunk of ${claim.length} bytes is over ${l.chunkBytes}`);
    return undefined;
  }

  /** Room for a new upload: the account's and the server's bounds, then the quota. */
  private checkRoom(decl: UploadDeclaration, storedBytes: number): MediaFault | undefined {
    const l = this.limits;
    const mine = this.accounts.get(decl.uin) ?? { uploads: 0, bytes: 0 };
    if (mine.uploads >= l.maxUploadsPerAccount) return mediaFault('MEDIA_TOO_MANY_UPLOADS', `${mine.uploads} uploads are in progress already`);
    if (mine.bytes + decl.totalLen > l.maxInProgressBytesPerAccount) {
      return mediaFault('MEDIA_TOO_MANY_UPLOADS', `uploads in progress would hold ${mine.bytes + decl.totalLen} bytes, over ${l.maxInProgressBytesPerAccount}`);
    }
    if (this.uploads.size >= l.maxUploads || this.totalBytes + decl.totalLen > l.maxInProgressBytes) {
      return mediaFault('MEDIA_SERVER_FULL', 'the server holds as many uploads as it may; retry later');
    }
    const after = storedBytes + mine.bytes + decl.totalLen;
    if (after > l.maxStoredBytesPerAccount) {
      return mediaFault('MEDIA_QUOTA', `the account would hold ${after} bytes of media, over ${l.maxStoredBytesPerAccount}`);
    }
    return undefined;
  }

  private create(decl: UploadDeclaration, now: number): Upload {
    const u: Upload = {
      decl: { ...decl },
      // Unique within this process; MediaFiles clears part files left by an earlier one.
      partId: `${decl.uin}-${this.nextPart++}`,
      received: new IntervalSet(),
      inFlight: new Map(),
      state: 'receiving',
      lastActivity: now,
    };
    this.uploads.set(key(decl.uin, decl.clientMediaId), u);
    const mine = this.accounts.get(decl.uin) ?? { uploads: 0, bytes: 0 };
    mine.uploads++;
    mine.bytes += decl.totalLen;
    this.accounts.set(decl.uin, mine);
    this.totalBytes += decl.totalLen;
    return u;
  }

  private release(u: Upload, ticketId: number, now: number): Progress {
    u.inFlight.delete(ticketId);
    this.tickets.delete(ticketId);
    this.touch(u, now);
    const discard = this.sweep(now);
    const { decl } = u;
    if (u.inFlight.size === 0 && u.received.count === 0) {
      // A first chunk that did not count leaves no upload behind to hold quota.
      this.remove(u);
      discard.push(u.partId);
      return { kind: 'partial', startPos: 0, missing: [{ start: 0, end: decl.totalLen }], discard };
    }
    // Only once no chunk is in flight: a duplicate still comparing bytes
    // must not find its part file moved away under it.
    if (u.inFlight.size === 0 && u.received.covers(decl.totalLen)) {
      u.state = 'finalizing';
      const upload: CompleteUpload = {
        uin: decl.uin,
        clientMediaId: decl.clientMediaId,
        partId: u.partId,
        totalLen: decl.totalLen,
        fileMd5: decl.fileMd5,
        name: decl.name,
        mediaType: decl.mediaType,
      };
      return { kind: 'complete', upload, discard };
    }
    return { kind: 'partial', startPos: u.received.firstMissing(), missing: u.received.missing(decl.totalLen), discard };
  }

  private touch(u: Upload, now: number): void {
    u.lastActivity = Math.max(u.lastActivity, now);
    const k = key(u.decl.uin, u.decl.clientMediaId);
    this.uploads.delete(k);
    this.uploads.set(k, u);
  }

  private remove(u: Upload): void {
    const k = key(u.decl.uin, u.decl.clientMediaId);
    if (this.uploads.get(k) !== u) return;
    this.uploads.delete(k);
    for (const id of u.inFlight.keys()) this.tickets.delete(id);
    u.inFlight.clear();
    const mine = this.accounts.get(u.decl.uin);
    if (mine) {
      mine.uploads--;
      mine.bytes -= u.decl.totalLen;
      if (mine.uploads === 0) this.accounts.delete(u.decl.uin);
    }
    this.totalBytes -= u.decl.totalLen;
  }
}

function key(uin: number, clientMediaId: string): string {
  return `${uin}:${clientMediaId}`;
}

function refuse(code: Parameters<typeof mediaFault>[0], detail: string, discard: string[]): BeginResult {
  return { ok: false, fault: mediaFault(code, detail), discard };
}
