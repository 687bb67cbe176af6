// Observability of one running server, wired in by its driver
// (server/transport/server-app.ts): it watches what crosses the node's
// boundary (links opening and closing, each commit and flush, each HTTP
// status) and what the transports refuse, counts it in the server's metrics
// and logs what an operator under attack needs: refusals, cut links and
// throttled accounts, each kind held to a few lines per window. The node
// counts its own answers (server/node/answer-counts.ts), read at scrape
// time; it tells `watch` only of the rare ones worth a log line.
import type { AnswerWatch, Answered, Disconnected } from '../node/answer-counts.ts';
import { THROTTLE_REASONS } from '../node/answer-counts.ts';
import type { ServerNode } from '../node/server-node.ts';
import type { Store } from '../store/store.ts';
import { LinkWatch } from './link-watch.ts';
import { addressTag, silentLogger, type Logger } from './log.ts';
import { LogThrottle } from './log-throttle.ts';
import { MetricsEndpoint } from './metrics-endpoint.ts';
import { ServerMetrics } from './server-metrics.ts';
import type { ScrapedStats, TransportLabel } from './scraped-stats.ts';
import { StallMonitor, type StallWindow } from './stall-monitor.ts';
import { StoreProbe } from './store-probe.ts';

export type LinkNode = Pick<ServerNode, 'linkOpened' | 'linkData' | 'linkClosed' | 'linkFault' | 'linkShed'>;

/**
 * Called by a transport for each connection, request or message it refuses
 * itself; `link` when it then condemns a long link through the node (whose
 * op 6 is counted as a disconnect but not logged twice).
 */
export type RefusalHook = (reason: string, address: string | undefined, link?: number) => void;

export interface ObserverOptions {
  logger?: Logger;
  /** Bearer token for /metrics; without it only loopback peers may scrape. */
  metricsToken?: string;
  clock?: () => number;
}

/** Lines of one kind (a refusal reason, a fault code, an account) logged per window; the rest are counted. */
const LOG_LINES_PER_WINDOW = 5;
const LOG_WINDOW_MS = 10_000;
/** Accounts (throttled uins) remembered by the log throttle at most. */
const LOG_THROTTLE_KEYS = 10_000;

/** Reasons at a cap: the server or an address is full, which an operator may want to act on. */
const CAP_REASONS: ReadonlySet<string> = new Set(['CONN_SERVER_FULL', 'CONN_ADDRESS_LIMIT', 'CONN_RATE_LIMIT', 'LINK_UNAUTH_LIMIT']);

export class ServerObserver {
  readonly metrics: ServerMetrics;
  readonly endpoint: MetricsEndpoint;
  readonly log: Logger;
  /** Event-loop delay and commit latency: in /metrics, and read by the load test's server process. */
  readonly stalls: StallMonitor;
  private readonly scrapeWindow: StallWindow;
  private readonly links = new LinkWatch();
  private readonly clock: () => number;
  private readonly refusalLines = new LogThrottle(LOG_LINES_PER_WINDOW, LOG_WINDOW_MS, LOG_THROTTLE_KEYS);
  private readonly throttleLines = new LogThrottle(1, LOG_WINDOW_MS, LOG_THROTTLE_KEYS);
  /** For the node (ServerNodeOptions.watch): the answers worth a log line; every answer only when tracing. */
  readonly watch: AnswerWatch;

  constructor(stats: () => ScrapedStats, o: ObserverOptions = {}) {
    this.log = o.logger ?? silentLogger();
    this.clock = o.clock ?? Date.now;
    this.metrics = new ServerMetrics({ stats, links: (t) => this.links.count(t), stalls: () => this.sinceScrape() });
    this.stalls = new StallMonitor({
      loopDelay: (ms, count) => {
        for (let i = 0; i < count; i++) this.metrics.loopDelaySeconds.observe(ms / 1000);
      },
      commit: (ms, commands) => {
        this.metrics.commitBatch.observe(commands);
        this.metrics.commitSeconds.observe(ms / 1000);
      },
    });
    this.scrapeWindow = this.stalls.openWindow();
    this.endpoint = new MetricsEndpoint(this.metrics, o.metricsToken);
    this.watch = {
      throttled: (a) => this.throttled(a),
      disconnected: (d) => this.disconnected(d),
      authenticated: (link, uin) => this.links.authenticated(link, uin),
      // A call per answer: only when the log would keep its line.
      ...(this.log.isLevelEnabled('trace')
        ? { answered: (a: Answered) => this.log.trace({ event: 'command', transport: a.transport, command: a.command, ret: a.ret }, 'answered') }
        : {}),
    };
  }

