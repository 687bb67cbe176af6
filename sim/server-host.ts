// The server host of the simulation: the real ServerNode on a store that
// survives crashes per its crash model. Group commit happens after a drawn
// delay, so a crash can fall between a command and its commit. Password
// hashes the node asks for are answered by an event of their own (with the
// tiny-cost hasher): a crash, a commit or another login can fall between a
// login's two halves. It comes at the same simulated instant, in the order
// the queue's seeded tie-break gives events of one instant: the delay is
// fixed, so it draws nothing from the server's stream, and being 0 it moves
// no other event's time.
import { runHashWork, scryptHasher } from '../server/core/password.ts';
import type { HashAction } from '../server/node/hash-jobs.ts';
import { ServerNode, type ServerAction } from '../server/node/server-node.ts';
import type { ChangePublisher } from '../server/node/change-bus.ts';
import type { BugSet } from '../server/core/planted-bugs.ts';
import type { Store } from '../server/store/store.ts';
import type { Write } from '../server/store/store-ops.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import type { EventQueue } from './event-queue.ts';
import { FaultyStore, type StorageFaultDice } from './faulty-store.ts';
import type { Rng } from './rng.ts';

/** The store seen by the simulation: it must model a crash and a reopen. */
export interface SimStore {
  store: Store;
  /** Lose everything uncommitted, as a power cut would. */
  crash(): void;
  /** The store as the restarted server opens it. */
  reopen(): Store;
  dispose(): void;
  /**
   * The store runs synchronous NORMAL from now on: the last `commits` commits
   * stay on a volatile page until later ones push them out. Unset where the
   * store cannot model it (then it stays FULL).
   */
  keepUnsynced?(commits: number): void;
  /** A power cut (the server already crashed): the last `commits` unsynced commits are gone; returns their writes, oldest first. */
  powerLoss?(commits: number): Write[][];
}

/**
 * What the host reads of a scenario: the server's limits and the group-commit
 * delay; and how hash jobs are answered: by an event (default), or `inline`,
 * from inside the call that asked, as tests that drive the node by hand and
 * never run the queue want.
 */
export type HostConfig = Pick<Scenario, 'core' | 'node'> & { faults: Pick<Scenario['faults'], 'commitDelayMs'> } & { hashJobs?: 'event' | 'inline' };

// A tiny scrypt cost: the simulation checks the logic, not the hash's strength.
const SIM_HASHER = scryptHasher(2, 1, 1);

/** How long after its job the simulated hash answers, in ms (a real one takes tens, on its thread pool). */
const SIM_HASH_DELAY_MS = 0;

/** A host that is one of several nodes on one store (sim/multi-node.ts); unset: the one server. */
export interface HostOptions {
  /** The name its events carry (default 'server'). */
  name?: string;
  /** The store the node runs on, when it is not the SimStore's own (a node's view of a shared store). */
  nodeStore?: Store;
  /** Where the node publishes its commits' changes, for the other nodes. */
  changes?: ChangePublisher;
}

export class ServerHost {
  node: ServerNode | undefined;
  /** Bumped by each crash: a node built before it is a crashed one. */
  private generation = 0;
  private tokens = 0;
  private flushToken = 0;
  private tickToken = 0;
  private tickAt = Infinity;
  /** The storage faults in force (set by the fault scheduler); undefined: the store never fails. */
  storageFaults: StorageFaultDice | undefined;
  /** Above 0: hash jobs are answered at once (see inline()). */
  private inlineDepth = 0;
  private readonly hashInline: boolean;
  crashes = 0;
  readonly name: string;

  constructor(
    private readonly q: EventQueue,
    private readonly rng: Rng,
    private readonly sim: SimStore,
    private readonly scenario: HostConfig,
    private readonly bugs: BugSet,
    private readonly out: (a: ServerAction) => void,
    /** Where what a crashed node still emits goes (tests that assert it stays silent); unset: to `out` like the rest. */
    private readonly ghost?: (a: ServerAction) => void,
    private readonly opts: HostOptions = {},
  ) {
    this.name = opts.name ?? 'server';
    this.hashInline = scenario.hashJobs === 'inline';
    this.node = this.build(sim.store);
  }

  /** Run `f` with hash jobs answered at once: setup calls that want their answer at the next flush. */
  inline<T>(f: () => T): T {
    this.inlineDepth++;
    try {
      return f();
    } finally {
      this.inlineDepth--;
    }
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
      store: new FaultyStore(this.opts.nodeStore ?? store, () => this.storageFaults),
      ...(this.opts.changes ? { changes: this.opts.changes } : {}),
      random: { bytes: (n) => this.rng.bytes(n) },
      hasher: SIM_HASHER,
      out: (a) => {
        if (a.kind === 'hash') return this.hash(generation, a);
        return generation === this.generation || !this.ghost ? this.out(a) : this.ghost(a);
      },
      core: this.scenario.core ?? {},
      node: this.scenario.node ?? {},
      bugs: this.bugs,
    });
  }

  /** A hash job of the node of `generation`; a crashed node's jobs died with it. */
  private hash(generation: number, a: HashAction): void {
    if (generation !== this.generation) return;
    const answer = (): void => {
      if (generation !== this.generation || !this.node) return;
      this.node.hashDone(a.job, runHashWork(SIM_HASHER, a.work), this.q.now);
    };
    if (this.hashInline || this.inlineDepth > 0) return answer();
    this.q.schedule(this.q.now + SIM_HASH_DELAY_MS, 'hash', this.name, () => {
      answer();
      this.settle();
    });
  }

  /** After any input: schedule the group commit and the next tick. */
  settle(): void {
    const node = this.node;
    if (!node) return;
    if (node.needsFlush && this.flushToken === 0) {
      const token = (this.flushToken = ++this.tokens);
      const delay = this.scenario.faults.commitDelayMs;
      this.q.schedule(this.q.now + this.rng.between(delay[0], delay[1]), 'commit', this.name, () => {
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
      this.q.schedule(this.tickAt, 'tick', this.name, () => {
        if (this.tickToken !== token || this.node !== node) return;
        this.tickAt = Infinity;
        node.tick(this.q.now);
        this.settle();
      });
    }
  }

  /**
   * Commit the open batch now, ahead of its drawn delay (another node needs
   * the shared store: sim/shared-store.ts); the scheduled commit still comes
   * and finds less to do.
   */
  commitNow(): void {
    const node = this.node;
    if (!node) return;
    node.flush(this.q.now);
    this.settle();
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

  /** The store runs synchronous NORMAL from now on (see SimStore.keepUnsynced); false if it cannot. */
  keepUnsynced(commits: number): boolean {
    if (!this.sim.keepUnsynced) return false;
    this.sim.keepUnsynced(commits);
    return true;
  }

  /** A crash that was a power cut: commits not yet on disk are lost too (see SimStore.powerLoss). */
  powerLoss(commits: number): Write[][] {
    if (this.node) throw new Error('ServerHost: a power loss strikes a crashed server');
    return this.sim.powerLoss?.(commits) ?? [];
  }

  restart(): void {
    if (this.node) return;
    this.node = this.build(this.sim.reopen());
    this.settle();
  }
}
