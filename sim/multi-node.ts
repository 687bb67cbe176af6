// Several server nodes on one store, as several nodes on one PostgreSQL
// database (issue 14): each is the real ServerNode in a ServerHost of its
// own, on its view of the shared store (sim/shared-store.ts: one batch
// transaction open at a time), publishing its commits to the others through
// a lossy, delayed change channel (sim/change-channel.ts); the router sends
// each device where the placement says (sim/node-placement.ts). The
// multi-node logic is the node's; this file only wires it.
import type { BugSet } from '../server/core/planted-bugs.ts';
import type { ServerAction } from '../server/node/server-node.ts';
import type { NodeFaults, Scenario } from '../scenarios/scenario.ts';
import { ChangeChannel } from './change-channel.ts';
import type { EventQueue } from './event-queue.ts';
import { NodePlacement } from './node-placement.ts';
import type { Streams } from './rng.ts';
import { ServerHost, type SimStore } from './server-host.ts';
import { SharedStore } from './shared-store.ts';

/** Where a scenario with several nodes names no node faults: devices stay put, notices arrive at once. */
export const CALM_NODE_FAULTS: NodeFaults = { moveProbability: 0, noticeLossProbability: 0, noticeDelayMs: [0, 0] };

export interface MultiNodeStats {
  nodes: number;
  moves: number;
  noticesSent: number;
  noticesLost: number;
  noticesDelivered: number;
  forcedCommits: number;
}

export class MultiNode {
  readonly hosts: ServerHost[] = [];
  readonly shared: SharedStore;
  readonly channel: ChangeChannel;
  readonly placement: NodePlacement;

  constructor(
    q: EventQueue,
    streams: Streams,
    sim: SimStore,
    scenario: Scenario,
    bugs: BugSet,
    out: (a: ServerAction) => void,
    /** false: the test-only switch that lets batches of different nodes share a transaction (sim/shared-store.ts). */
    serialized = true,
  ) {
    const n = scenario.nodes ?? 1;
    if (!Number.isInteger(n) || n < 2) throw new RangeError(`MultiNode: nodes must be a whole number of at least 2, got ${n}`);
    if (scenario.storage) throw new RangeError('MultiNode: storage faults are modelled for one server only');
    const f = scenario.nodeFaults ?? CALM_NODE_FAULTS;
    this.shared = new SharedStore(sim.store, serialized);
    this.channel = new ChangeChannel(q, streams.get('notices'), f, this.hosts);
    for (let i = 0; i < n; i++) {
      const name = `server-${i}`;
      // The database outlives a node: a node's crash only rolls back its own open transaction, and the restarted node finds the same store.
      const nodeSim: SimStore = { store: sim.store, crash: () => this.shared.crash(i), reopen: () => sim.store, dispose: () => {} };
      const view = this.shared.view(i, () => this.hosts[i]!.commitNow());
      this.hosts.push(new ServerHost(q, streams.get(name), nodeSim, scenario, bugs, out, undefined, { name, nodeStore: view, changes: this.channel.publisher(i) }));
    }
    this.placement = new NodePlacement(streams.get('placement'), this.hosts, f.moveProbability);
  }

  stats(): MultiNodeStats {
    const c = this.channel.stats;
    return {
      nodes: this.hosts.length,
      moves: this.placement.moves,
      noticesSent: c.sent,
      noticesLost: c.lost,
      noticesDelivered: c.delivered,
      forcedCommits: this.shared.forcedCommits,
    };
  }
}
