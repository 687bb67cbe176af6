// The bookkeeping of uploads in progress, without bytes: where chunks go,
// what they must match, when an upload is whole, and the bounds.
import { describe, expect, it } from 'vitest';
import { UploadAssembler, type BeginResult, type ChunkTicket, type UploadDeclaration } from '../../server/media/upload-assembler.ts';
import { mediaLimits, type MediaLimits } from '../../server/media/media-limits.ts';

const MD5 = '0123456789abcdef0123456789abcdef';
const limits = mediaLimits({ chunkBytes: 100, maxFileBytes: 1000, maxUploadsPerAccount: 3, maxInProgressBytesPerAccount: 2000, maxStoredBytesPerAccount: 2500, maxUploads: 5, maxInProgressBytes: 4000, uploadTtlMs: 1000, maxRangesPerUpload: 4 });

function decl(over: Partial<UploadDeclaration> = {}): UploadDeclaration {
  return { uin: 7, clientMediaId: 'c1', totalLen: 250, fileMd5: MD5, name: 'a.jpg', mediaType: 'pic', ...over };
}

function ticketOf(r: BeginResult): ChunkTicket {
  if (!r.ok) throw new Error(`refused: ${r.fault.message}`);
  return r.ticket;
}

function codeOf(r: BeginResult): string {
  if (r.ok) throw new Error('accepted');
  return r.fault.code;
}

function assembler(l: MediaLimits = limits): UploadAssembler {
  return new UploadAssembler(l);
}

