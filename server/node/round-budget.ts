// The write budget of a round (NodeConfig.maxWritesPerRound). A round is
// what runs between two flushes; once its commands have made that many
// writes, the HTTP commands that arrive are held for the next round, served
// there client by client in turn (FairQueue), and the link hub leaves the
// links whose turn has not come for the next round too. Nothing is refused:
// the event loop gets back to every socket between rounds.
import type { Plan } from '../core/plan.ts';
import type { Step } from '../store/store-ops.ts';
import { FairQueue } from './fair-queue.ts';
import type { Done, Runner } from './runner.ts';

export class RoundBudget {
  /** The runner's write count when this round began. */
  private from = 0;
  private readonly held = new FairQueue<string, () => void>();

  constructor(
    private readonly runner: Runner,
    private readonly maxWrites: number,
  ) {}

  /** This round's commands made maxWritesPerRound writes: what arrives now waits for the next round. */
  get spent(): boolean {
    return this.runner.stats.writes - this.from >= this.maxWrites;
  }

  /** HTTP commands wait for a round. */
  get holding(): boolean {
    return this.held.size > 0;
  }

  /** Run a command now, or hold it for the next round in `client`'s lane (an account, an address). */
  submit<R>(client: string, step: Step<Plan<R>>, done: Done<R>): void {
    if (this.spent) this.held.push(client, () => this.runner.submit(step, done));
    else this.runner.submit(step, done);
  }

  /** A new round: the held commands start, one client's at a time in turn, while the budget lasts. */
  begin(): void {
    this.from = this.runner.stats.writes;
    while (!this.spent) {
      const next = this.held.take();
      if (!next) return;
      next();
    }
  }
}
