// The cross-node notify of the simulation (docs/protocol.md section 9.3): what
// PostgreSQL's LISTEN/NOTIFY carries between nodes, as a lossy, delayed
// channel drawn from the seed. It drives the node's own input
// (ServerNode.remoteChanges) with the same payloads PgChangeBus sends
// (encodeChanges, decodeChanges): the logic stays in the node. A notice to
// a node that is down when it arrives is lost, as a notify to a node that
// is not listening is.
import { decodeChanges, encodeChanges, type Change, type ChangePublisher } from '../server/node/change-bus.ts';
import type { NodeFaults } from '../scenarios/scenario.ts';
import type { EventQueue } from './event-queue.ts';
import type { Rng } from './rng.ts';
import type { ServerHost } from './server-host.ts';

export interface ChangeChannelStats {
  sent: number;
  lost: number;
  delivered: number;
}

export class ChangeChannel {
  readonly stats: ChangeChannelStats = { sent: 0, lost: 0, delivered: 0 };

  constructor(
    private readonly q: EventQueue,
    private readonly rng: Rng,
    private readonly faults: Pick<NodeFaults, 'noticeLossProbability' | 'noticeDelayMs'>,
    /** Every node's host, by index; filled in once the hosts are built. */
    private readonly hosts: ServerHost[],
  ) {}

  /** What node `from` publishes to. */
  publisher(from: number): ChangePublisher {
    return { publish: (changes) => this.publish(from, changes) };
  }

  private publish(from: number, changes: readonly Change[]): void {
    for (const payload of encodeChanges(originOf(from), changes)) {
      for (let to = 0; to < this.hosts.length; to++) {
        if (to === from) continue;
        this.stats.sent++;
        if (this.rng.chance(this.faults.noticeLossProbability)) {
          this.stats.lost++;
          continue;
        }
        const [lo, hi] = this.faults.noticeDelayMs;
        const host = this.hosts[to]!;
        this.q.schedule(this.q.now + this.rng.between(lo, hi), 'notice', host.name, () => this.arrive(to, payload));
      }
    }
  }

  private arrive(to: number, payload: string): void {
    const host = this.hosts[to]!;
    const node = host.node;
    if (!node) return;
    const { origin, changes } = decodeChanges(payload);
    if (origin === originOf(to)) return;
    this.stats.delivered++;
    node.remoteChanges(changes);
    host.settle();
  }
}

function originOf(node: number): string {
  return `node-${node}`;
}
