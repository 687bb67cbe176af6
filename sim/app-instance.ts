// One running copy of the client app on a device: the real ClientCore plus
// the links it has on the simulated network, and its timer. A killed or
// replaced instance is dead: whatever still arrives for it is dropped.
import type { ClientCore } from '../client/core/client-core.ts';
import type { EventQueue } from './event-queue.ts';

/** A long link of the instance: its stream and the server's number for the same connection. */
export interface InstanceLink {
  stream: number;
  serverLink: number;
}

export class AppInstance {
  alive = true;
  /** Replaced by a newer login of the same device: runs until told 1101, unseen by the checkers. */
  ghost = false;
  /** Client link number → the open link. */
  readonly links = new Map<number, InstanceLink>();
  /** Only the latest timer fires: an earlier one finds the token moved on. */
  private timerToken = 0;
  private timerAt = Infinity;
  /** LocalIDs the server refused for good or that ran out of tries. */
  readonly failed = new Set<string>();
  /** `#id`, as trace lines name the instance. */
  readonly tag: string;

  constructor(
    readonly id: number,
    readonly device: string,
    readonly core: ClientCore,
    private readonly q: EventQueue,
  ) {
    this.tag = `#${id}`;
  }

  /** Feed an input to a live instance, then reschedule its timer. */
  input(f: (core: ClientCore) => void): void {
    if (!this.alive) return;
    f(this.core);
    this.settle();
  }

  /** Schedule the core's next wake-up, unless an earlier one is already set. */
  settle(): void {
    if (!this.alive) return;
    const wake = this.core.nextWakeAt();
    if (wake === undefined || wake >= this.timerAt) return;
    const token = ++this.timerToken;
    this.timerAt = Math.max(wake, this.q.now);
    this.q.schedule(this.timerAt, 'client-timer', this.device, () => {
      if (!this.alive || this.timerToken !== token) return;
      this.timerAt = Infinity;
      this.core.tick(this.q.now);
      this.settle();
    });
  }
}
