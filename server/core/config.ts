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
  /** Contacts in one webwxgetcontact page; more remain → a non-zero Seq. */
  contactPageSize: number;
  /** Names one webwxbatchgetcontact may ask for (Ret 1102 beyond). */
  maxBatchContacts: number;
  /** webwxbatchgetcontact's ContactList, JSON-encoded, in bytes at most: entries past it are left out. */
  maxContactReplyBytes: number;

  // ---- anti-abuse limits (docs/limits.md marks them). Rates are token
  // buckets filled by the commands' `now`, kept in memory (a restart refills them).

  /** webwxinit's ContactList, JSON-encoded, in bytes at most: later contacts are left out. */
  maxInitContactBytes: number;
  /** Messages one account may send per second, sustained (Ret 1111 beyond). */
  sendMessagesPerSec: number;
  /** Messages one account may send at once before the sustained rate applies. */
  sendMessageBurst: number;
  /** Content bytes (UTF-8) one account may send per second, sustained (Ret 1111 beyond). */
  sendBytesPerSec: number;
  /** Content bytes one account may send at once; at least maxContentBytes. */
  sendByteBurst: number;
  /**
   * Log items one account's chat-room messages may append per second, sustained
   * (a message to N members costs N): what a send costs the server grows with
   * its fan-out, not with the message (Ret 1111 beyond).
   */
  sendDeliveriesPerSec: number;
  /** Log items one account's chat-room messages may append at once; at least maxGroupMembers. */
  sendDeliveryBurst: number;
  /**
   * Direct messages from strangers one recipient takes per second, all strangers
   * together (Ret 1111 beyond). A sender is a stranger to a recipient who never
   * sent it a direct message nor created a chat room it is in.
   */
  strangerMessagesPerSec: number;
  /** Direct messages from strangers one recipient takes at once. */
  strangerMessageBurst: number;
  /**
   * A stranger's message is refused (Ret 1110) once the recipient's message log
   * holds this many items, so strangers cannot fill the room its contacts need.
   */
  maxStrangerBacklog: number;
  /** Chat rooms one account may create per hour, sustained (Ret 1111 beyond). */
  groupCreatesPerHour: number;
  /** Chat rooms one account may create at once. */
  groupCreateBurst: number;
  /** Accounts (or recipients) each rate table tracks; past it the oldest entry is dropped (its quota refills). */
  rateLimitEntries: number;
  /** Superseded Sids a device remembers (as fingerprints), so that an old install hears 1101, not 1100. */
  retiredSidsPerDevice: number;
  /** Device records one account keeps; a login past it drops the least recently seen device that is not live. */
  maxDeviceRecordsPerAccount: number;
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
  // The real web client asks for contacts in pages and for rooms' members 50 names at a time.
  contactPageSize: 500,
  maxBatchContacts: 50,
  maxContactReplyBytes: 4 * 1024 * 1024,
  maxInitContactBytes: 512 * 1024,
  // Generous enough that no scenario and no load-test profile meets them
  // (a saturating load-test account sends a few hundred messages a second at most).
  sendMessagesPerSec: 200,
  sendMessageBurst: 2000,
  sendBytesPerSec: 2 * 1024 * 1024,
  sendByteBurst: 16 * 1024 * 1024,
  // Two messages to a full room at once, then two a second: a room's fan-out is
  // work the server does for every member (profiled: about 10 ms per 500).
  sendDeliveriesPerSec: 1000,
  sendDeliveryBurst: 1_000,
  strangerMessagesPerSec: 20,
  strangerMessageBurst: 500,
  maxStrangerBacklog: 50_000,
  groupCreatesPerHour: 30,
  groupCreateBurst: 30,
  rateLimitEntries: 100_000,
  retiredSidsPerDevice: 16,
  maxDeviceRecordsPerAccount: 32,
});

export function coreConfig(over: Partial<CoreConfig> = {}): CoreConfig {
  const c = { ...DEFAULT_CORE_CONFIG, ...over };
  for (const [k, v] of Object.entries(c)) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`core config ${k} must be a non-negative number, got ${v}`);
  }
  if (c.syncLimit < 1) throw new RangeError('core config syncLimit must be at least 1');
  if (c.contactPageSize < 1) throw new RangeError('core config contactPageSize must be at least 1');
  if (c.sendByteBurst < c.maxContentBytes) {
    throw new RangeError(`core config sendByteBurst (${c.sendByteBurst}) must be at least maxContentBytes (${c.maxContentBytes})`);
  }
  if (c.sendDeliveryBurst < c.maxGroupMembers) {
    throw new RangeError(`core config sendDeliveryBurst (${c.sendDeliveryBurst}) must be at least maxGroupMembers (${c.maxGroupMembers})`);
  }
  if (c.maxDeviceRecordsPerAccount <= c.maxDevicesPerAccount) {
    throw new RangeError(`core config maxDeviceRecordsPerAccount (${c.maxDeviceRecordsPerAccount}) must exceed maxDevicesPerAccount (${c.maxDevicesPerAccount})`);
  }
  if (c.rateLimitEntries < 1) throw new RangeError('core config rateLimitEntries must be at least 1');
  return c;
}

/**
 * The per-account and per-recipient quotas lifted out of reach, for what
 * measures the server's throughput rather than its quotas: benchmarks and
 * load tests, whose few accounts do the traffic of many users.
 */
export const QUOTAS_LIFTED: Readonly<Partial<CoreConfig>> = Object.freeze({
  sendMessagesPerSec: 1e9,
  sendMessageBurst: 1e9,
  sendBytesPerSec: 1e12,
  sendByteBurst: 1e12,
  sendDeliveriesPerSec: 1e9,
  sendDeliveryBurst: 1e9,
  strangerMessagesPerSec: 1e9,
  strangerMessageBurst: 1e9,
  maxStrangerBacklog: 1e9,
  groupCreatesPerHour: 1e9,
  groupCreateBurst: 1e9,
});
