// A token bucket per address key: `burst` at once, refilled at perHour,
// filled by the inputs' own `now` and kept in memory only (a restart
// refills every bucket). Registrations are counted with it. The table is
// bounded (BoundedTable): a dropped bucket starts full again.
import { BoundedTable } from './bounded-table.ts';

const MS_PER_HOUR = 3_600_000;

interface Bucket {
  tokens: number;
  at: number;
}

export class AddressQuota {
  private readonly table: BoundedTable<Bucket>;

  constructor(
    private readonly perHour: number,
    private readonly burst: number,
    maxEntries: number,
  ) {
    this.table = new BoundedTable(maxEntries);
  }

  get size(): number {
    return this.table.size;
  }

  /** Milliseconds until `key` has a token (0: now). Takes nothing. */
  wait(key: string, now: number): number {
    const missing = 1 - this.level(key, now);
    if (missing <= 0) return 0;
    return Math.max(1, Math.ceil((missing * MS_PER_HOUR) / this.perHour));
  }

  /** Take a token (after wait() said 0). */
  take(key: string, now: number): void {
    this.table.set(key, { tokens: this.level(key, now) - 1, at: now });
  }

  private level(key: string, now: number): number {
    const b = this.table.get(key);
    if (!b) return this.burst;
    // A clock that went back refills nothing.
    const elapsed = Math.max(0, now - b.at);
    return Math.min(this.burst, b.tokens + (elapsed * this.perHour) / MS_PER_HOUR);
  }
}
