// MediaFiles in memory, for tests and the simulator: the same contract as
// the files on disk (test/media/media-files.test.ts runs one suite on both),
// with no durability to speak of. A `crash()` forgets part files the way a
// restart followed by clearParts() does, and keeps stored content.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { checkPartId, checkSha256, type FinalizeResult, type MediaFiles, type PartHandle } from './media-files.ts';

export class MemoryMediaFiles implements MediaFiles {
  private readonly parts = new Map<string, Uint8Array>();
  private readonly content = new Map<string, Uint8Array>();

  /** Part files present (for tests). */
  get partCount(): number {
    return this.parts.size;
  }

  /** Distinct contents stored (for tests). */
  get contentCount(): number {
    return this.content.size;
  }

  async openPart(partId: string): Promise<PartHandle> {
    checkPartId(partId);
    if (!this.parts.has(partId)) this.parts.set(partId, new Uint8Array(0));
    const parts = this.parts;
    const current = (): Uint8Array => {
      const p = parts.get(partId);
      if (!p) throw new Error(`part ${partId} was deleted`);
      return p;
    };
    return {
      async write(offset, bytes) {
        let p = current();
        if (offset + bytes.length > p.length) {
          const grown = new Uint8Array(offset + bytes.length);
          grown.set(p);
          p = grown;
          parts.set(partId, p);
        }
        p.set(bytes, offset);
      },
      async read(offset, length) {
        const p = current();
        if (offset + length > p.length) throw new Error(`part file ends at ${p.length}, before ${offset + length}`);
        return p.slice(offset, offset + length);
      },
      async close() {},
    };
  }

  async finalize(partId: string, size: number, md5: string): Promise<FinalizeResult> {
    checkPartId(partId);
    const p = this.parts.get(partId);
    if (!p || p.length < size) throw new Error(`part ${partId} holds fewer than ${size} bytes`);
    const bytes = p.slice(0, size);
    this.parts.delete(partId);
    const got = createHash('md5').update(bytes).digest('hex');
    if (got !== md5) return { ok: false, md5: got };
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const deduplicated = this.content.has(sha256);
    if (!deduplicated) this.content.set(sha256, bytes);
    return { ok: true, file: { sha256, md5: got, size, deduplicated } };
  }

  async deletePart(partId: string): Promise<void> {
    checkPartId(partId);
    this.parts.delete(partId);
  }

  async clearParts(): Promise<number> {
    const n = this.parts.size;
    this.parts.clear();
    return n;
  }

  async contentSize(sha256: string): Promise<number | undefined> {
    checkSha256(sha256);
    return this.content.get(sha256)?.length;
  }

  readContent(sha256: string, start: number, end: number): Readable {
    checkSha256(sha256);
    const c = this.content.get(sha256);
    if (!c) return new Readable({ read() { this.destroy(new Error(`no content ${sha256}`)); } });
    return Readable.from([Buffer.from(c.subarray(start, end + 1))]);
  }

  /** A restart: uploads in progress are lost, stored content stays. */
  crash(): void {
    this.parts.clear();
  }
}
