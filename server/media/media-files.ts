// Where media bytes live. An upload in progress writes its chunks at their
// offsets into one part file, `<dataDir>/media/tmp/<partId>`, so a big file
// never sits in memory; a finished one lives at
// `<dataDir>/media/<first two hex of its SHA-256>/<SHA-256>`, once per
// content, however many uploads (of however many accounts) brought it.
//
// Why SHA-256 and not the client's MD5 for the path: MD5 collisions are cheap
// to make, and a path shared by content must not let one upload stand in for
// another's bytes. MD5 is still checked, against FileMd5, in the same pass.
//
// Durability, so that a MediaId answered is never lost: finalize fsyncs the
// part file, renames it into place (atomic: a final path holds all of a
// verified file or nothing), then fsyncs the directory that received the
// name, before it resolves; only then may a record name it. A crash at any
// point before the rename leaves only a part file, which clearParts() removes
// at startup (uploads in progress live in memory and do not survive a
// restart; their clients start over). A crash after the rename and before the
// record commits leaves a file no record names: harmless, and what a future
// sweep of unreferenced content would remove.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';

export interface StoredFile {
  sha256: string;
  md5: string;
  size: number;
  /** The content was there already (another upload brought it): this one linked to it. */
  deduplicated: boolean;
}

export type FinalizeResult =
  | { ok: true; file: StoredFile }
  /** The bytes' MD5 was not the one expected: nothing stored, the part file is deleted. */
  | { ok: false; md5: string };

/** One request's access to a part file: opened once, closed when the request is done. */
export interface PartHandle {
  write(offset: number, bytes: Uint8Array): Promise<void>;
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface MediaFiles {
  /** Open (creating if need be) the part file of an upload in progress. */
  openPart(partId: string): Promise<PartHandle>;
  /**
   * Hash the part's first `size` bytes; if their MD5 is `md5`, make them
   * durable under their SHA-256 and resolve only then. The part file is gone
   * afterwards either way.
   */
  finalize(partId: string, size: number, md5: string): Promise<FinalizeResult>;
  deletePart(partId: string): Promise<void>;
  /** Delete every part file: at startup, when no upload is in progress. Resolves to how many. */
  clearParts(): Promise<number>;
  /** The size of stored content, or undefined if there is none. */
  contentSize(sha256: string): Promise<number | undefined>;
  /** Bytes start..end (inclusive) of stored content. */
  readContent(sha256: string, start: number, end: number): Readable;
}

const PART_ID = /^[A-Za-z0-9_-]{1,64}$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** Part ids come from the assembler, hashes from our own hashing; checked anyway, since they become paths. */
export function checkPartId(partId: string): void {
  if (!PART_ID.test(partId)) throw new Error(`bad part id ${JSON.stringify(partId)}`);
}

export function checkSha256(sha256: string): void {
  if (!SHA256.test(sha256)) throw new Error(`bad content hash ${JSON.stringify(sha256)}`);
}

export class FsMediaFiles implements MediaFiles {
  private readonly root: string;
  private readonly tmp: string;

  private constructor(dataDir: string) {
    this.root = path.join(dataDir, 'media');
    this.tmp = path.join(this.root, 'tmp');
  }

  /** The media files under `<dataDir>/media`, creating its folders. */
  static async open(dataDir: string): Promise<FsMediaFiles> {
    const files = new FsMediaFiles(dataDir);
    await mkdir(files.tmp, { recursive: true });
    return files;
  }

  /** Where content with this hash is (or would be) stored. */
  contentPath(sha256: string): string {
    checkSha256(sha256);
    return path.join(this.root, sha256.slice(0, 2), sha256);
  }

  partPath(partId: string): string {
    checkPartId(partId);
    return path.join(this.tmp, partId);
  }

  async openPart(partId: string): Promise<PartHandle> {
    // 'a+' would ignore positions on Linux; O_CREAT without O_TRUNC keeps earlier chunks.
    const h = await open(this.partPath(partId), 'r+').catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
      return open(this.partPath(partId), 'wx+').catch((e2: NodeJS.ErrnoException) => {
        // Another request of the same upload created it in between.
        if (e2.code === 'EEXIST') return open(this.partPath(partId), 'r+');
        throw e2;
      });
    });
    return fileHandlePart(h);
  }

  async finalize(partId: string, size: number, md5: string): Promise<FinalizeResult> {
    const part = this.partPath(partId);
    const digest = await hashFile(part, size);
    if (digest.md5 !== md5) {
      await unlink(part);
      return { ok: false, md5: digest.md5 };
    }
    const dest = this.contentPath(digest.sha256);
    const dir = path.dirname(dest);
    const made = await mkdir(dir, { recursive: true });
    if (made !== undefined) await syncDir(this.root);
    let deduplicated = false;
    if (await exists(dest)) {
      // Stored once: the earlier copy stays, and its directory entry is synced
      // again in case the upload that made it crashed before doing so.
      deduplicated = true;
      await unlink(part);
    } else {
      await syncFile(part);
      // Two identical uploads finishing at once both rename: the second
      // replaces the first with the same bytes, which no reader can tell.
      await rename(part, dest);
    }
    await syncDir(dir);
    return { ok: true, file: { sha256: digest.sha256, md5: digest.md5, size, deduplicated } };
  }

  async deletePart(partId: string): Promise<void> {
    await rm(this.partPath(partId), { force: true });
  }

  async clearParts(): Promise<number> {
    const names = await readdir(this.tmp);
    for (const n of names) await rm(path.join(this.tmp, n), { force: true, recursive: true });
    return names.length;
  }

  async contentSize(sha256: string): Promise<number | undefined> {
    try {
      return (await stat(this.contentPath(sha256))).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  readContent(sha256: string, start: number, end: number): Readable {
    return createReadStream(this.contentPath(sha256), { start, end });
  }
}

function fileHandlePart(h: FileHandle): PartHandle {
  return {
    async write(offset, bytes) {
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await h.write(bytes, done, bytes.length - done, offset + done);
        done += bytesWritten;
      }
    },
    async read(offset, length) {
      const buf = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await h.read(buf, done, length - done, offset + done);
        if (bytesRead === 0) throw new Error(`part file ends at ${offset + done}, before ${offset + length}`);
        done += bytesRead;
      }
      return buf;
    },
    close: () => h.close(),
  };
}

/** MD5 and SHA-256 of a file's first `size` bytes, in one read. */
async function hashFile(file: string, size: number): Promise<{ md5: string; sha256: string }> {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  let seen = 0;
  if (size > 0) {
    for await (const piece of createReadStream(file, { start: 0, end: size - 1 })) {
      md5.update(piece as Buffer);
      sha256.update(piece as Buffer);
      seen += (piece as Buffer).length;
    }
  }
  if (seen !== size) throw new Error(`part file holds ${seen} bytes, not ${size}`);
  return { md5: md5.digest('hex'), sha256: sha256.digest('hex') };
}

async function syncFile(file: string): Promise<void> {
  const h = await open(file, 'r+');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** A rename or a new name is durable only once its directory is synced. */
async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
