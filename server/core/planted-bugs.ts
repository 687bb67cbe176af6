// Realistic bugs that a test seam can switch on, to prove the checkers catch
// them. Production code takes an empty set; nothing here changes defaults.
export const PLANTED_BUGS = [
  /** The server stores a retried send again instead of answering its first MsgID. */
  'skip-dedup',
  /** The acknowledged position moves when items are fetched, not when the new key is presented. */
  'ack-on-fetch',
  /** Sequence numbers come from a volatile counter that restarts at zero after a crash. */
  'volatile-seq',
  /** The answer leaves before the commit. */
  'answer-before-commit',
  /** The client applies messages without MsgId deduplication. */
  'client-no-dedup',
  /** Group fan-out appends in a different member order per message, so members disagree on order. */
  'group-order-per-member',
  /** Retention deletes items no device acknowledged yet. */
  'prune-unacked',
  /** ContinueFlag paging skips the first item of the next page. */
  'continue-off-by-one',
  /** A synccheck poll misses an item appended while it was being set up. */
  'synccheck-race',
  /** A full log makes room by dropping its oldest item even when a live device has not consumed it (the old cap eviction). */
  'evict-unconsumed',
] as const;

export type PlantedBug = (typeof PLANTED_BUGS)[number];

export type BugSet = ReadonlySet<PlantedBug>;

export const NO_BUGS: BugSet = new Set();

export function parseBug(name: string): PlantedBug {
  const b = PLANTED_BUGS.find((x) => x === name);
  if (!b) throw new RangeError(`unknown planted bug '${name}'; known: ${PLANTED_BUGS.join(', ')}`);
  return b;
}
