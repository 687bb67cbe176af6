// One contract for both MediaFiles (on disk and in memory), then what only
// the disk can show: where files go, that they are stored once, and that an
// interrupted upload never leaves a final file.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsMediaFiles, type MediaFiles } from '../../server/media/media-files.ts';
import { MemoryMediaFiles } from '../../server/media/memory-media-files.ts';
import { md5Hex, patternBytes, sha256Hex } from './multipart-body.ts';

async function collect(s: AsyncIterable<unknown>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of s) out.push(c as Buffer);
  return Buffer.concat(out);
}

async function writeAll(files: MediaFiles, partId: string, bytes: Uint8Array, order: number[], chunk: number): Promise<void> {
  const h = await files.openPart(partId);
  for (const i of order) await h.write(i * chunk, bytes.subarray(i * chunk, (i + 1) * chunk));
  await h.close();
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'media-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const kinds: [string, () => Promise<MediaFiles>][] = [
  ['on disk', () => FsMediaFiles.open(dir)],
  ['in memory', async () => new MemoryMediaFiles()],
];

describe.each(kinds)('MediaFiles %s', (_kind, make) => {
  it('assembles chunks written out of order and stores them under their SHA-256', async () => {
    const files = await make();
    const bytes = patternBytes(1000);
    await writeAll(files, 'u1', bytes, [3, 0, 2, 1], 250);
    const h = await files.openPart('u1');
    expect(Buffer.from(await h.read(240, 20))).toEqual(Buffer.from(bytes.subarray(240, 260)));
    await h.close();
    const r = await files.finalize('u1', 1000, md5Hex(bytes));
    expect(r).toEqual({ ok: true, file: { sha256: sha256Hex(bytes), md5: md5Hex(bytes), size: 1000, deduplicated: false } });
    expect(await files.contentSize(sha256Hex(bytes))).toBe(1000);
    expect(await collect(files.readContent(sha256Hex(bytes), 10, 19))).toEqual(Buffer.from(bytes.subarray(10, 20)));
  });

  it('stores identical content once', async () => {
    const files = await make();
    const bytes = patternBytes(300, 2);
    await writeAll(files, 'a', bytes, [0], 300);
    await writeAll(files, 'b', bytes, [0], 300);
    const first = await files.finalize('a', 300, md5Hex(bytes));
    const second = await files.finalize('b', 300, md5Hex(bytes));
    expect(first.ok && first.file.deduplicated).toBe(false);
    expect(second.ok && second.file.deduplicated).toBe(true);
    expect(await files.clearParts()).toBe(0);
  });

  it('stores nothing when the MD5 does not match, and removes the part', async () => {
    const files = await make();
    const bytes = patternBytes(100, 3);
    await writeAll(files, 'bad', bytes, [0], 100);
    const r = await files.finalize('bad', 100, 'f'.repeat(32));
    expect(r).toEqual({ ok: false, md5: md5Hex(bytes) });
    expect(await files.contentSize(sha256Hex(bytes))).toBeUndefined();
    expect(await files.clearParts()).toBe(0);
  });

  it('refuses part ids and hashes that could escape their folder', async () => {
    const files = await make();
    await expect(files.openPart('../x')).rejects.toThrow(/bad part id/);
    await expect(files.deletePart('a/b')).rejects.toThrow(/bad part id/);
    await expect(files.contentSize('../../etc/passwd')).rejects.toThrow(/bad content hash/);
  });
});

describe('FsMediaFiles on disk', () => {
  it('puts parts under media/tmp and content under media/<2 hex>/<sha256>, nothing else', async () => {
    const files = await FsMediaFiles.open(dir);
    const bytes = patternBytes(64, 4);
    await writeAll(files, 'p1', bytes, [0], 64);
    expect(await readdir(path.join(dir, 'media', 'tmp'))).toEqual(['p1']);
    await files.finalize('p1', 64, md5Hex(bytes));
    const sha = sha256Hex(bytes);
    expect(await readdir(path.join(dir, 'media', 'tmp'))).toEqual([]);
    expect((await readdir(path.join(dir, 'media'))).sort()).toEqual([sha.slice(0, 2), 'tmp'].sort());
    expect(await readFile(path.join(dir, 'media', sha.slice(0, 2), sha))).toEqual(Buffer.from(bytes));
  });

  it('after a crash mid-upload holds no final file, and clearParts removes the part', async () => {
    const before = await FsMediaFiles.open(dir);
    const bytes = patternBytes(500, 5);
    await writeAll(before, 'p1', bytes, [0, 1, 2, 3], 100); // 4 of 5 chunks, then the process dies
    const after = await FsMediaFiles.open(dir);
    expect(await after.contentSize(sha256Hex(bytes))).toBeUndefined();
    expect(await readdir(path.join(dir, 'media'))).toEqual(['tmp']);
    expect(await after.clearParts()).toBe(1);
    expect(await readdir(path.join(dir, 'media', 'tmp'))).toEqual([]);
  });

  it('leaves no final file when storing fails half-way', async () => {
    const files = await FsMediaFiles.open(dir);
    const bytes = patternBytes(80, 6);
    const sha = sha256Hex(bytes);
    // The folder the file would go to cannot be made: a plain file holds its name.
    await writeFile(path.join(dir, 'media', sha.slice(0, 2)), 'in the way');
    await writeAll(files, 'p1', bytes, [0], 80);
    await expect(files.finalize('p1', 80, md5Hex(bytes))).rejects.toThrow();
    expect(await readFile(path.join(dir, 'media', sha.slice(0, 2)), 'utf8')).toBe('in the way');
    expect(await readdir(path.join(dir, 'media', 'tmp'))).toEqual(['p1']);
    await rm(path.join(dir, 'media', sha.slice(0, 2)));
    expect(await files.contentSize(sha)).toBeUndefined();
    // The part is still whole: the upload could be stored on a retry.
    const again = await files.finalize('p1', 80, md5Hex(bytes));
    expect(again.ok).toBe(true);
  });

  it('keeps earlier chunks when a later request opens the part again', async () => {
    const files = await FsMediaFiles.open(dir);
    const bytes = patternBytes(20, 7);
    await writeAll(files, 'p1', bytes, [1], 10);
    await writeAll(files, 'p1', bytes, [0], 10);
    const r = await files.finalize('p1', 20, md5Hex(bytes));
    expect(r.ok).toBe(true);
  });
});
