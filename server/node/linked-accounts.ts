// The accounts with an authenticated long link on this node, learned from
// the link hub's own reports (an auth that succeeded; an op 6 sent) and the
// driver's closes. A notice from another node that says `everyone` wakes the
// links of each of them (docs/protocol.md section 9.3).
import type { AnswerWatch } from './answer-counts.ts';

export class LinkedAccounts {
  private readonly uinByLink = new Map<number, number>();

  /** `inner`, with this table kept up to date; every hook `inner` sets is kept (an `answered` only if it sets one). */
  watch(inner: AnswerWatch | undefined): AnswerWatch {
    const answered = inner?.answered?.bind(inner);
    const throttled = inner?.throttled?.bind(inner);
    return {
      ...(answered ? { answered } : {}),
      ...(throttled ? { throttled } : {}),
      authenticated: (link, uin) => {
        this.uinByLink.set(link, uin);
        inner?.authenticated?.(link, uin);
      },
      disconnected: (d) => {
        this.uinByLink.delete(d.link);
        inner?.disconnected?.(d);
      },
    };
  }

  closed(link: number): void {
    this.uinByLink.delete(link);
  }

  /** Each account once. */
  uins(): Set<number> {
    return new Set(this.uinByLink.values());
  }
}
