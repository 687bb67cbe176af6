// The media records of MemoryStore, and its answers to the media reads: kept
// apart from the store's other tables so that the store stays one concept a
// file. Writes push undo steps on the store's log like every other write.
import type { LogItem } from '../core/model.ts';
import type { MediaRecord } from '../media/media-id.ts';

export class MemoryMediaTable {
  private readonly byId = new Map<string, MediaRecord>();
  private readonly byClient = new Map<string, MediaRecord>();

  get(mediaId: string): MediaRecord | undefined {
    return this.byId.get(mediaId);
  }

  byClientMediaId(uin: number, clientMediaId: string): MediaRecord | undefined {
    return this.byClient.get(`${uin}:${clientMediaId}`);
  }

  storedBytes(uin: number): number {
    let n = 0;
    for (const r of this.byId.values()) if (r.ownerUin === uin) n += r.size;
    return n;
  }

  /** Throws on a second record of the same MediaId or (owner, ClientMediaId), as SQLite's keys do. */
  put(record: MediaRecord, undo: Array<() => void>): void {
    const k = `${record.ownerUin}:${record.clientMediaId}`;
    if (this.byId.has(record.mediaId) || this.byClient.has(k)) throw new Error(`MemoryStore: media record ${record.mediaId} (${k}) exists`);
    this.byId.set(record.mediaId, record);
    this.byClient.set(k, record);
    undo.push(() => {
      this.byId.delete(record.mediaId);
      this.byClient.delete(k);
    });
  }
}

/** The MediaId of message `msgId` in a message log ('' if it has none), or undefined if the log does not hold it. */
export function logMedia(items: readonly LogItem[], msgId: number): string | undefined {
  for (const i of items) if (i.category === 1 && i.data.MsgId === msgId) return i.data.MediaId ?? '';
  return undefined;
}

export function logHasMedia(items: readonly LogItem[], mediaId: string): boolean {
  return items.some((i) => i.category === 1 && i.data.MediaId === mediaId);
}
