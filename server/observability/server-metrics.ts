// The metrics of one server, in a prom-client registry of its own (so that
// several servers in one process, as in the tests, each count their own).
// Events the node does not count (refusals by the transports, HTTP statuses,
// commits and flushes) are counted as they happen; everything the node and
// transports count anyway, the node's answers by command and Ret included,
// is read from their stats once per scrape. Labels take values from fixed
// sets only (transports, endpoints, ops, Ret and fault codes): never a user
// name, Sid, uin or address.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LINK_TRANSPORTS, THROTTLE_REASONS, type AnswerTally } from '../node/answer-counts.ts';
import type { LinkCounts } from './link-watch.ts';
import type { LinkTransport, ScrapedStats } from './scraped-stats.ts';
import type { StallFigures } from './stall-monitor.ts';

const PREFIX = 'synckey_';

/** Commands per commit: maxBatch is 256 by default. */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
/** From a page-cache commit to a slow disk's fsync, in seconds. */
const COMMIT_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** From a turn on time to a stall a user feels, in seconds. */
const LOOP_DELAY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** How finely the process's event-loop delay is sampled, in ms. */
const EVENT_LOOP_RESOLUTION_MS = 10;

// Memory, CPU, handles, GC and event-loop delay (monitorEventLoopDelay) belong
// to the process, not to one server: one registry of them, made on first use
// and shown by every server's /metrics, so each server started in a process
// does not add another sampler that is never stopped.
let processMetrics: Registry | undefined;
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics, eventLoopMonitoringPrecision: EVENT_LOOP_RESOLUTION_MS });
  }
  return processMetrics;
}

export interface MetricsSource {
  stats(): ScrapedStats;
  links(transport: LinkTransport): Readonly<LinkCounts>;
  /** Event-loop delay and commit latency since the previous call (one call per scrape). */
  stalls(): StallFigures;
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly commands: Counter<'transport' | 'command'>;
  readonly commandErrors: Counter<'transport' | 'command' | 'ret'>;
  readonly throttled: Counter<'transport' | 'reason'>;
  readonly refused: Counter<'transport' | 'reason'>;
  readonly disconnects: Counter<'transport' | 'reason'>;
  readonly httpResponses: Counter<'status'>;
  readonly notifications: Counter<'transport'>;
  readonly commitBatch: Histogram;
  readonly commitSeconds: Histogram;
  readonly flushSeconds: Histogram;
  readonly loopDelaySeconds: Histogram;
  /** The stats of the scrape under way: read once, shown by every collected metric. */
  private snapshot: ScrapedStats | undefined;
  /** The stalls since the previous scrape, read once by the scrape under way. */
  private stallFigures: StallFigures | undefined;