describe('UploadAssembler', () => {
  it('assembles chunks out of order and completes on the last byte', () => {
    const a = assembler();
    const t2 = ticketOf(a.begin(decl(), { offset: 200, length: 50 }, 0, 0));
    expect(t2.write).toEqual([{ start: 200, end: 250 }]);
    expect(a.commit(t2.id, 1)).toMatchObject({ kind: 'partial', startPos: 0, missing: [{ start: 0, end: 200 }] });
    const t0 = ticketOf(a.begin(decl(), { offset: 0, length: 100 }, 0, 2));
    expect(a.commit(t0.id, 3)).toMatchObject({ kind: 'partial', startPos: 100 });
    const t1 = ticketOf(a.begin(decl(), { offset: 100, length: 100 }, 0, 4));
    const done = a.commit(t1.id, 5);
    expect(done.kind).toBe('complete');
    if (done.kind === 'complete') expect(done.upload).toMatchObject({ uin: 7, clientMediaId: 'c1', totalLen: 250, partId: t0.partId });
    expect(a.finished(7, 'c1', { md5: MD5, sha256: 'x' })).toBeUndefined();
    expect(a.size).toBe(0);
    expect(a.inProgressBytes(7)).toBe(0);
  });

  it('has a repeated chunk compared, not written', () => {
    const a = assembler();
    a.commit(ticketOf(a.begin(decl(), { offset: 0, length: 100 }, 0, 0)).id, 0);
    const again = ticketOf(a.begin(decl(), { offset: 50, length: 100 }, 0, 1));
    expect(again.compare).toEqual([{ start: 50, end: 100 }]);
    expect(again.write).toEqual([{ start: 100, end: 150 }]);
  });

  it('refuses a chunk beyond TotalLen, an oversized chunk and an oversized file, creating nothing', () => {
    const a = assembler();
    expect(codeOf(a.begin(decl(), { offset: 200, length: 51 }, 0, 0))).toBe('MEDIA_CHUNK_BEYOND_END');
    expect(codeOf(a.begin(decl(), { offset: 300, length: 1 }, 0, 0))).toBe('MEDIA_CHUNK_BEYOND_END');
    expect(codeOf(a.begin(decl({ totalLen: 500 }), { offset: 0, length: 101 }, 0, 0))).toBe('MEDIA_CHUNK_TOO_LARGE');
    expect(codeOf(a.begin(decl({ totalLen: 1001 }), { offset: 0, length: 1 }, 0, 0))).toBe('MEDIA_TOO_LARGE');
    expect(codeOf(a.begin(decl({ fileMd5: 'nothex' }), { offset: 0, length: 1 }, 0, 0))).toBe('MEDIA_BAD_REQUEST');
    expect(a.size).toBe(0);
  });

  it('refuses a chunk declaring another file under the same ClientMediaId', () => {
    const a = assembler();
    a.commit(ticketOf(a.begin(decl(), { offset: 0, length: 100 }, 0, 0)).id, 0);
    expect(codeOf(a.begin(decl({ totalLen: 300 }), { offset: 100, length: 100 }, 0, 0))).toBe('MEDIA_UPLOAD_MISMATCH');
    expect(codeOf(a.begin(decl({ fileMd5: 'f'.repeat(32) }), { offset: 100, length: 100 }, 0, 0))).toBe('MEDIA_UPLOAD_MISMATCH');
  });

  it('refuses a chunk over bytes still arriving, and accepts it once they are answered', () => {
    const a = assembler();
    a.commit(ticketOf(a.begin(decl(), { offset: 200, length: 50 }, 0, 0)).id, 0);
    const first = ticketOf(a.begin(decl(), { offset: 0, length: 100 }, 0, 0));
    expect(codeOf(a.begin(decl(), { offset: 99, length: 2 }, 0, 0))).toBe('MEDIA_CHUNK_BUSY');
    // Disjoint chunks may arrive side by side.
    ticketOf(a.begin(decl(), { offset: 100, length: 100 }, 0, 0));
    a.abort(first.id, 1);
    expect(ticketOf(a.begin(decl(), { offset: 0, length: 99 }, 0, 1)).write).toEqual([{ start: 0, end: 99 }]);
  });

  it('counts an aborted chunk for nothing, and drops an upload that received nothing', () => {
    const a = assembler();
    const t = ticketOf(a.begin(decl(), { offset: 0, length: 100 }, 0, 0));
    expect(a.inProgressBytes(7)).toBe(250);
    const p = a.abort(t.id, 1);
    expect(p.discard).toEqual([t.partId]);
    expect(a.size).toBe(0);
    expect(a.inProgressBytes(7)).toBe(0);
    expect(a.commit(t.id, 1).kind).toBe('unknown');
  });

  it('completes only once no chunk is in flight', () => {
    const a = assembler();
    const t0 = ticketOf(a.begin(decl({ totalLen: 100 }), { offset: 0, length: 100 }, 0, 0));
    expect(a.commit(t0.id, 0).kind).toBe('complete');
    // Being stored: a chunk now is told to wait.
    expect(codeOf(a.begin(decl({ totalLen: 100 }), { offset: 0, length: 100 }, 0, 0))).toBe('MEDIA_CHUNK_BUSY');

    const b = assembler();
    const d = decl({ clientMediaId: 'c2', totalLen: 200 });
    const x = ticketOf(b.begin(d, { offset: 0, length: 100 }, 0, 0));
    b.commit(x.id, 0);
    const dup = ticketOf(b.begin(d, { offset: 0, length: 100 }, 0, 0));
    const last = ticketOf(b.begin(d, { offset: 100, length: 100 }, 0, 0));
    expect(b.commit(last.id, 0).kind).toBe('partial');
    expect(b.commit(dup.id, 0).kind).toBe('complete');
  });

  it('ends an upload whose MD5 does not match, and the client starts over', () => {
    const a = assembler();
    a.commit(ticketOf(a.begin(decl({ totalLen: 100 }), { offset: 0, length: 100 }, 0, 0)).id, 0);
    expect(a.finished(7, 'c1', { md5: 'f'.repeat(32), sha256: 'x' })?.code).toBe('MEDIA_MD5_MISMATCH');
    expect(a.size).toBe(0);
    expect(a.missing(7, 'c1')).toBeUndefined();
    expect(ticketOf(a.begin(decl({ totalLen: 100 }), { offset: 0, length: 100 }, 0, 1)).write).toEqual([{ start: 0, end: 100 }]);
  });

  it('resumes: the missing ranges are there to ask for', () => {
    const a = assembler();
    a.commit(ticketOf(a.begin(decl(), { offset: 0, length: 100 }, 0, 0)).id, 0);
    a.commit(ticketOf(a.begin(decl(), { offset: 200, length: 50 }, 0, 0)).id, 0);
    expect(a.missing(7, 'c1')).toEqual([{ start: 100, end: 200 }]);
  });

  it('refuses a chunk that would split the upload into too many ranges', () => {
    const a = assembler();
    const d = decl({ totalLen: 1000 });
    for (const off of [0, 20, 40, 60]) a.commit(ticketOf(a.begin(d, { offset: off, length: 10 }, 0, 0)).id, 0);
    expect(codeOf(a.begin(d, { offset: 80, length: 10 }, 0, 0))).toBe('MEDIA_FRAGMENTED');
    // Filling a hole reduces the count: allowed.
    ticketOf(a.begin(d, { offset: 10, length: 10 }, 0, 0));
  });

  it('holds the per-account quota: stored plus in progress plus the new file', () => {
    const a = assembler();
    ticketOf(a.begin(decl({ clientMediaId: 'a', totalLen: 1000 }), { offset: 0, length: 1 }, 1000, 0));
    expect(codeOf(a.begin(decl({ clientMediaId: 'b', totalLen: 501 }), { offset: 0, length: 1 }, 1000, 0))).toBe('MEDIA_QUOTA');
    ticketOf(a.begin(decl({ clientMediaId: 'b', totalLen: 500 }), { offset: 0, length: 1 }, 1000, 0));
    // Another account is not charged.
    ticketOf(a.begin(decl({ uin: 8, clientMediaId: 'b', totalLen: 1000 }), { offset: 0, length: 1 }, 0, 0));
  });

  it('bounds uploads in progress per account and on the server', () => {
    const a = assembler();
    for (const c of ['a', 'b', 'c']) ticketOf(a.begin(decl({ clientMediaId: c, totalLen: 10 }), { offset: 0, length: 1 }, 0, 0));
    expect(codeOf(a.begin(decl({ clientMediaId: 'd', totalLen: 10 }), { offset: 0, length: 1 }, 0, 0))).toBe('MEDIA_TOO_MANY_UPLOADS');
    for (const c of ['a', 'b']) ticketOf(a.begin(decl({ uin: 8, clientMediaId: c, totalLen: 10 }), { offset: 0, length: 1 }, 0, 0));
    expect(codeOf(a.begin(decl({ uin: 9, totalLen: 10 }), { offset: 0, length: 1 }, 0, 0))).toBe('MEDIA_SERVER_FULL');

    const b = assembler(mediaLimits({ ...limits, maxInProgressBytesPerAccount: 1500 }));
    ticketOf(b.begin(decl({ clientMediaId: 'a', totalLen: 1000 }), { offset: 0, length: 1 }, 0, 0));
    expect(codeOf(b.begin(decl({ clientMediaId: 'b', totalLen: 501 }), { offset: 0, length: 1 }, 0, 0))).toBe('MEDIA_TOO_MANY_UPLOADS');
  });

  it('sweeps uploads idle for uploadTtlMs, not those with a chunk arriving', () => {
    const a = assembler();
    const idle = ticketOf(a.begin(decl({ clientMediaId: 'idle' }), { offset: 0, length: 10 }, 0, 0));
    a.commit(idle.id, 0);
    const busy = ticketOf(a.begin(decl({ clientMediaId: 'busy' }), { offset: 0, length: 10 }, 0, 0));
    const fresh = ticketOf(a.begin(decl({ clientMediaId: 'fresh' }), { offset: 0, length: 10 }, 0, 500));
    a.commit(fresh.id, 500);
    expect(a.sweep(999)).toEqual([]);
    expect(a.sweep(1000)).toEqual([idle.partId]);
    expect(a.missing(7, 'idle')).toBeUndefined();
    expect(a.missing(7, 'busy')).toBeDefined();
    expect(a.inProgressBytes(7)).toBe(500);
    // A begin sweeps too, handing back the parts to delete.
    const r = a.begin(decl({ clientMediaId: 'late' }), { offset: 0, length: 10 }, 0, 1500);
    expect(r.discard).toEqual([fresh.partId]);
    a.abort(busy.id, 1500);
  });

  it('starts an expired upload over', () => {
    const a = assembler();
    const t = ticketOf(a.begin(decl(), { offset: 0, length: 100 }, 0, 0));
    a.commit(t.id, 0);
    const again = a.begin(decl(), { offset: 100, length: 100 }, 0, 5000);
    expect(again.discard).toEqual([t.partId]);
    expect(ticketOf(again).partId).not.toBe(t.partId);
    expect(a.missing(7, 'c1')).toEqual([{ start: 0, end: 250 }]);
  });
});
