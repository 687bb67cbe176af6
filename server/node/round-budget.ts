// The work budget of a round (NodeConfig.maxWorkPerRound): writes made and
// log items read, so a room message to 500 members costs about 500 and a
// full sync page about 100. A round is what runs between two flushes. Once
// its commands have done that much, a client that has already done real work
// this round waits for the next one: its HTTP commands are held (served there
// client by client in turn, FairQueue), its long link keeps its place for its
// next turn. A client that has done next to nothing this round (a heartbeat's
// touch, a direct message, a short sync) still runs, up to twice the budget
// in all, so the clients that made the round heavy wait and the others do
// not wait for them. Nothing is refused: the event loop gets back to every
// socket between rounds. The batch that reaches the budget is committed at
// once, on its own, so the light commands after it ride a light commit.
import type { Plan } from '../core/plan.ts';
import type { Step } from '../store/store-ops.ts';
import { FairQueue } from './fair-queue.ts';
import type { Done, Runner } from './runner.ts';

/** Work a client may do in a round and still count as light (a message to a few devices, a short sync page). */
export const LIGHT_WORK = 32;

/** What the link hub asks of the budget, per link (`l` + its id). */
export interface LinkBudget {
  spentFor(client: string): boolean;
  charge(client: string, task: () => void): void;
}

/** No budget: everything runs at once. */
export const NO_BUDGET: LinkBudget = { spentFor: () => false, charge: (_client, task) => task() };

export class RoundBudget implements LinkBudget {
  /** The runner's work count when this round began. */
  private from = 0;
  /** Work each client did this round. */
  private readonly byClient = new Map<string, number>();
  private readonly held = new FairQueue<string, () => void>();

  /** Whether this round's batch was committed on its own once its work reached the budget. */
  private closedEarly = false;

  constructor(
    private readonly runner: Runner,
    private readonly maxWork: number,
    /**
     * Commit the open batch now (and hand out its effects). Called once a
     * round, when its work first reaches the budget: the heavy batch goes to
     * disk on its own, and the light commands that come after it wait for a
     * light commit, not for the heavy one.
     */
    private readonly commitNow: () => void = () => {},
  ) {}

  /** What the runner's commands have done so far: writes made and log items read. */
  private work(): number {
    return this.runner.stats.writes + this.runner.stats.itemsRead;
  }

  /** Work done this round. */
  private get used(): number {
    return this.work() - this.from;
  }

  /** Whether `client`'s next command waits for the next round. */
  spentFor(client: string): boolean {
    // A client with commands held keeps its order: what it sends now queues behind them.
    if (this.held.has(client)) return true;
    const w = this.used;
    if (w < this.maxWork) return false;
    return w >= 2 * this.maxWork || (this.byClient.get(client) ?? 0) >= LIGHT_WORK;
  }

  /** HTTP commands wait for a round. */
  get holding(): boolean {
    return this.held.size > 0;
  }

  /** Run `task` for `client`, counting the work it does against it. */
  charge(client: string, task: () => void): void {
    const before = this.work();
    task();
    const made = this.work() - before;
    if (made > 0) this.byClient.set(client, (this.byClient.get(client) ?? 0) + made);
    if (!this.closedEarly && this.used >= this.maxWork) {
      this.closedEarly = true;
      this.commitNow();
    }
  }

  /** Run a command now, or hold it for the next round in `client`'s lane (an account, an address). */
  submit<R>(client: string, step: Step<Plan<R>>, done: Done<R>): void {
    const run = (): void => this.charge(client, () => this.runner.submit(step, done));
    if (this.spentFor(client)) this.held.push(client, run);
    else run();
  }

  /** A new round: the held commands start, one client's at a time in turn, while the budget lasts. */
  begin(): void {
    this.from = this.work();
    this.byClient.clear();
    this.closedEarly = false;
    while (this.used < this.maxWork) {
      const next = this.held.take();
      if (!next) return;
      next();
    }
  }
}
