// Which server node a device's requests and new links go to, as a load
// balancer in front of several nodes decides: a device keeps its node, but
// on a request or a new link the balancer may send it to another (drawn from
// the seed), and a node that is down is passed over for one that is up (its
// health check failed). With every node down the device's own node is
// returned, and refuses.
import type { Rng } from './rng.ts';
import type { ServerHost } from './server-host.ts';

export class NodePlacement {
  private readonly nodeOf = new Map<string, number>();
  /** Times a device was sent to another node than its last one. */
  moves = 0;

  constructor(
    private readonly rng: Rng,
    readonly hosts: readonly ServerHost[],
    private readonly moveProbability: number,
  ) {}

  /** The node the device's next request or link reaches. */
  hostFor(device: string): ServerHost {
    const n = this.hosts.length;
    const was = this.nodeOf.get(device);
    let i = was === undefined || this.rng.chance(this.moveProbability) ? this.rng.int(0, n - 1) : was;
    if (!this.hosts[i]!.up) {
      const up = this.hosts.map((_, k) => k).filter((k) => this.hosts[k]!.up);
      if (up.length > 0) i = this.rng.pick(up);
    }
    if (was !== undefined && was !== i) this.moves++;
    this.nodeOf.set(device, i);
    return this.hosts[i]!;
  }
}
