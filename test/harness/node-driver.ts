// The node of a core test, driven by hand: the shared server host (the
// simulator's) builds, crashes and restarts it on the test's store; the clock
// is an event queue's, moved only by the test; random bytes come from the
// simulator's seeded streams. Every input is flushed at once unless the test
// batches inputs, as a server draining each event-loop turn would.
import { expect } from 'vitest';
import type { CoreConfig } from '../../server/core/config.ts';
import { NO_BUGS, type BugSet } from '../../server/core/planted-bugs.ts';
import type { HttpAnswer } from '../../server/node/http-api.ts';
import type { NodeConfig } from '../../server/node/node-config.ts';
import type { ServerAction, ServerNode } from '../../server/node/server-node.ts';
import { EventQueue, SIM_EPOCH_MS } from '../../sim/event-queue.ts';
import { Streams } from '../../sim/rng.ts';
import { ServerHost } from '../../sim/server-host.ts';
import { CrashStore, type StoreKind } from './crash-store.ts';
import { LinkClient } from './link-client.ts';
import type { RecordingStore, TimelineEvent } from './recording-store.ts';

/** The clock's start: the simulator's epoch. */
export const T0 = SIM_EPOCH_MS;

export interface HarnessOptions {
  store?: StoreKind;
  core?: Partial<CoreConfig>;
  node?: Partial<NodeConfig>;
  bugs?: BugSet;
  seed?: number;
  /** Flush after every input, as a server draining each event-loop turn would (default true). */
  autoFlush?: boolean;
}

/** The host schedules no commit of its own here (the test flushes), so its delay is never drawn. */
const NO_COMMIT_DELAY: [number, number] = [0, 0];

export class NodeDriver {
  autoFlush: boolean;
  /** Only its clock is used: nothing here runs the queue. */
  readonly q = new EventQueue();
  readonly host: ServerHost;
  readonly store: RecordingStore;
  readonly timeline: TimelineEvent[] = [];
  /** Every HTTP answer by request id. */
  readonly answers = new Map<number, HttpAnswer>();
  /** Requests answered more than once (must stay empty). */
  readonly doubleAnswers: number[] = [];
  /** Outputs of a crashed node (must stay empty). */
  readonly ghostOutputs: ServerAction[] = [];
  /** Requests in flight when the server crashed: never answered. */
  readonly lostRequests = new Set<number>();
  readonly links = new Map<number, LinkClient>();
  restarts = 0;
  /**
   * The address requests and links come from; unset, each comes from an
   * address of its own, so that only tests about them meet the per-address limits.
   */
  remote: string | undefined;

  private nextReq = 1;
  private nextLink = 1;
  private readonly crashStore: CrashStore;

  constructor(readonly options: HarnessOptions = {}) {
    this.q.now = T0;
    this.autoFlush = options.autoFlush ?? true;
    this.crashStore = new CrashStore(options.store ?? 'memory', this.timeline);
    this.store = this.crashStore.store;
    const rng = new Streams(String(options.seed ?? 1)).get('server');
    // Hash jobs are answered inline: a login or register is answered at the flush after it, as commands are.
    const config = { core: options.core ?? {}, node: options.node ?? {}, faults: { commitDelayMs: NO_COMMIT_DELAY }, hashJobs: 'inline' as const };
    this.host = new ServerHost(this.q, rng, this.crashStore, config, options.bugs ?? NO_BUGS, (a) => this.onAction(a), (a) => this.ghostOutputs.push(a));
  }

  get now(): number {
    return this.q.now;
  }

  get node(): ServerNode {
    return this.host.node!;
  }

  get kind(): StoreKind {
    return this.store.kind;
  }

  private onAction(a: ServerAction): void {
    switch (a.kind) {
      case 'respond':
        if (this.answers.has(a.req)) this.doubleAnswers.push(a.req);
        this.answers.set(a.req, a.answer);
        this.timeline.push({ kind: 'respond', req: a.req });
        return;
      case 'write': {
        const l = this.links.get(a.link);
        if (!l) throw new Error(`write to unknown link ${a.link}`);
        if (l.closed) throw new Error(`write to closed link ${a.link}`);
        l.receive(a.bytes);
        this.timeline.push({ kind: 'write', link: a.link, op: l.packets[l.packets.length - 1]?.op ?? -1 });
        return;
      }
      case 'close': {
        const l = this.links.get(a.link);
        if (l) l.closed = true;
        this.timeline.push({ kind: 'close', link: a.link });
        return;
      }
    }
  }

  // ---- time and batches

  /** Move the clock and let the node expire polls and links. */
  advance(ms: number): void {
    this.q.now += ms;
    this.node.tick(this.now);
    // A tick may start commands (the retention sweep): they commit as the server's would.
    this.autoFlushNow();
  }

  flush(): void {
    this.node.flush(this.now);
  }

  autoFlushNow(): void {
    if (this.autoFlush) this.flush();
  }

  /** Run `f` with flushing off (inputs pile up in one batch), then restore it. */
  batch<T>(f: () => T): T {
    const was = this.autoFlush;
    this.autoFlush = false;
    try {
      return f();
    } finally {
      this.autoFlush = was;
    }
  }

  /**
   * A crash and a restart: the node loses everything volatile, the store keeps
   * what was committed, open connections and requests in flight are gone, and
   * a new node starts on the same store.
   */
  restart(): void {
    this.host.crash();
    for (let r = 1; r < this.nextReq; r++) if (!this.answers.has(r)) this.lostRequests.add(r);
    for (const l of this.links.values()) {
      if (!l.closed) {
        l.closed = true;
        l.lost = true;
      }
    }
    this.restarts++;
    this.host.restart();
  }

  dispose(): void {
    this.crashStore.dispose();
  }

  // ---- HTTP

  /** Hand the node a raw HTTP request; returns its id. */
  request(method: string, url: string, body = ''): number {
    const req = this.nextReq++;
    this.node.httpRequest(req, method, url, body, this.remote ?? `harness-req-${req}`, this.now);
    this.autoFlushNow();
    return req;
  }

  answer(req: number): HttpAnswer | undefined {
    return this.answers.get(req);
  }

  /** The parsed JSON answer of a request, which must have been answered. */
  json(req: number): any {
    const a = this.answers.get(req);
    if (!a) throw new Error(`request ${req} has no answer yet`);
    expect(a.contentType).toMatch(/^application\/json/);
    return JSON.parse(a.body);
  }

  // ---- long links

  openLink(transport: 'tcp' | 'ws' = 'tcp'): LinkClient {
    const l = new LinkClient(this, this.nextLink++);
    this.links.set(l.id, l);
    this.node.linkOpened(l.id, transport, this.remote ?? `harness-link-${l.id}`, this.now);
    return l;
  }
}
