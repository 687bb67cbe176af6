// The server host of the simulation: the real ServerNode on a store that
// survives crashes per its crash model. Group commit happens after a drawn
// delay, so a crash can fall between a command and its commit.
import { scryptHasher } from '../server/core/password.ts';
import { ServerNode, type ServerAction } from '../server/node/server-node.ts';
import type { BugSet } from '../server/core/planted-bugs.ts';
import type { Store } from '../server/store/store.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import type { EventQueue } from './event-queue.ts';
import type { Rng } from './rng.ts';

/** The store seen by the simulation: it must model a crash and a reopen. */
export interface SimStore {
  store: Store;
  /** Lose everything uncommitted, as a power cut would. */
  crash(): void;
  /** The store as the restarted server opens it. */
  reopen(): Store;
  dispose(): void;
}

/** What the host reads of a scenario: the server's limits and the group-commit delay. */
export type HostConfig = Pick<Scenario, 'core' | 'node'> & { faults: Pick<Scenario['faults'], 'commitDelayMs'> };

// A tiny scrypt cost: the simulation checks the logic, not the hash's strength.
const SIM_HASHER = scryptHasher(2, 1, 1);

export class ServerHost {
  node: ServerNode | undefined;
  /** Bumped by each crash: a node built before it is a crashed one. */
  private generation = 0;
  private tokens = 0;
  private flushToken = 0;
  private tickToken = 0;
  private tickAt = Infinity;
  crashes = 0;

  constructor(
    private readonly q: EventQueue,
    private readonly rng: Rng,
    private readonly sim: SimStore,
    private readonly scenario: HostConfig,
    private readonly bugs: BugSet,
    private readonly out: (a: ServerAction) => void,
    /** Where what a crashed node still emits goes (tests that assert it stays silent); unset: to `out` like the rest. */
    private readonly ghost?: (a: ServerAction) => void,
  ) {
    this.node = this.build(sim.store);
  }

  get up(): boolean {
    return this.node !== undefined;
  }

  get store(): Store {
    return this.sim.store;
  }

  private build(store: Store): ServerNode {
    const generation = this.generation;
    return new ServerNode({
      store,
      random: { bytes: (n) => this.rng.bytes(n) },
      hasher: SIM_HASHER,
      out: (a) => (generation === this.generation || !this.ghost ? this.out(a) : this.ghost(a)),
      core: this.scenario.core ?? {},
      node: this.scenario.node ?? {},
      bugs: this.bugs,
    });
  }

  /** After any input: schedule the group commit and the next tick. */
  settle(): void {
    const node = this.node;
    if (!node) return;
    if (node.needsFlush && this.flushToken === 0) {
      const token = (this.flushToken = ++this.tokens);
      const [lo, hi] = this.scenario.faults.commitDelayMs;
      this.q.schedule(this.q.now + this.rng.between(lo, hi), 'commit', 'server', () => {
        if (this.flushToken !== token || this.node !== node) return;
        this.flushToken = 0;
        node.flush(this.q.now);
        this.settle();
      });
    }
    const wake = node.nextWakeAt();
    if (wake !== undefined && wake < this.tickAt) {
      const token = ++this.tickToken;
      this.tickAt = Math.max(wake, this.q.now);
      this.q.schedule(this.tickAt, 'tick', 'server', () => {
        if (this.tickToken !== token || this.node !== node) return;
        this.tickAt = Infinity;
        node.tick(this.q.now);
        this.settle();
      });
    }
  }

  crash(): void {
    if (!this.node) return;
    this.crashes++;
    this.node.crash();
    this.generation++;
    this.node = undefined;
    this.sim.crash();
    this.flushToken = 0;
    this.tickToken++;
    this.tickAt = Infinity;
  }

  restart(): void {
    if (this.node) return;
    this.node = this.build(this.sim.reopen());
    this.settle();
  }
}
