// The real server: one ServerNode behind three thin transports (HTTP with
// WebSocket upgrades on one port, TCP on another), a durable store, the
// system clock and crypto randomness. The app owns the timing the node
// leaves to its driver: a group commit right after the input that arrives
// together (setImmediate), and a tick for long polls and link deadlines.
// After a flush, links the node holds paused take their turn; if that ran
// commands (or links still wait), another flush follows on the next turn of
// the event loop, after the input that arrived meanwhile: so a link that
// pipelines thousands of packets shares the server with the others. On
// PostgreSQL (storeUrl) the node is one of many on the database: its
// transactions run one at a time as the database answers, each one's end
// calls for the next flush, and the other nodes' notices wake its polls and
// links (postgres-node.ts, docs/protocol.md section 9.3).
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { HashResult } from '../core/deps.ts';
import { DEFAULT_SCRYPT_N, runHashWorkAsync, scryptHasher } from '../core/password.ts';
import type { HashAction } from '../node/hash-jobs.ts';
import { ServerNode, type NodeStats, type ServerAction } from '../node/server-node.ts';
import type { AsyncStorage } from '../node/async-runner.ts';
import { SqliteStore } from '../store/sqlite-store.ts';
import { StorageThread } from './storage-thread.ts';
import type { StartOptions } from './start-options.ts';

export type { StartOptions } from './start-options.ts';
import type { Store } from '../store/store.ts';
import { HttpTransport } from './http-transport.ts';
import { shuttingDown } from './http-answers.ts';
import type { HttpTransportStats } from './http-transport-stats.ts';
import { TcpTransport, type TcpTransportStats } from './tcp-transport.ts';
import { WsTransport, type WsTransportStats } from './ws-transport.ts';
import { ConnectionLimiter, type ConnectionStats } from './connection-limiter.ts';
import { HashSlots, defaultHashSlots } from './hash-slots.ts';
import { ShedHold } from './shed-hold.ts';
import { transportLimits } from './transport-limits.ts';
import { performance } from 'node:perf_hooks';
import { ServerObserver } from '../observability/server-observer.ts';
import type { StallMonitor } from '../observability/stall-monitor.ts';
import path from 'node:path';
import { FsMediaFiles, type MediaFiles } from '../media/media-files.ts';
import { mediaLimits } from '../media/media-limits.ts';
import { MemoryMediaFiles } from '../media/memory-media-files.ts';
import { UploadTransport } from './upload-transport.ts';
import { openPostgresNode, type PostgresNode } from './postgres-node.ts';
import type { ChangeBusStats } from './pg-change-bus.ts';

export const DEFAULT_DB_PATH = './data/synckey.db';


export interface ServerStats {
  node: NodeStats;
  http: HttpTransportStats;
  tcp: TcpTransportStats;
  ws: WsTransportStats;
  /** Connections counted against the caps (HTTP with WebSocket, and TCP). */
  connections: ConnectionStats;
  flushes: number;
  /** On PostgreSQL: the cross-node notices this node sent, dropped and heard. */
  changeBus?: ChangeBusStats;
}

export interface RunningServer {
  readonly host: string;
  readonly httpPort: number;
  readonly tcpPort: number;
  /** The database path, 'injected' for a store passed in, or the PostgreSQL URL without its password. */
  readonly db: string;
  readonly node: ServerNode;
  /** The media uploads in progress and where their bytes go. */
  readonly uploads: UploadTransport;
  /** The server's own event-loop delay and commit latency (the load test samples them). */
  readonly stalls: StallMonitor;
  stats(): ServerStats;
  /** Drain and stop: no new input, commit and answer what is held, close links and polls, close the store. */
  close(): Promise<void>;
}