  /**
   * The store, measured: commands per commit and commit time, told to the
   * stall monitor (which counts them in the metrics). A store that commits
   * off the event loop would call `stalls.commitDone` itself instead.
   */
  probeStore(store: Store): Store {
    return new StoreProbe(store, (commands, seconds) => this.stalls.commitDone(seconds * 1000, commands));
  }

  /** Stops the event-loop monitor's timers: after the server closed. */
  stop(): void {
    this.stalls.stop();
  }

  private sinceScrape(): ReturnType<StallWindow['read']> {
    const f = this.scrapeWindow.read();
    this.scrapeWindow.reset();
    return f;
  }

  /** The node as the link transports see it: the same calls, with each link's transport noted. */
  watchLinks(node: LinkNode): LinkNode {
    // Rest parameters: the node's signatures pass through whatever they take.
    return {
      linkOpened: (...args) => {
        this.links.opened(args[0], args[1]);
        node.linkOpened(...args);
      },
      linkData: (...args) => node.linkData(...args),
      linkClosed: (...args) => {
        node.linkClosed(...args);
        this.links.closed(args[0]);
      },
      linkFault: (...args) => node.linkFault(...args),
      linkShed: (...args) => node.linkShed(...args),
    };
  }

  flushed(seconds: number): void {
    this.metrics.flushSeconds.observe(seconds);
  }

  /** A refusal hook for one transport. */
  refusals(transport: TransportLabel): RefusalHook {
    return (reason, address, link) => {
      this.metrics.refused.inc({ transport, reason });
      if (link !== undefined) this.links.markReported(link);
      const v = this.refusalLines.check(`${transport}:${reason}`, this.clock());
      if (!v.log) return;
      const line = { event: 'refused', transport, reason, peer: addressTag(address), ...(v.suppressed ? { suppressed: v.suppressed } : {}) };
      if (CAP_REASONS.has(reason)) this.log.warn(line, 'connection refused at a cap');
      else this.log.info(line, 'refused');
    };
  }

  /** An HTTP answer leaving (the node's or the transport's own): its status is all that is read. */
  httpAnswered(status: number): void {
    this.metrics.httpResponses.inc({ status: String(status) });
  }

  private throttled(a: Answered): void {
    const reason = THROTTLE_REASONS.get(a.ret!)!;
    const account = a.uin;
    const v = this.throttleLines.check(account === undefined ? `${a.command}:${reason}` : `uin:${account}`, this.clock());
    if (!v.log) return;
    const line = {
      event: 'throttled',
      transport: a.transport,
      command: a.command,
      reason,
      ret: a.ret,
      ...(account !== undefined ? { uin: account } : {}),
      ...(a.remote !== undefined ? { peer: addressTag(a.remote) } : {}),
      ...(v.suppressed ? { suppressed: v.suppressed } : {}),
    };
    this.log.warn(line, account !== undefined ? 'account throttled' : 'throttled');
  }

  private disconnected(d: Disconnected): void {
    const reason = d.code ?? `ret_${d.ret}`;
    const line = { event: 'disconnect', transport: d.transport, reason, link: d.link, ...(d.uin !== undefined ? { uin: d.uin } : {}) };
    // Faults (abuse, overload, broken framing) matter to an operator; a session ending is routine.
    if (!d.code) return void this.log.debug(line, 'link disconnected');
    if (this.links.reported(d.link)) return;
    const v = this.refusalLines.check(`${d.transport}:${reason}`, this.clock());
    if (!v.log) return;
    const withCount = v.suppressed ? { ...line, suppressed: v.suppressed } : line;
    if (CAP_REASONS.has(reason)) this.log.warn(withCount, 'link refused at a cap');
    else this.log.info(withCount, 'link cut');
  }
}
