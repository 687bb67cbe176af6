// Every limit of the protocol core, named for its unit. docs/limits.md lists
// them; the CLI and the scenarios override them.
export interface CoreConfig {
  /** Items returned by one sync call at most; more remain → ContinueFlag 1. */
  syncLimit: number;
  /** Message Content, in UTF-8 bytes. */
  maxContentBytes: number;
  /**
   * A sync reply's items, JSON-encoded, in bytes at most: a reply must fit one
   * long-link packet (64 KiB body by default), so pages are cut by size as well
   * as by count, and a message whose encoded form could not fit is refused (1105).
   */
  maxSyncReplyBytes: number;
  /** Members of one group chat, the creator included. */
  maxGroupMembers: number;
  /** Logged-in devices of one account at once. */
  maxDevicesPerAccount: number;
  /** A session unused this long is expired (Ret 1100) and stops holding retention. */
  sessionTtlMs: number;
  /** Skey age after which webwxinit/webwxsync issue a new one. */
  skeyRotateMs: number;
  /** Items are kept at least this long, even when every device acknowledged them. */
  minRetentionMs: number;
  /** Items older than this are pruned even if unacknowledged (devices behind get 1200). */
  maxRetentionMs: number;
  /** Items kept per account and category; the oldest go first (devices behind get 1200). */
  maxLogItemsPerCategory: number;
  /** How long a ClientMsgId is remembered for deduplication. */
  dedupRetentionMs: number;
  /** An account's log is pruned at most this often (on its syncs). */
  pruneIntervalMs: number;
  /** A device's lastSeenAt is written at most this often. */
  lastSeenGranularityMs: number;
  /** Items examined by one prune pass per category. */
  pruneBatch: number;
  /** Accounts the background retention sweep looks at per step. */
  sweepBatch: number;
  /**
   * The sweep prunes an account that has not been pruned for this long (its
   * own syncs prune it more often): retention holds for accounts that never sync.
   */
  sweepAccountIntervalMs: number;
  /** Contacts returned by webwxinit. */
  maxInitContacts: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const DEFAULT_CORE_CONFIG: Readonly<CoreConfig> = Object.freeze({
  syncLimit: 100,
  maxContentBytes: 32 * 1024,
  maxSyncReplyBytes: 60 * 1024,
  maxGroupMembers: 500,
  maxDevicesPerAccount: 8,
  sessionTtlMs: 30 * DAY,
  skeyRotateMs: HOUR,
  minRetentionMs: HOUR,
  maxRetentionMs: 90 * DAY,
  maxLogItemsPerCategory: 100_000,
  dedupRetentionMs: 90 * DAY,
  pruneIntervalMs: 60_000,
  lastSeenGranularityMs: 60_000,
  pruneBatch: 1000,
  sweepBatch: 64,
  sweepAccountIntervalMs: HOUR,
  maxInitContacts: 1000,
});

export function coreConfig(over: Partial<CoreConfig> = {}): CoreConfig {
  const c = { ...DEFAULT_CORE_CONFIG, ...over };
  for (const [k, v] of Object.entries(c)) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`core config ${k} must be a non-negative number, got ${v}`);
  }
  if (c.syncLimit < 1) throw new RangeError('core config syncLimit must be at least 1');
  return c;
}
