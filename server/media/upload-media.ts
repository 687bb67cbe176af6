// One webwxuploadmedia request, end to end: the form (multipart-upload.ts),
// the sender (authenticated by the caller's function, before a byte of the
// file is taken), the chunk's place (upload-assembler.ts), its bytes
// (chunk-writer.ts into media-files.ts), and, when the upload is whole, the
// stored file and its MediaRecord. The HTTP route only hands over the headers
// and the body stream and sends back the answer.
//
// Order of durability: the file is fsynced and renamed into place, then the
// record is put (resolving once committed), then the MediaId is answered. So
// an answered MediaId always names a record, and a record always names bytes.
//
// Retries: a request for a ClientMediaId that already finished answers the
// MediaId it got (found by its record), so a client that lost the answer to
// its last chunk and sends it again is not told to start over.
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { RandomSource } from '../core/deps.ts';
import { OK, Ret, baseError, type BaseResponse } from '../core/ret.ts';
import { writeChunk } from './chunk-writer.ts';
import { MediaFailure, isMediaFailure, mediaFailure, mediaFault } from './media-errors.ts';
import type { MediaFiles } from './media-files.ts';
import { newMediaId, type MediaRecord } from './media-id.ts';
import type { MediaLimits } from './media-limits.ts';
import type { MediaRecords } from './media-records.ts';
import { readUploadForm } from './multipart-upload.ts';
import type { ChunkTicket, UploadAssembler } from './upload-assembler.ts';
import { chunkClaim, type UploadMediaRequest } from './upload-request.ts';

export interface UploadAnswer {
  BaseResponse: BaseResponse;
  /** Set once the upload is whole and stored; '' before. */
  MediaId: string;
  /** The first byte the server still needs (TotalLen once whole): where a client resumes. */
  StartPos: number;
  /** No thumbnails are made: always 0. */
  CDNThumbImgHeight: number;
  CDNThumbImgWidth: number;
}

/** The sender, or the refusal to answer (a session error from the core: 1100, 1101...). */
export type UploadAuth = { uin: number } | { refused: BaseResponse };

export interface UploadDeps {
  assembler: UploadAssembler;
  files: MediaFiles;
  records: MediaRecords;
  random: RandomSource;
  limits: MediaLimits;
  clock: () => number;
  /** Check BaseRequest (and pass_ticket) as every other endpoint does, and FromUserName against the session. */
  authenticate(req: UploadMediaRequest): Promise<UploadAuth>;
}

/** A refusal that is not a media code (authentication), carried out of the form reader. */
class Refused extends Error {
  constructor(readonly base: BaseResponse) {
    super(base.ErrMsg);
  }
}

type FileOutcome = { kind: 'done'; record: MediaRecord } | { kind: 'chunk'; ticket: ChunkTicket; req: UploadMediaRequest };

export async function uploadMedia(deps: UploadDeps, headers: IncomingHttpHeaders, body: Readable): Promise<UploadAnswer> {
  let ticket: ChunkTicket | undefined;
  let task: Promise<FileOutcome> | undefined;
  const onFile = (form: { request: UploadMediaRequest }, file: Readable): Promise<FileOutcome> => {
    task = takeFile(deps, form.request, file, (t) => (ticket = t));
    return task;
  };
  let outcome: FileOutcome;
  try {
    outcome = (await readUploadForm(headers, body, deps.limits, onFile)).result;
  } catch (e) {
    // The writer may still be between two writes: let it stop before the ticket goes.
    await task?.catch(() => undefined);
    if (ticket) await discard(deps, deps.assembler.abort(ticket.id, deps.clock()).discard);
    return failed(e);
  }
  if (outcome.kind === 'done') return answer(OK, outcome.record.mediaId, outcome.record.size);
  const progress = deps.assembler.commit(outcome.ticket.id, deps.clock());
  await discard(deps, progress.discard);
  if (progress.kind === 'unknown') return failed(mediaFailure('MEDIA_UNKNOWN', 'the upload expired while the chunk arrived; start over'));
  if (progress.kind === 'partial') return answer(OK, '', progress.startPos);
  return finish(deps, outcome.req, progress.upload);
}

