// One store shared by the simulated server nodes, as several nodes share one
// PostgreSQL database. On PostgreSQL every batch transaction takes one global
// lock (docs/protocol.md section 9.3), so batches of different nodes never
// interleave; here the same rule holds: one node's transaction is open at a
// time.
//
// Why this design: each node keeps the synchronous CommandRunner the
// simulator already drives (group commit after a drawn delay, so a crash can
// fall between a command and its commit). The async runner would need the
// event loop to await promises, which the synchronous, seeded event queue
// cannot do without changing every run. A runner cannot wait synchronously
// for another node's lock either; so a node that needs the store while
// another node's batch is open makes that batch commit now (the holder's
// flush), then goes on. A batch committing earlier than its drawn delay is
// an order a real database allows too (a commit may come at any time), and
// the holder's answers and notices go out at that commit, as always. Reads
// outside a transaction do the same, so a node never sees another node's
// uncommitted writes (PostgreSQL's read committed).
//
// A node's crash rolls back its own open transaction only: the database
// survives a node crash with everything committed.
//
// `serialized: false` is a test-only switch (a planted bug): no isolation,
// the nodes write into whichever transaction is open, whoever commits
// commits all, and a crash rolls back every node's uncommitted writes.
import type { Read, ReadResult, Write } from '../server/store/store-ops.ts';
import type { Store } from '../server/store/store.ts';

/** How a node's open batch is made to commit now: its host's flush. */
export type ForceCommit = () => void;

/** How often a holder is asked to commit before the store gives up (its flush may start a new batch from paused links). */
const MAX_FORCED_FLUSHES = 64;

export class SharedStore {
  /** The node whose transaction is open; undefined: none. */
  private holder: number | undefined;
  private readonly flushers = new Map<number, ForceCommit>();
  /** Commits a node's access forced on another node's open batch. */
  forcedCommits = 0;

  constructor(
    readonly store: Store,
    private readonly serialized = true,
  ) {}

  /** The store as node `node` sees it; `force` commits that node's open batch. */
  view(node: number, force: ForceCommit): Store {
    this.flushers.set(node, force);
    const s = this.store;
    const shared = this;
    return {
      kind: s.kind,
      begin(): void {
        if (!shared.serialized) return shared.joinOrBegin(node);
        shared.release(node);
        s.begin();
        shared.holder = node;
      },
      read<R extends Read>(r: R): ReadResult[R['kind']] {
        if (shared.serialized) shared.release(node);
        return s.read(r);
      },
      apply(writes: readonly Write[]): void {
        if (!shared.serialized) shared.joinOrBegin(node);
        s.apply(writes);
      },
      commit(): void {
        if (!shared.serialized && shared.holder === undefined) return;
        s.commit();
        shared.holder = undefined;
      },
      rollback(): void {
        if (!shared.serialized && shared.holder === undefined) return;
        s.rollback();
        shared.holder = undefined;
      },
      close(): void {
        if (shared.holder === node) this.rollback();
      },
    };
  }

  /** Node `node` crashed: its open transaction is gone (without isolation, everyone's uncommitted writes are). */
  crash(node: number): void {
    if (this.holder === undefined || (this.serialized && this.holder !== node)) return;
    this.store.rollback();
    this.holder = undefined;
  }

  /** Another node's open batch commits before `node` goes on. */
  private release(node: number): void {
    for (let i = 0; this.holder !== undefined && this.holder !== node; i++) {
      if (i >= MAX_FORCED_FLUSHES) throw new Error(`SharedStore: node ${this.holder} keeps its transaction open`);
      this.forcedCommits++;
      this.flushers.get(this.holder)!();
    }
  }

  private joinOrBegin(node: number): void {
    if (this.holder !== undefined) return;
    this.store.begin();
    this.holder = node;
  }
}
