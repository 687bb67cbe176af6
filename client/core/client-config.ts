// Every timeout, backoff and bound of the reference client, named for its
// unit. The simulator draws them from its seed; the real-network adapter
// takes the defaults.
export interface ClientConfig {
  /**
   * The synccheck long poll unanswered this long counts as failed. Must exceed
   * the server's synccheck hold (25 s by default).
   */
  httpTimeoutMs: number;
  /**
   * Every other request: an HTTP request unanswered this long counts as failed;
   * a long-link reply (auth, sync, send, heartbeat), or a connect, that takes
   * longer closes the link. A send waiting for the transport waits this long.
   */
  replyTimeoutMs: number;
  /** First retry delay of a failed request (sends, the HTTP sync loop); doubles per failure. */
  retryBaseMs: number;
  /** Cap of that delay. */
  retryMaxMs: number;
  /** A message is failed (sendFailed) after this many tries; `resend` starts over. */
  maxSendAttempts: number;
  /** First delay before reconnecting a lost long link; doubles per consecutive failure. */
  reconnectBaseMs: number;
  /** Cap of that delay. */
  reconnectMaxMs: number;
  /** On a long link, sync at least this often even without a notification (notifications can be lost). */
  safetySyncMs: number;
  /** Heartbeat interval when the auth reply names none (the server sends HeartbeatSec). */
  defaultHeartbeatMs: number;
  /** Messages kept in the inbox; the oldest go first, and their ids leave the dedup set with them. */
  maxInbox: number;
}

export const DEFAULT_CLIENT_CONFIG: Readonly<ClientConfig> = Object.freeze({
  httpTimeoutMs: 35_000,
  replyTimeoutMs: 15_000,
  retryBaseMs: 1_000,
  retryMaxMs: 60_000,
  maxSendAttempts: 8,
  reconnectBaseMs: 1_000,
  reconnectMaxMs: 60_000,
  safetySyncMs: 120_000,
  defaultHeartbeatMs: 240_000,
  maxInbox: 100_000,
});

const INTEGERS: ReadonlyArray<keyof ClientConfig> = ['maxSendAttempts', 'maxInbox'];

/** The defaults with `over` applied, checked: every value a positive number, counts integers, caps >= bases. */
export function clientConfig(over: Partial<ClientConfig> = {}): ClientConfig {
  const c: ClientConfig = { ...DEFAULT_CLIENT_CONFIG, ...over };
  for (const [k, v] of Object.entries(c) as Array<[keyof ClientConfig, unknown]>) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new RangeError(`client config ${k} must be a positive number, got ${String(v)}`);
    }
    if (INTEGERS.includes(k) && !Number.isInteger(v)) {
      throw new RangeError(`client config ${k} must be an integer, got ${v}`);
    }
  }
  if (c.retryMaxMs < c.retryBaseMs) {
    throw new RangeError(`client config retryMaxMs (${c.retryMaxMs}) must be at least retryBaseMs (${c.retryBaseMs})`);
  }
  if (c.reconnectMaxMs < c.reconnectBaseMs) {
    throw new RangeError(
      `client config reconnectMaxMs (${c.reconnectMaxMs}) must be at least reconnectBaseMs (${c.reconnectBaseMs})`,
    );
  }
  return c;
}
