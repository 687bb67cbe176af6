// The anti-abuse quotas: token buckets per account (or per recipient), filled
// by the commands' own `now` and kept in memory only. A table holds at most
// rateLimitEntries buckets; past that the oldest one is dropped, which
// refills it: memory stays bounded, and dropping errs on the generous side.
import type { CoreConfig } from './config.ts';
import { Ret, errorReply, type ErrorReply } from './ret.ts';

const MS_PER_SEC = 1000;
const SEC_PER_HOUR = 3600;

interface Bucket {
  tokens: number;
  at: number;
}

/** Keyed by account (a number) or by anything else with an identity (an address). */
export class TokenBuckets<K extends number | string = number> {
  /** Map order is creation order: the first entry is the oldest. */
  private readonly buckets = new Map<K, Bucket>();

  constructor(
    private readonly perSec: number,
    private readonly burst: number,
    private readonly maxEntries: number,
  ) {}

  /** Buckets held (for tests of the bound). */
  get size(): number {
    return this.buckets.size;
  }

  /** Milliseconds until `cost` tokens are there for `key` (0: now). Takes nothing. */
  wait(key: K, cost: number, now: number): number {
    const missing = cost - this.level(key, now);
    if (missing <= 0) return 0;
    // A rate of 0 never refills: the hint is as long as a hint can be.
    if (this.perSec <= 0) return Number.MAX_SAFE_INTEGER;
    return Math.max(1, Math.ceil((missing * MS_PER_SEC) / this.perSec));
  }

  /** Take `cost` tokens (after wait() said 0). */
  take(key: K, cost: number, now: number): void {
    const b = this.buckets.get(key);
    if (b) {
      // Updated in place: this runs on every send.
      b.tokens = this.refilled(b, now) - cost;
      b.at = now;
      return;
    }
    this.buckets.set(key, { tokens: this.burst - cost, at: now });
    if (this.buckets.size > this.maxEntries) this.buckets.delete(this.buckets.keys().next().value!);
  }

  /** Take `cost` tokens whether or not they are there, leaving at most `maxDebt` owed. */
  drain(key: K, cost: number, now: number, maxDebt: number): void {
    const level = this.level(key, now);
    const owed = Math.max(-maxDebt, level - cost);
    if (owed >= level) return;
    this.take(key, level - owed, now);
  }

  private level(key: K, now: number): number {
    const b = this.buckets.get(key);
    return b ? this.refilled(b, now) : this.burst;
  }

  private refilled(b: Bucket, now: number): number {
    // A clock that went back refills nothing.
    const elapsed = Math.max(0, now - b.at);
    return Math.min(this.burst, b.tokens + (elapsed * this.perSec) / MS_PER_SEC);
  }
}

/** The quota tables of one core. */
export interface Quotas {
  /** Per sending account: messages. */
  readonly sendMessages: TokenBuckets;
  /** Per sending account: Content bytes. */
  readonly sendBytes: TokenBuckets;
  /** Per sending account: log items appended (a message's fan-out). */
  readonly sendDeliveries: TokenBuckets;
  /** Per recipient: direct messages from strangers, all strangers together. */
  readonly strangerMessages: TokenBuckets;
  /** Per account: chat rooms created. */
  readonly groupCreates: TokenBuckets;
}

export function quotas(c: CoreConfig): Quotas {
  const n = c.rateLimitEntries;
  return {
    sendMessages: new TokenBuckets(c.sendMessagesPerSec, c.sendMessageBurst, n),
    sendBytes: new TokenBuckets(c.sendBytesPerSec, c.sendByteBurst, n),
    sendDeliveries: new TokenBuckets(c.sendDeliveriesPerSec, c.sendDeliveryBurst, n),
    strangerMessages: new TokenBuckets(c.strangerMessagesPerSec, c.strangerMessageBurst, n),
    groupCreates: new TokenBuckets(c.groupCreatesPerHour / SEC_PER_HOUR, c.groupCreateBurst, n),
  };
}

/** Ret 1111; the ErrMsg ends with the hint a client waits for: `retry after <ms> ms`. */
export function rateLimited(what: string, waitMs: number): ErrorReply {
  return errorReply(Ret.RateLimited, `${what}: retry after ${waitMs} ms`);
}

/**
 * One send against the sender's quotas (messages and bytes): refused with
 * 1111 if either is short, else both are taken.
 */
export function takeSendQuota(q: Quotas, uin: number, bytes: number, now: number): ErrorReply | undefined {
  const wait = Math.max(q.sendMessages.wait(uin, 1, now), q.sendBytes.wait(uin, bytes, now));
  if (wait > 0) return rateLimited('too many messages sent', wait);
  q.sendMessages.take(uin, 1, now);
  q.sendBytes.take(uin, bytes, now);
  return undefined;
}

/** A send's fan-out, once its recipients are known: `deliveries` log items against the sender's quota (1111 if short). */
export function takeFanoutQuota(q: Quotas, uin: number, deliveries: number, now: number): ErrorReply | undefined {
  const wait = q.sendDeliveries.wait(uin, deliveries, now);
  if (wait > 0) return rateLimited('messages reach too many recipients', wait);
  q.sendDeliveries.take(uin, deliveries, now);
  return undefined;
}