async function takeFile(deps: UploadDeps, req: UploadMediaRequest, file: Readable, onTicket: (t: ChunkTicket) => void): Promise<FileOutcome> {
  const auth = await deps.authenticate(req);
  if ('refused' in auth) throw new Refused(auth.refused);
  const { uin } = auth;
  const done = await deps.records.byClientMediaId(uin, req.clientMediaId);
  if (done) {
    if (done.size !== req.totalLen || done.md5 !== req.fileMd5) {
      throw mediaFailure('MEDIA_UPLOAD_MISMATCH', `ClientMediaId ${req.clientMediaId} was used for another file`);
    }
    // The form must still be read to its end; these bytes are already stored.
    for await (const _ of file) void _;
    return { kind: 'done', record: done };
  }
  const stored = await deps.records.storedBytes(uin);
  const decl = { uin, clientMediaId: req.clientMediaId, totalLen: req.totalLen, fileMd5: req.fileMd5, name: req.name, mediaType: req.mediaType };
  const begun = deps.assembler.begin(decl, chunkClaim(req, deps.limits), stored, deps.clock());
  // Handed over before any await, so a failure from here on releases it.
  if (begun.ok) onTicket(begun.ticket);
  await discard(deps, begun.discard);
  if (!begun.ok) throw new MediaFailure(begun.fault);
  const part = await deps.files.openPart(begun.ticket.partId);
  try {
    await writeChunk(file, begun.ticket, req.totalLen, part);
  } finally {
    await part.close();
  }
  return { kind: 'chunk', ticket: begun.ticket, req };
}

async function finish(deps: UploadDeps, req: UploadMediaRequest, upload: { uin: number; clientMediaId: string; partId: string; totalLen: number; fileMd5: string }): Promise<UploadAnswer> {
  const { assembler, files, records } = deps;
  let stored;
  try {
    stored = await files.finalize(upload.partId, upload.totalLen, upload.fileMd5);
  } catch (e) {
    await discard(deps, [assembler.drop(upload.uin, upload.clientMediaId)]);
    return failed(mediaFailure('MEDIA_IO', `storing the file failed (${(e as Error).message}); upload again`));
  }
  if (!stored.ok) {
    const fault = assembler.finished(upload.uin, upload.clientMediaId, { md5: stored.md5, sha256: '' });
    return failed(new MediaFailure(fault ?? mediaFault('MEDIA_MD5_MISMATCH', 'the bytes do not match FileMd5')));
  }
  const record: MediaRecord = {
    mediaId: newMediaId(deps.random),
    ownerUin: upload.uin,
    clientMediaId: upload.clientMediaId,
    sha256: stored.file.sha256,
    md5: stored.file.md5,
    size: stored.file.size,
    name: req.name,
    mediaType: req.mediaType,
    createdAt: deps.clock(),
  };
  try {
    await records.put(record);
  } catch (e) {
    assembler.drop(upload.uin, upload.clientMediaId);
    // A concurrent request of the same upload stored it first: answer that one.
    const other = await records.byClientMediaId(upload.uin, upload.clientMediaId).catch(() => undefined);
    if (other && other.sha256 === record.sha256) return answer(OK, other.mediaId, other.size);
    return failed(mediaFailure('MEDIA_IO', `recording the file failed (${(e as Error).message}); upload again`));
  }
  // After the record: the bytes move from "in progress" to "stored" with no moment counted in neither.
  const fault = assembler.finished(upload.uin, upload.clientMediaId, { md5: stored.file.md5, sha256: stored.file.sha256 });
  if (fault) return failed(new MediaFailure(fault));
  return answer(OK, record.mediaId, record.size);
}

/** Drop uploads idle past uploadTtlMs and delete their part files: for the server's periodic tick. */
export async function sweepUploads(deps: Pick<UploadDeps, 'assembler' | 'files'>, now: number): Promise<number> {
  const gone = deps.assembler.sweep(now);
  await discard(deps, gone);
  return gone.length;
}

/** Delete part files; awaited so that an answered request left none behind. */
async function discard(deps: Pick<UploadDeps, 'files'>, partIds: readonly (string | undefined)[]): Promise<void> {
  // Best effort: a part file left behind is removed by clearParts() at the next start.
  await Promise.all(partIds.map((id) => (id === undefined ? undefined : deps.files.deletePart(id).catch(() => undefined))));
}

function failed(e: unknown): UploadAnswer {
  if (e instanceof Refused) return answer(e.base, '', 0);
  if (isMediaFailure(e)) return answer(baseError(e.ret, e.message), '', 0);
  return answer(baseError(Ret.ServerError, `MEDIA_IO: ${(e as Error)?.message ?? String(e)}`), '', 0);
}

function answer(base: BaseResponse, mediaId: string, startPos: number): UploadAnswer {
  return { BaseResponse: base, MediaId: mediaId, StartPos: startPos, CDNThumbImgHeight: 0, CDNThumbImgWidth: 0 };
}
