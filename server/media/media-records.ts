// Where MediaRecords live. The server's store holds them in its `media` table
// (server/store/sqlite-media.ts), reached through the node's commands
// (server/transport/upload-transport.ts); the upload flow takes this
// interface so it can be tested alone, and the simulator can use the memory
// one. Asynchronous because the real store commits in batches: put()
// resolves only once the record is durable, and only then is a MediaId
// answered.
import type { MediaRecord } from './media-id.ts';

export interface MediaRecords {
  get(mediaId: string): Promise<MediaRecord | undefined>;
  /** The record of a finished upload, by the client's id for it. */
  byClientMediaId(uin: number, clientMediaId: string): Promise<MediaRecord | undefined>;
  /** Sum of the sizes of the account's records: what its quota counts as stored. */
  storedBytes(uin: number): Promise<number>;
  /** Resolves once durable. A second record for (ownerUin, clientMediaId) is refused. */
  put(record: MediaRecord): Promise<void>;
}

export class MemoryMediaRecords implements MediaRecords {
  private readonly byId = new Map<string, MediaRecord>();
  private readonly byClient = new Map<string, MediaRecord>();

  get size(): number {
    return this.byId.size;
  }

  async get(mediaId: string): Promise<MediaRecord | undefined> {
    return this.byId.get(mediaId);
  }

  async byClientMediaId(uin: number, clientMediaId: string): Promise<MediaRecord | undefined> {
    return this.byClient.get(`${uin}:${clientMediaId}`);
  }

  async storedBytes(uin: number): Promise<number> {
    let n = 0;
    for (const r of this.byId.values()) if (r.ownerUin === uin) n += r.size;
    return n;
  }

  async put(record: MediaRecord): Promise<void> {
    const k = `${record.ownerUin}:${record.clientMediaId}`;
    if (this.byId.has(record.mediaId) || this.byClient.has(k)) throw new Error(`media record ${record.mediaId} (${k}) exists`);
    this.byId.set(record.mediaId, { ...record });
    this.byClient.set(k, { ...record });
  }
}