export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const dbPath = opts.db ?? DEFAULT_DB_PATH;
  const tickMs = opts.tickMs ?? 250;
  const graceMs = opts.closeGraceMs ?? 1000;
  const hasher = scryptHasher(opts.scryptN ?? DEFAULT_SCRYPT_N);
  const hashing = new HashSlots(opts.hashThreads ?? defaultHashSlots(os.availableParallelism()));
  const limits = transportLimits(opts.limits);
  const limiter = new ConnectionLimiter(
    limits.maxConnections,
    limits.maxConnectionsPerAddress,
    limits.connectionsPerSecPerAddress,
    limits.connectionBurstPerAddress,
    limits.refusalCostConnections,
  );
  const shedHold = new ShedHold({ delayMs: limits.shedDelayMs, graceMs: opts.closeGraceMs ?? 1000, maxHeld: limits.maxShedHeld });
  // Built before the transports it reports on: it reads their stats only when scraped.
  const observer = new ServerObserver(() => stats(), { ...(opts.logger ? { logger: opts.logger } : {}), ...(opts.metricsToken !== undefined ? { metricsToken: opts.metricsToken } : {}) });
  const synchronous = opts.synchronous ?? 'FULL';
  const postgres: PostgresNode | undefined =
    opts.storeUrl !== undefined && !opts.store
      ? await openPostgresNode(opts.storeUrl, { ...(opts.logger ? { logger: opts.logger } : {}), committed: (commands, ms) => observer.stalls.commitDone(ms, commands) })
      : undefined;
  const threaded = !opts.store && !postgres && opts.storageThread === true && dbPath !== ':memory:' && dbPath !== '';
  const thread = threaded ? await StorageThread.start(dbPath, synchronous) : undefined;
  const store: Store | undefined = thread || postgres ? undefined : observer.probeStore(opts.store ?? SqliteStore.open(dbPath, { synchronous }));
  const closeStore = (): Promise<void> => (thread ? thread.close() : postgres ? postgres.close() : Promise.resolve(store!.close()));
  // Batches posted to the storage thread and the last one it committed: close() waits for the two to meet.
  let posted = 0;
  let committedThrough = 0;
  let drained: (() => void) | undefined;

  let flushes = 0;
  let flushScheduled = false;
  let closing = false;
  let nextLinkId = 1;
  const nextId = (): number => nextLinkId++;

  // The transports are built after the node; `out` reaches them through these.
  let http!: HttpTransport;
  let tcp!: TcpTransport;
  let ws!: WsTransport;
  const out = (a: ServerAction): void => {
    if (a.kind === 'respond') return http.respond(a.req, a.answer);
    if (a.kind === 'hash') return hashJob(a);
    const t = tcp.has(a.link) ? tcp : ws.has(a.link) ? ws : undefined;
    if (!t) return;
    switch (a.kind) {
      case 'write':
        return t.write(a.link, a.bytes);
      case 'close':
        return t.close(a.link);
      case 'pause':
        return t.pause(a.link);
      case 'resume':
        return t.resume(a.link);
    }
  };

  let node: ServerNode;
  try {
    node = new ServerNode({
      ...(thread
        ? {
            pipeline: {
              store: thread.store,
              post: (b) => {
                posted = b.id;
                thread.post(b);
              },
            },
          }
        : postgres
          ? { asyncStore: asyncStorage(postgres, opts, () => asyncSettled()), changes: { publish: (c) => postgres.publish(c) } }
          : { store: store! }),
      random: { bytes: (n) => randomBytes(n) },
      hasher,
      out,
      watch: observer.watch,
      ...(opts.core ? { core: opts.core } : {}),
      ...(opts.node ? { node: opts.node } : {}),
      ...(opts.publicUrl !== undefined ? { publicUrl: opts.publicUrl } : {}),
      ...(opts.bugs ? { bugs: opts.bugs } : {}),
    });
  } catch (e) {
    await closeStore();
    throw e;
  }
  thread?.listen({
    committed: (through, _batches, ms) => {
      committedThrough = through;
      if (storeClosed) return;
      // The commit's own time, on the storage thread: what the main thread waits for is measured by delivery.
      observer.stalls.commitDone(ms, node.storageCommitted(through, Date.now()));
      if (committedThrough >= posted) drained?.();
      afterInput();
    },
    failed: (_id, message) => {
      opts.logger?.error({ event: 'commitFailed', message }, 'a commit failed on the storage thread');
      committedThrough = posted;
      node.storageFailed();
      drained?.();
      afterInput();
    },
    died: (message) => {
      opts.logger?.error({ event: 'storageDied', message }, 'the storage thread died');
      committedThrough = posted;
      node.storageFailed();
      drained?.();
    },
  });
  /** Resolves when every batch posted so far is committed (or failed), and no command waits for a transaction. */
  const allCommitted = (): Promise<void> =>
    committedThrough >= posted && node.uncommitted === 0 ? Promise.resolve() : new Promise<void>((resolve) => (drained = resolve));
  // A transaction on PostgreSQL is over: its answers and effects left; what it made wait goes on.
  function asyncSettled(): void {
    if (node.uncommitted === 0) drained?.();
    afterInput();
  }

  let storeClosed = false;
  // Password hashes run on libuv's thread pool (crypto.scrypt), off the event
  // loop; the node bounds how many are out (maxHashJobs). One that ends after
  // the store closed is dropped: its request was answered by the drain.
  const hashJob = (a: HashAction): void => {
    hashing.run(() => runHashWorkAsync(hasher, a.work)).then(
      (result) => hashDone(a.job, result),
      () => hashDone(a.job, null),
    );
  };
  const hashDone = (job: number, result: HashResult | null): void => {
    if (storeClosed) return;
    node.hashDone(job, result, Date.now());
    afterInput();
  };
  const flush = (): void => {
    flushScheduled = false;
    if (storeClosed) return;
    flushes++;
    const startedAt = performance.now();
    node.flush(Date.now());
    observer.flushed((performance.now() - startedAt) / 1000);
    // Paused links took their turn: their commands commit on the next turn of the loop.
    afterInput();
  };
  // Group commit: everything that arrives before the next turn of the event loop shares one transaction.
  const afterInput = (): void => {
    if (flushScheduled || !node.needsFlush) return;
    flushScheduled = true;
    setImmediate(flush);
  };

  try {
    // Other nodes' notices wake this node's polls and links (docs/protocol.md section 9.3).
    await postgres?.listen((changes) => {
      if (storeClosed) return;
      node.remoteChanges(changes);
      afterInput();
    });
  } catch (e) {
    await closeStore();
    throw e;
  }

  const links = observer.watchLinks(node);
  ws = new WsTransport({
    node: links,
    onRefused: observer.refusals('ws'),
    maxPacketBody: node.config.maxPacketBody,
    afterInput,
    nextId,
    ...(opts.linkWriteLimit ? { writeLimit: opts.linkWriteLimit } : {}),
    closeGraceMs: graceMs,
    messageTimeoutMs: node.config.packetTimeoutMs,
    maxUnfinishedBytes: node.config.maxLinkBufferBytes,
  });
  const uploads = new UploadTransport({
    media: node.media,
    files: await openMediaFiles(opts, dbPath),
    limits: mediaLimits(opts.media),
    random: { bytes: (n) => randomBytes(n) },
    afterInput,
    bodyTimeoutMs: limits.bodyTimeoutMs,
    closeGraceMs: graceMs,
    closing: () => closing,
  });
  http = new HttpTransport({
    node,
    media: uploads,
    maxBody: node.config.maxHttpBody,
    afterInput,
    upgrade: (req, socket, head) => ws.handleUpgrade(req, socket, head),
    limiter,
    shedHold,
    bodyTimeoutMs: limits.bodyTimeoutMs,
    retryAfterSec: limits.retryAfterSec,
    closeGraceMs: graceMs,
    metrics: (req) => observer.endpoint.answer(req),
    onRefused: observer.refusals('http'),
    onAnswer: (answer) => observer.httpAnswered(answer.status),
  });
  tcp = new TcpTransport({
    node: links,
    onRefused: observer.refusals('tcp'),
    afterInput,
    nextId,
    ...(opts.linkWriteLimit ? { writeLimit: opts.linkWriteLimit } : {}),
    closeGraceMs: graceMs,
    limiter,
    shedHold,
  });

  const ticker = setInterval(() => {
    if (closing) return;
    const now = Date.now();
    node.tick(now);
    http.sweep(now);
    uploads.sweep(now);
    ws.sweep(now);
    // A tick may start commands (the retention sweep): they commit like any input's.
    afterInput();
  }, tickMs);
  ticker.unref();

  let httpPort: number;
  let tcpPort: number;
  try {
    httpPort = await http.listen(opts.httpPort ?? 8080, host);
    tcpPort = await tcp.listen(opts.tcpPort ?? 8081, host);
  } catch (e) {
    clearInterval(ticker);
    http.server.close();
    tcp.server.close();
    await closeStore();
    throw e;
  }

  if (opts.publicUrl === undefined) node.publicUrl = ownUrl(host, httpPort);

  function stats(): ServerStats {
    return {
      node: node.stats(),
      http: { ...http.stats },
      tcp: { ...tcp.stats },
      ws: { ...ws.stats },
      connections: { ...limiter.stats },
      flushes,
      ...(postgres?.busStats() ? { changeBus: postgres.busStats()! } : {}),
    };
  }

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing = true;
      clearInterval(ticker);
      http.stopAccepting();
      tcp.stopAccepting();
      ws.stopAccepting();
      // Commit and answer whatever is held: an answered send is durable. HTTP
      // commands held past a round's work budget take a round each.
      do {
        flush();
        await allCommitted();
      } while (node.needsFlush && !storeClosed);
      const links = Promise.all([tcp.closeAll(), ws.closeAll()]);
      // With every link gone, a tick past the hold time answers every waiting synccheck ("nothing new").
      node.tick(Date.now() + node.config.holdMs + 1);
      if (node.needsFlush) flush();
      await Promise.all([links, http.drain(shuttingDown(), graceMs)]);
      if (node.needsFlush) flush();
      await allCommitted();
      storeClosed = true;
      await closeStore();
      observer.stop();
    })();
    return closed;
  };

  return {
    host,
    httpPort,
    tcpPort,
    db: opts.store ? 'injected' : postgres ? postgres.label : dbPath,
    node,
    uploads,
    stalls: observer.stalls,
    stats,
    close,
  };
}

