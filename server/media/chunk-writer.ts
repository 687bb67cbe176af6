// Streams one file part into its upload's part file, piece by piece as the
// multipart parser yields them, so a chunk is never held whole in memory.
// The ticket (upload-assembler.ts) splits the chunk's range into bytes not
// received yet, which are written, and bytes received before, which are read
// back and compared: a repeated chunk with the same bytes is harmless, one
// with different bytes is MEDIA_CHUNK_CONFLICT. Nothing here makes bytes
// count: the caller commits the ticket only once the whole form was read.
import type { Interval } from './interval-set.ts';
import { mediaFailure } from './media-errors.ts';
import type { PartHandle } from './media-files.ts';
import type { ChunkTicket } from './upload-assembler.ts';

type Segment = Interval & { compare: boolean };

/** Throws MediaFailure (MEDIA_CHUNK_CONFLICT, MEDIA_CHUNK_BEYOND_END, MEDIA_CHUNK_LENGTH), or the stream's own error. */
export async function writeChunk(file: AsyncIterable<Uint8Array>, ticket: ChunkTicket, totalLen: number, part: PartHandle): Promise<void> {
  const end = ticket.offset + ticket.length;
  const segments: Segment[] = [
    ...ticket.write.map((w) => ({ ...w, compare: false })),
    ...ticket.compare.map((c) => ({ ...c, compare: true })),
  ].sort((a, b) => a.start - b.start);
  let pos = ticket.offset;
  for await (const piece of file) {
    if (pos + piece.length > end) {
      if (end === totalLen) throw mediaFailure('MEDIA_CHUNK_BEYOND_END', `the file part goes on past TotalLen ${totalLen}`);
      throw mediaFailure('MEDIA_CHUNK_LENGTH', `the file part is longer than the ${ticket.length} bytes of its place`);
    }
    await place(piece, pos, segments, part);
    pos += piece.length;
  }
  if (pos < end) throw mediaFailure('MEDIA_CHUNK_LENGTH', `the file part holds ${pos - ticket.offset} bytes; its place needs ${ticket.length}`);
}

async function place(piece: Uint8Array, at: number, segments: readonly Segment[], part: PartHandle): Promise<void> {
  const pieceEnd = at + piece.length;
  for (const s of segments) {
    const from = Math.max(at, s.start);
    const to = Math.min(pieceEnd, s.end);
    if (from >= to) continue;
    const bytes = piece.subarray(from - at, to - at);
    if (!s.compare) {
      await part.write(from, bytes);
      continue;
    }
    const had = await part.read(from, to - from);
    const differs = firstDifference(had, bytes);
    if (differs >= 0) {
      throw mediaFailure('MEDIA_CHUNK_CONFLICT', `byte ${from + differs} differs from the one received before`);
    }
  }
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))) return -1;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return a.length;
}
