// The cross-node notify between nodes of one process (tests, and a simulator
// that runs several nodes on one store): what PgChangeBus does over
// PostgreSQL's LISTEN/NOTIFY, as a queue the driver empties when it likes. A
// notice goes through the same payloads as on PostgreSQL, so their bounds
// hold here too, to every member but its publisher, and only when
// deliver() is called: late, lost (`drop`) or never, as the test decides.
import { DEFAULT_PAYLOAD_LIMITS, decodeChanges, encodeChanges, type Change, type ChangePublisher, type ChangeSink, type PayloadLimits } from './change-bus.ts';

interface Member {
  id: string;
  sink: ChangeSink;
}

export class MemoryChangeBus {
  private readonly members: Member[] = [];
  private queue: Array<{ to: Member; payload: string }> = [];
  /** Notices delivered and dropped so far. */
  delivered = 0;
  dropped = 0;

  constructor(private readonly limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS) {}

  /** A node joins as `id` (letters, digits, - and _); what it publishes goes to the others. */
  join(id: string, sink: ChangeSink): ChangePublisher {
    const me: Member = { id, sink };
    this.members.push(me);
    return {
      publish: (changes: readonly Change[]) => {
        for (const payload of encodeChanges(id, changes, this.limits)) {
          for (const to of this.members) if (to !== me) this.queue.push({ to, payload });
        }
      },
    };
  }

  /** A member leaves (its node crashed or stopped): nothing more reaches it. */
  leave(sink: ChangeSink): void {
    const i = this.members.findIndex((m) => m.sink === sink);
    if (i >= 0) this.members.splice(i, 1);
    this.queue = this.queue.filter((n) => n.to.sink !== sink);
  }

  /** Notices published and not yet delivered. */
  get pending(): number {
    return this.queue.length;
  }

  /** Hands out every notice queued so far, in order; `drop` loses the ones it picks. Returns how many were delivered. */
  deliver(drop: (payload: string, to: string) => boolean = () => false): number {
    const q = this.queue;
    this.queue = [];
    let n = 0;
    for (const { to, payload } of q) {
      if (!this.members.includes(to)) continue;
      if (drop(payload, to.id)) {
        this.dropped++;
        continue;
      }
      const { origin, changes } = decodeChanges(payload);
      if (origin === to.id) continue;
      to.sink.remoteChanges(changes);
      n++;
    }
    this.delivered += n;
    return n;
  }
}