/** What the node runs on PostgreSQL with: the store, its queue bound, and where its transactions' ends and its bugs are told. */
function asyncStorage(postgres: PostgresNode, opts: StartOptions, settled: () => void): AsyncStorage {
  return {
    store: postgres.store,
    settled,
    ...(opts.storeMaxQueue !== undefined ? { maxQueue: opts.storeMaxQueue } : {}),
    onError: (e) => opts.logger?.error({ event: 'runnerError', message: (e as Error)?.message }, 'a callback of the command runner threw'),
  };
}

/**
 * The media files: on disk next to the database (or in mediaDir), in memory
 * for a database that is. On PostgreSQL, under mediaDir or next to the
 * default database path (nodes that share a database must share it too).
 * Part files of an earlier run are cleared.
 */
async function openMediaFiles(opts: StartOptions, dbPath: string): Promise<MediaFiles> {
  if (opts.mediaDir === undefined && opts.storeUrl === undefined && (opts.store !== undefined || dbPath === ':memory:' || dbPath === '')) return new MemoryMediaFiles();
  const files = await FsMediaFiles.open(opts.mediaDir ?? path.dirname(path.resolve(dbPath)));
  await files.clearParts();
  return files;
}

/** The HTTP address a client on this host reaches: a wildcard bind is reached on loopback. */
function ownUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}
