// Where this device stands in the server's log: its SyncKey, what it presents
// (0 for a category that asks for everything retained), and how it takes in
// the key of a login, an init or a link auth, before and after a 1200.
import { CATEGORIES } from '../../server/core/model.ts';
import { syncKeyFromEntries, type SyncKeyMap } from '../../server/wire/synckey.ts';
import { mergeSyncKey, syncKeyPairs } from './client-state.ts';
import type { OutputQueue } from './client-output.ts';

/**
 * After a 1200 the next init or auth key is taken in differently (see
 * adoptInitKey): 'askRetained' asks for what is retained where we are behind;
 * 'adoptAsGiven' takes the key as it is (that ask got a 1200 too).
 */
type ResyncState = 'none' | 'askRetained' | 'adoptAsGiven';

/** A position of 0 asks for everything the server retains. */
const FROM_START = 0;

function isDataCategory(key: number): boolean {
  return (CATEGORIES as readonly number[]).includes(key);
}

export class SyncPosition {
  readonly #output: OutputQueue;
  #key: SyncKeyMap;
  #resync: ResyncState = 'none';
  /** Data categories whose next sync presents 0, "everything retained" (see adoptInitKey). */
  #fromZero = new Set<number>();
  /** A resync event announced a gap before our first sync; not again until a sync reply. */
  #gapNoted = false;

  constructor(entries: Array<[number, number]>, output: OutputQueue) {
    this.#key = syncKeyFromEntries(entries);
    this.#output = output;
  }

  /** The key, sorted by key. */
  pairs(): Array<[number, number]> {
    return syncKeyPairs(this.#key);
  }

  /** Some category asks for everything retained: fetch at once, a poll could hold while we are below the floor. */
  get asksRetained(): boolean {
    return this.#fromZero.size > 0;
  }

  /** Ret 1200: announce the gap; the next init or auth key says where to go on. */
  resyncNeeded(): void {
    this.#output.event({ kind: 'resync' });
    // Asking for everything retained got a 1200 as well: take the server's key as it is.
    this.#resync = this.#fromZero.size > 0 ? 'adoptAsGiven' : 'askRetained';
    this.#fromZero.clear();
  }

  /** The key a sync or synccheck presents: ours, with 0 for the categories that ask for everything retained. */
  presented(): SyncKeyMap {
    if (this.#fromZero.size === 0) return this.#key;
    const k = new Map(this.#key);
    for (const c of this.#fromZero) k.set(c, FROM_START);
    return k;
  }

  /**
   * The key of manualauth, webwxinit or a link auth is max(what this device
   * acknowledged, the retention floor). Jumping to it could skip items still
   * retained (another instance of this device acknowledged them, or this is a
   * restart from an older save or a fresh install of a known device) or
   * pruned ones without a word. So a data category keeps our own position (0
   * when new: everything retained) and the server answers 1200 if it is below
   * the floor, a gap the resync event announces. After that 1200, a category
   * where the server's key is ahead of our non-zero position asks for
   * everything retained (presents 0 in the next sync, which answers from the
   * floor: the retained items this instance lacks come, those it holds are
   * dropped as duplicates by MsgId); a category at 0 takes the server's key
   * (presenting 0 is what got the 1200), and so does every category if the
   * ask for everything retained got a 1200 too. A position of 0 gets no 1200
   * otherwise (it asks for everything retained), so when the server's key is
   * ahead of a 0 we announce the possible gap ourselves: what was pruned
   * before this device first synced will not come. Keys of other categories
   * are kept as given, to be echoed.
   */
  adoptInitKey(k: SyncKeyMap): boolean {
    switch (this.#resync) {
      case 'adoptAsGiven':
        this.#resync = 'none';
        return this.#merge(k);
      case 'askRetained': {
        this.#resync = 'none';
        const m: SyncKeyMap = new Map();
        for (const [key, val] of k) {
          const own = this.#key.get(key) ?? FROM_START;
          if (isDataCategory(key) && own > FROM_START && val > own) this.#fromZero.add(key);
          else m.set(key, val);
        }
        return this.#merge(m);
      }
      case 'none': {
        const m: SyncKeyMap = new Map();
        let behind = false;
        for (const [key, val] of k) {
          const data = isDataCategory(key);
          if (data && val > FROM_START && (this.#key.get(key) ?? FROM_START) === FROM_START) behind = true;
          m.set(key, data ? FROM_START : val);
        }
        if (behind && !this.#gapNoted) {
          this.#gapNoted = true;
          this.#output.event({ kind: 'resync' });
        }
        return this.#merge(m);
      }
    }
  }

  /** A sync reply's key; the reply is at least the floor where we asked for everything retained. */
  adoptSyncKey(k: SyncKeyMap): boolean {
    this.#gapNoted = false;
    this.#fromZero.clear();
    return this.#merge(k);
  }

  #merge(k: SyncKeyMap): boolean {
    if (!mergeSyncKey(this.#key, k)) return false;
    this.#output.event({ kind: 'syncKey', key: syncKeyPairs(this.#key) });
    return true;
  }
}
