// Which transactional shell a node runs on, from the store it was given: a
// synchronous store (CommandRunner), a store that commits on another thread
// (PipelinedRunner), or a store that answers later (AsyncRunner).
import type { CoreEffect } from '../core/plan.ts';
import type { BugSet } from '../core/planted-bugs.ts';
import type { SealedBatch, StagedStore } from '../store/staged-store.ts';
import type { Store } from '../store/store.ts';
import { AsyncRunner, type AsyncStorage } from './async-runner.ts';
import { CommandRunner } from './command-runner.ts';
import { PipelinedRunner } from './pipelined-runner.ts';
import type { Runner } from './runner.ts';

/** A store that commits on another thread: the node stages, `post` sends each sealed batch, the driver reports back. */
export interface StoragePipeline {
  store: StagedStore;
  post: (batch: SealedBatch) => void;
}

/** The stores of ServerNodeOptions: one of them. */
export interface NodeStores {
  store?: Store | undefined;
  pipeline?: StoragePipeline | undefined;
  asyncStore?: AsyncStorage | undefined;
}

export interface NodeRunner {
  runner: Runner;
  /** Set on a pipeline: the driver reports its commits to it. */
  pipelined?: PipelinedRunner;
  /** Set on a store that answers later. */
  async?: AsyncRunner;
}

/** `afterCommit` applies a batch's effects; on a store that answers later it is called when the batch is over, before the driver is told. */
export function nodeRunner(o: NodeStores, bugs: BugSet, maxBatch: number, afterCommit: (effects: CoreEffect[]) => void): NodeRunner {
  if (o.pipeline) {
    const pipelined = new PipelinedRunner(o.pipeline.store, o.pipeline.post, bugs, maxBatch);
    return { runner: pipelined, pipelined };
  }
  if (o.asyncStore) {
    const a = o.asyncStore;
    const settled = (effects: CoreEffect[]): void => {
      afterCommit(effects);
      a.settled();
    };
    const async = new AsyncRunner(a.store, { bugs, maxBatch, maxQueue: a.maxQueue, settled, onError: a.onError });
    return { runner: async, async };
  }
  if (o.store) return { runner: new CommandRunner(o.store, bugs, maxBatch) };
  throw new TypeError('ServerNode needs a store, a pipeline or an async store');
}
