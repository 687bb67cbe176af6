// What startServer takes (server/transport/server-app.ts): the listeners, the
// store (SQLite, or PostgreSQL) and its durability, the node's and the core's limits, the transport's
// anti-abuse limits, the storage thread, logging, metrics, media, and the
// planted bugs of runs that prove the checkers catch them.
import type { BugSet } from '../core/planted-bugs.ts';
import type { CoreConfig } from '../core/config.ts';
import type { MediaLimits } from '../media/media-limits.ts';
import type { NodeConfig } from '../node/node-config.ts';
import type { Logger } from '../observability/log.ts';
import type { Store } from '../store/store.ts';
import type { TransportLimits } from './transport-limits.ts';

export interface StartOptions {
  /** Address both listeners bind (default 127.0.0.1). */
  host?: string;
  /** 0 asks for an ephemeral port; RunningServer reports the real one. Default 8080. */
  httpPort?: number;
  /** Default 8081. */
  tcpPort?: number;
  /** SQLite file (created on first start) or ':memory:'. Default ./data/synckey.db. */
  db?: string;
  /** A store to use instead of opening `db` (tests). It is closed by close(). */
  store?: Store;
  /**
   * A PostgreSQL database instead of the SQLite file: postgres://user:pass@host:port/db
   * (a search_path in `options` picks the schema). The server creates or
   * migrates its schema; several servers may share it, each a node
   * (docs/protocol.md section 9.3). `db` is then unused.
   */
  storeUrl?: string;
  /** On PostgreSQL: commands waiting for a transaction at most; one more is answered Ret 2 (default 10,000). */
  storeMaxQueue?: number;
  /** SQLite durability: FULL (default) survives power loss, NORMAL a process crash. */
  synchronous?: 'FULL' | 'NORMAL';
  /** scrypt cost N for password hashes (default 16384; tests pass a small power of two). */
  scryptN?: number;
  node?: Partial<NodeConfig>;
  core?: Partial<CoreConfig>;
  /** Socket-level anti-abuse limits: connection caps, the HTTP body deadline. */
  limits?: Partial<TransportLimits>;
  /** How often node.tick runs, in ms (default 250). */
  tickMs?: number;
  /** Bytes queued for a long-link peer that does not read before it is dropped (default 1 MiB). */
  linkWriteLimit?: number;
  /** Time a closing link or connection gets to finish before it is destroyed, in ms (default 1000). */
  closeGraceMs?: number;
  /**
   * Commit on a storage thread: the event loop parses, runs the core and
   * writes sockets while the last batch commits. Off by default: on two cores
   * shared with the load it measured slower (README, Figures). A ':memory:'
   * or injected store always commits in this thread.
   */
  storageThread?: boolean;
  /** Password hashes computing at once (the node admits more, which wait): default one core less than the machine has, at least 1. */
  hashThreads?: number;
  /** Planted bugs (server/core/planted-bugs.ts), for runs that prove the checkers catch them; never in production. */
  bugs?: BugSet;
  /** Where refusals, cut links and throttled accounts are logged (default: nowhere). */
  logger?: Logger;
  /** Bearer token for GET /metrics; without it only loopback peers may scrape (docs/protocol.md 5.12). */
  metricsToken?: string;
  /**
   * The base of the URLs the server writes: QR codes and the web login's
   * redirect (docs/protocol.md 5.11). Default: this server's own HTTP
   * address once listening (http://127.0.0.1:8080 at the default host and port).
   */
  publicUrl?: string;
  /**
   * Where media files go: `<mediaDir>/media` (default: the database file's
   * folder; a ':memory:' or injected store keeps media in memory).
   */
  mediaDir?: string;
  /** Media upload limits (server/media/media-limits.ts). */
  media?: Partial<MediaLimits>;
}
