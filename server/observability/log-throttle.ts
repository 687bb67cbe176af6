// Under attack, one log line per refused connection would itself be the
// flood. A LogThrottle lets the first few lines of each key through per
// window and counts the rest; the next line let through carries how many
// were dropped, so the log stays readable and the counts stay true (the
// metrics count every event regardless).

export interface ThrottleVerdict {
  /** Log this one. */
  log: boolean;
  /** Lines of this key dropped since the last one logged. */
  suppressed: number;
}

interface Window {
  startAt: number;
  logged: number;
  suppressed: number;
}

export class LogThrottle {
  private readonly windows = new Map<string, Window>();

  constructor(
    /** Lines let through per key and window. */
    private readonly perWindow: number,
    private readonly windowMs: number,
    /** Keys remembered at most (keys may be account uins, which an attacker can vary). */
    private readonly maxKeys: number,
  ) {}

  check(key: string, now: number): ThrottleVerdict {
    let w = this.windows.get(key);
    if (w && now - w.startAt >= this.windowMs) {
      const suppressed = w.suppressed;
      w = { startAt: now, logged: 1, suppressed: 0 };
      this.windows.set(key, w);
      return { log: true, suppressed };
    }
    if (!w) {
      // Forgetting keys only costs a line logged again, never a line held back forever.
      if (this.windows.size >= this.maxKeys) this.windows.clear();
      this.windows.set(key, { startAt: now, logged: 1, suppressed: 0 });
      return { log: true, suppressed: 0 };
    }
    if (w.logged < this.perWindow) {
      w.logged++;
      const suppressed = w.suppressed;
      w.suppressed = 0;
      return { log: true, suppressed };
    }
    w.suppressed++;
    return { log: false, suppressed: w.suppressed };
  }
}