  constructor(private readonly source: MetricsSource) {
    const registers = [this.registry];
    // The node's answers, counted by the node as it makes them: read once per scrape.
    const answers = (): AnswerTally => this.stats().node.answers;
    this.commands = new Counter({
      name: `${PREFIX}commands_total`,
      help: 'Commands the node answered, by transport and command (HTTP endpoint, or long-link auth/send/sync/heartbeat).',
      labelNames: ['transport', 'command'],
      registers,
      collect() {
        this.reset();
        answers().forEachAnswer((transport, command, _ret, n) => this.inc({ transport, command }, n));
      },
    });
    this.commandErrors = new Counter({
      name: `${PREFIX}command_errors_total`,
      help: 'Commands answered with a Ret other than 0, by transport, command and Ret code (other: a code not in the protocol\'s list).',
      labelNames: ['transport', 'command', 'ret'],
      registers,
      collect() {
        this.reset();
        answers().forEachAnswer((transport, command, ret, n) => {
          if (ret !== 0 && ret !== 'none') this.inc({ transport, command, ret: String(ret) }, n);
        });
      },
    });
    this.throttled = new Counter({
      name: `${PREFIX}throttled_total`,
      help: 'Commands the server held back: busy (Ret 2), mailbox_full (Ret 1110), rate_limited (Ret 1111), too_many_attempts (Ret 1112).',
      labelNames: ['transport', 'reason'],
      registers,
      collect() {
        this.reset();
        answers().forEachAnswer((transport, _command, ret, n) => {
          const reason = typeof ret === 'number' ? THROTTLE_REASONS.get(ret) : undefined;
          if (reason) this.inc({ transport, reason }, n);
        });
      },
    });
    this.refused = new Counter({
      name: `${PREFIX}refused_total`,
      help: 'Connections, requests and messages the transports refused, by reason (a connection cap, an HTTP status, a WebSocket fault).',
      labelNames: ['transport', 'reason'],
      registers,
    });
    this.disconnects = new Counter({
      name: `${PREFIX}link_disconnects_total`,
      help: 'Op 6 disconnects sent, by the fault or framing code their ErrMsg starts with, or ret_<Ret> when it has none.',
      labelNames: ['transport', 'reason'],
      registers,
      collect() {
        this.reset();
        answers().forEachDisconnect((transport, code, ret, n) => this.inc({ transport, reason: code ?? `ret_${String(ret)}` }, n));
      },
    });
    this.httpResponses = new Counter({
      name: `${PREFIX}http_responses_total`,
      help: 'HTTP answers by status (the node\'s answers and the transport\'s own).',
      labelNames: ['status'],
      registers,
    });
    this.notifications = new Counter({
      name: `${PREFIX}notifications_total`,
      help: 'Op 122 notifications written to long links.',
      labelNames: ['transport'],
      registers,
      collect() {
        this.reset();
        const a = answers();
        for (const transport of LINK_TRANSPORTS) {
          const n = a.notifications(transport);
          if (n > 0) this.inc({ transport }, n);
        }
      },
    });
    this.commitBatch = new Histogram({
      name: `${PREFIX}commit_batch_commands`,
      help: 'Commands carried by each group commit.',
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.commitSeconds = new Histogram({
      name: `${PREFIX}commit_duration_seconds`,
      help: 'Time of each store commit (for SQLite, the fsync), as the server\'s stall monitor was told of it.',
      buckets: COMMIT_BUCKETS,
      registers,
    });
    this.flushSeconds = new Histogram({
      name: `${PREFIX}flush_duration_seconds`,
      help: 'Time of each flush: commit, answers, notifications and the paused links\' turn.',
      buckets: COMMIT_BUCKETS,
      registers,
    });
    this.loopDelaySeconds = new Histogram({
      name: `${PREFIX}event_loop_delay_seconds`,
      help: 'How late each turn of the event loop ran (monitorEventLoopDelay, one sample per 10 ms timer turn, beyond those 10 ms).',
      buckets: LOOP_DELAY_BUCKETS,
      registers,
    });
    this.collected();
    this.sinceScrape();
  }

  /** The Prometheus text of this server's metrics and the process's. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    this.snapshot = this.source.stats();
    this.stallFigures = this.source.stalls();
    try {
      const merged = Registry.merge([this.registry, processRegistry()]);
      return { contentType: this.registry.contentType, text: await merged.metrics() };
    } finally {
      this.snapshot = undefined;
      this.stallFigures = undefined;
    }
  }

  private stats(): ScrapedStats {
    return this.snapshot ?? this.source.stats();
  }

  // The worst since the previous scrape: a histogram's buckets cannot tell a
  // 60 ms stall from a 240 ms one, nor keep a max.
  private sinceScrape(): void {
    const registers = [this.registry];
    const read = (): StallFigures => this.stallFigures ?? this.source.stalls();
    const set = (g: Gauge<'stat'>, f: StallFigures['eventLoop']): void => {
      g.set({ stat: 'p50' }, f.p50Ms / 1000);
      g.set({ stat: 'p99' }, f.p99Ms / 1000);
      g.set({ stat: 'max' }, f.maxMs / 1000);
    };
    new Gauge({
      name: `${PREFIX}event_loop_delay_since_scrape_seconds`,
      help: 'Event-loop delay since the previous scrape: p50, p99 and max (0 when no turn was sampled).',
      labelNames: ['stat'],
      registers,
      collect() {
        set(this, read().eventLoop);
      },
    });
    new Gauge({
      name: `${PREFIX}commit_duration_since_scrape_seconds`,
      help: 'Commit latency since the previous scrape: p50, p99 and max (0 when nothing was committed).',
      labelNames: ['stat'],
      registers,
      collect() {
        set(this, read().commit);
      },
    });
  }

  // Metrics read from the stats at scrape time.
  private collected(): void {
    const registers = [this.registry];
    const s = (): ScrapedStats => this.stats();
    const source = this.source;
    new Gauge({
      name: `${PREFIX}connections`,
      help: 'Open connections by transport and state: long links pre_auth or authenticated; plain HTTP connections open.',
      labelNames: ['transport', 'state'],
      registers,
      collect() {
        const tcp = source.links('tcp');
        const ws = source.links('ws');
        this.set({ transport: 'tcp', state: 'pre_auth' }, tcp.preAuth);
        this.set({ transport: 'tcp', state: 'authenticated' }, tcp.authenticated);
        this.set({ transport: 'ws', state: 'pre_auth' }, ws.preAuth);
        this.set({ transport: 'ws', state: 'authenticated' }, ws.authenticated);
        // An upgraded socket stays an HTTP connection to the caps: count it once, as ws.
        this.set({ transport: 'http', state: 'open' }, Math.max(0, s().http.openConnections - ws.preAuth - ws.authenticated));
      },
    });
    gauge(registers, 'connections_capped', 'Connections counted against --max-connections (HTTP with WebSocket, and TCP).', () => s().connections.open);
    gauge(registers, 'polls_waiting', 'synccheck requests held open.', () => s().node.polls);
    gauge(registers, 'links_paused', 'Long links the node stopped reading (flow control).', () => s().node.pausedLinks);
    new Gauge({
      name: `${PREFIX}buffered_bytes`,
      help: 'Memory held for input not yet whole: HTTP bodies, unfinished WebSocket messages, unread long-link bytes.',
      labelNames: ['buffer'],
      registers,
      collect() {
        const st = s();
        this.set({ buffer: 'http_body' }, st.http.bufferedBytes);
        this.set({ buffer: 'ws_message' }, st.ws.bufferedBytes);
        this.set({ buffer: 'link_input' }, st.node.linkBufferedBytes);
      },
    });
    gauge(registers, 'http_buffered_bytes_peak', 'The most memory HTTP bodies have held at once.', () => s().http.peakBufferedBytes);
    counter(registers, 'shed_total', 'Connections refused at a cap (HTTP 503 or op 6).', () => s().connections.shed);
    counter(registers, 'runner_commands_total', 'Commands the runner ran (every transport, the retention sweep included).', () => s().node.commands);
    counter(registers, 'commits_total', 'Group commits.', () => s().node.commits);
    counter(registers, 'writes_total', 'Writes the commands made (a room message: about one per member); the per-round budget counts them.', () => s().node.writes);
    counter(registers, 'http_bodies_cut_total', 'Fragmented HTTP bodies whose rest the parser skipped without reading it into JavaScript.', () => s().http.bodiesCut);
    counter(registers, 'command_failures_total', 'Commands that threw or whose writes the store refused (answered Ret 1).', () => s().node.failures);
    counter(registers, 'flushes_total', 'Flushes run by the driver.', () => s().flushes);
    counter(registers, 'link_faults_total', 'Long links closed with a fault code (refused or cut for abuse or overload).', () => s().node.linkFaults);
    counter(registers, 'http_requests_total', 'HTTP requests read (/metrics excluded).', () => s().http.requests);
    counter(registers, 'http_aborted_total', 'HTTP clients that went away before their answer.', () => s().http.aborted);
    counter(registers, 'http_internal_errors_total', 'HTTP requests answered 500.', () => s().http.internalErrors);
    new Counter({
      name: `${PREFIX}socket_errors_total`,
      help: 'Socket errors on long links.',
      labelNames: ['transport'],
      registers,
      collect() {
        this.reset();
        this.inc({ transport: 'tcp' }, s().tcp.socketErrors);
        this.inc({ transport: 'ws' }, s().ws.socketErrors);
      },
    });
    new Counter({
      name: `${PREFIX}link_read_pauses_total`,
      help: 'Times a long link stopped being read (the node paused it, or its replies queued up).',
      labelNames: ['transport'],
      registers,
      collect() {
        this.reset();
        this.inc({ transport: 'tcp' }, s().tcp.paused);
        this.inc({ transport: 'ws' }, s().ws.paused);
      },
    });
  }
}

function gauge(registers: Registry[], name: string, help: string, read: () => number): void {
  new Gauge({
    name: `${PREFIX}${name}`,
    help,
    registers,
    collect() {
      this.set(read());
    },
  });
}

// A counter the server keeps anyway, shown as it is at scrape time.
function counter(registers: Registry[], name: string, help: string, read: () => number): void {
  new Counter({
    name: `${PREFIX}${name}`,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}
