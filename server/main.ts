// `npm start`: the real server on loopback by default. Prints one line when
// ready; SIGINT/SIGTERM drain, close the database and exit 0.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_NODE_CONFIG } from './node/node-config.ts';
import { DEFAULT_MAX_QUEUE } from './node/async-runner.ts';
import { isPostgresUrl } from './transport/postgres-node.ts';
import { normalizePublicUrl } from './node/web-login.ts';
import { DEFAULT_SCRYPT_N } from './core/password.ts';
import { DEFAULT_DB_PATH, startServer, type StartOptions } from './transport/server-app.ts';
import { DEFAULT_TRANSPORT_LIMITS } from './transport/transport-limits.ts';
import { defaultHashSlots } from './transport/hash-slots.ts';
import { DEFAULT_LOG_LEVEL, LOG_LEVELS, createLogger, isLogLevel } from './observability/log.ts';

const HELP = `Usage: npm start -- [options]

The SyncKey server: HTTP (and WebSocket at /longlink) on one port, the TCP long link on another.

Options:
  --http-port N       HTTP and WebSocket port; 0 picks a free one (default 8080)
  --tcp-port N        TCP long-link port; 0 picks a free one (default 8081)
  --host ADDR         address to bind (default 127.0.0.1; 0.0.0.0 for every interface)
  --db PATH           SQLite database file, created on first start; :memory: keeps
                      nothing after exit (default ${DEFAULT_DB_PATH})
  --store URL         a PostgreSQL database instead of the SQLite file:
                      postgres://user:password@host:5432/dbname (default: the
                      environment's DATABASE_URL if set and --db is not given; else
                      SQLite). The server creates and migrates its schema; several
                      servers on one database are nodes of one service
  --store-max-queue N on PostgreSQL, commands waiting for a transaction; one more is
                      answered Ret 2, busy (default ${DEFAULT_MAX_QUEUE})
  --media-dir DIR     uploaded media go in DIR/media (default: the database file's
                      folder; with --db :memory: media are kept in memory; on
                      PostgreSQL, ./data: nodes on one database need one media dir)
  --storage-thread on|off
                      commit on a storage thread, off the event loop (default off:
                      measured slower on two shared cores; :memory: always commits
                      in this thread)
  --synchronous FULL|NORMAL
                      SQLite durability: FULL survives power loss, NORMAL a process
                      crash (default FULL)
  --hold-ms N         how long synccheck holds a request with no news, in ms
                      (default ${DEFAULT_NODE_CONFIG.holdMs})
  --heartbeat-sec N   heartbeat interval told to long-link clients; a link silent for
                      2.5 intervals is closed (default ${DEFAULT_NODE_CONFIG.heartbeatSec})
  --scrypt-n N        scrypt cost for password hashes, a power of two >= 2
                      (default ${DEFAULT_SCRYPT_N})
  --max-connections N open connections in all (HTTP, WebSocket and TCP); more are
                      shed with HTTP 503 or op 6 (default ${DEFAULT_TRANSPORT_LIMITS.maxConnections})
  --max-connections-per-address N
                      open connections from one address; raise it behind a proxy
                      (default ${DEFAULT_TRANSPORT_LIMITS.maxConnectionsPerAddress})
  --connections-per-sec-per-address N
                      new connections per second from one address, after a burst of
                      --connection-burst-per-address; more are shed with HTTP 503 or
                      op 6 CONN_RATE_LIMIT (defaults ${DEFAULT_TRANSPORT_LIMITS.connectionsPerSecPerAddress} and ${DEFAULT_TRANSPORT_LIMITS.connectionBurstPerAddress})
  --connection-burst-per-address N
  --shed-delay-ms N   a connection shed for its address's rate gets its answer this late
                      (a tarpit; default ${DEFAULT_TRANSPORT_LIMITS.shedDelayMs})
  --max-shed-held N   shed sockets held at once, waiting or in their close grace; one more
                      is answered and destroyed at once (default ${DEFAULT_TRANSPORT_LIMITS.maxShedHeld})
  --refusal-cost-connections N
                      what an HTTP request refused for its body (trickled, too large,
                      late) costs its address, in new connections of the rate above
                      (default ${DEFAULT_TRANSPORT_LIMITS.refusalCostConnections})
  --max-work-per-round N
                      work (writes, and log items read) the commands of one round may
                      do (a room message costs one per member, a full sync page about
                      100); past it the clients that did it wait for the next round
                      (default ${DEFAULT_NODE_CONFIG.maxWorkPerRound})
  --max-unauth-links N
                      long links waiting to authenticate, in all (default ${DEFAULT_NODE_CONFIG.maxUnauthLinks})
  --max-hash-jobs N   password hashes (login, register) admitted at once; more answer
                      Ret 2 with a retry-after hint (default ${DEFAULT_NODE_CONFIG.maxHashJobs})
  --hash-threads N    of those, how many compute at once (default: one less than the
                      machine's cores, at least 1; here ${defaultHashSlots(os.availableParallelism())})
  --login-free-failures-per-address N
                      failed logins from one address before each next one waits,
                      doubling (default ${DEFAULT_NODE_CONFIG.loginFreeFailuresPerAddress})
  --login-free-failures-per-account N
                      the same per user name, from any address (default ${DEFAULT_NODE_CONFIG.loginFreeFailuresPerAccount})
  --registers-per-address-per-hour N
                      registrations from one address per hour, after a burst of as
                      many (default ${DEFAULT_NODE_CONFIG.registersPerAddressPerHour})
  --log-level LEVEL   JSON log lines on stderr from this level up: ${LOG_LEVELS.join('|')}
                      (default ${DEFAULT_LOG_LEVEL}); stdout keeps the one ready line
  --metrics-token T   bearer token GET /metrics requires; without it (and without
                      SYNCKEY_METRICS_TOKEN) /metrics answers loopback peers only
  --public-url URL    base of the URLs the server writes (QR codes, the web login's
                      redirect), as clients reach it: http(s)://host[:port][/path]
                      (default: http://<host>:<http port>, so http://127.0.0.1:8080)
  -h, --help          show this help and exit

Example: npm start -- --http-port 0 --tcp-port 0 --db :memory:`;

class UsageError extends Error {}

/** The node's anti-abuse flags: passwords, registrations, the work budget (docs/limits.md). */
function nodeAbuseFlags(values: Record<string, string | boolean | undefined>): Partial<typeof DEFAULT_NODE_CONFIG> {
  const flag = (name: string): string | undefined => values[name] as string | undefined;
  const d = DEFAULT_NODE_CONFIG;
  const perHour = intFlag('registers-per-address-per-hour', flag('registers-per-address-per-hour'), d.registersPerAddressPerHour, 1, 10_000_000);
  return {
    maxHashJobs: intFlag('max-hash-jobs', flag('max-hash-jobs'), d.maxHashJobs, 1, 10_000),
    maxWorkPerRound: intFlag('max-work-per-round', flag('max-work-per-round'), d.maxWorkPerRound, 1, 1_000_000_000),
    loginFreeFailuresPerAddress: intFlag('login-free-failures-per-address', flag('login-free-failures-per-address'), d.loginFreeFailuresPerAddress, 1, 10_000_000),
    loginFreeFailuresPerAccount: intFlag('login-free-failures-per-account', flag('login-free-failures-per-account'), d.loginFreeFailuresPerAccount, 1, 10_000_000),
    registersPerAddressPerHour: perHour,
    registerBurstPerAddress: perHour,
  };
}

function intFlag(name: string, text: string | undefined, dflt: number, min: number, max: number): number {
  if (text === undefined) return dflt;
  if (!/^[0-9]+$/.test(text)) throw new UsageError(`--${name} must be a whole number, got '${text}'`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/**
 * The PostgreSQL URL: --store, else DATABASE_URL unless --db names a SQLite
 * file (an explicit flag beats the environment); undefined for SQLite.
 */
function postgresUrl(flag: string | undefined, db: string | undefined): string | undefined {
  if (flag !== undefined && db !== undefined) throw new UsageError('--store and --db name two databases: give one');
  const env = process.env['DATABASE_URL'];
  const url = flag ?? (db === undefined && env !== undefined && env !== '' ? env : undefined);
  if (url === undefined) return undefined;
  const from = flag !== undefined ? '--store' : 'DATABASE_URL';
  if (!isPostgresUrl(url)) throw new UsageError(`${from} must be a postgres:// or postgresql:// URL`);
  return url;
}

function parseCli(argv: string[]): StartOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'http-port': { type: 'string' },
        'tcp-port': { type: 'string' },
        host: { type: 'string' },
        db: { type: 'string' },
        store: { type: 'string' },
        'store-max-queue': { type: 'string' },
        'media-dir': { type: 'string' },
        'storage-thread': { type: 'string' },
        synchronous: { type: 'string' },
        'hold-ms': { type: 'string' },
        'heartbeat-sec': { type: 'string' },
        'scrypt-n': { type: 'string' },
        'max-connections': { type: 'string' },
        'max-connections-per-address': { type: 'string' },
        'connections-per-sec-per-address': { type: 'string' },
        'connection-burst-per-address': { type: 'string' },
        'refusal-cost-connections': { type: 'string' },
        'shed-delay-ms': { type: 'string' },
        'max-shed-held': { type: 'string' },
        'max-unauth-links': { type: 'string' },
        'max-work-per-round': { type: 'string' },
        'max-hash-jobs': { type: 'string' },
        'hash-threads': { type: 'string' },
        'login-free-failures-per-address': { type: 'string' },
        'login-free-failures-per-account': { type: 'string' },
        'registers-per-address-per-hour': { type: 'string' },
        'log-level': { type: 'string' },
        'metrics-token': { type: 'string' },
        'public-url': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) return 'help';
  const scryptN = intFlag('scrypt-n', values['scrypt-n'], DEFAULT_SCRYPT_N, 2, 1 << 24);
  if ((scryptN & (scryptN - 1)) !== 0) throw new UsageError(`--scrypt-n must be a power of two, got ${scryptN}`);
  const host = values.host ?? '127.0.0.1';
  if (host === '') throw new UsageError('--host must not be empty');
  const db = values.db ?? DEFAULT_DB_PATH;
  if (db === '') throw new UsageError('--db must not be empty (use :memory: for a throwaway database)');
  const storeUrl = postgresUrl(values.store, values.db);
  const thread = values['storage-thread'] ?? 'off';
  if (thread !== 'on' && thread !== 'off') throw new UsageError(`--storage-thread must be on or off, got '${thread}'`);
  const synchronous = values.synchronous ?? 'FULL';
  if (synchronous !== 'FULL' && synchronous !== 'NORMAL') throw new UsageError(`--synchronous must be FULL or NORMAL, got '${synchronous}'`);
  const logLevel = values['log-level'] ?? DEFAULT_LOG_LEVEL;
  if (!isLogLevel(logLevel)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${logLevel}'`);
  // The environment keeps the token out of the process list.
  const metricsToken = values['metrics-token'] ?? process.env['SYNCKEY_METRICS_TOKEN'];
  if (metricsToken === '') throw new UsageError('--metrics-token must not be empty');
  let publicUrl: string | undefined;
  try {
    publicUrl = values['public-url'] === undefined ? undefined : normalizePublicUrl(values['public-url']);
  } catch {
    throw new UsageError(`--public-url must be http(s)://host[:port][/path], at most 200 characters, got '${values['public-url']}'`);
  }
  return {
    httpPort: intFlag('http-port', values['http-port'], 8080, 0, 65535),
    tcpPort: intFlag('tcp-port', values['tcp-port'], 8081, 0, 65535),
    host,
    db,
    storageThread: thread === 'on',
    synchronous,
    scryptN,
    hashThreads: intFlag('hash-threads', values['hash-threads'], defaultHashSlots(os.availableParallelism()), 1, 1024),
    logger: createLogger(logLevel),
    ...(metricsToken !== undefined ? { metricsToken } : {}),
    ...(publicUrl !== undefined ? { publicUrl } : {}),
    ...(values['media-dir'] !== undefined && values['media-dir'] !== '' ? { mediaDir: values['media-dir'] } : {}),
    ...(storeUrl !== undefined ? { storeUrl, storeMaxQueue: intFlag('store-max-queue', values['store-max-queue'], DEFAULT_MAX_QUEUE, 1, 10_000_000) } : {}),
    node: {
      holdMs: intFlag('hold-ms', values['hold-ms'], DEFAULT_NODE_CONFIG.holdMs, 1, 3_600_000),
      heartbeatSec: intFlag('heartbeat-sec', values['heartbeat-sec'], DEFAULT_NODE_CONFIG.heartbeatSec, 1, 86_400),
      maxUnauthLinks: intFlag('max-unauth-links', values['max-unauth-links'], DEFAULT_NODE_CONFIG.maxUnauthLinks, 1, 10_000_000),
      ...nodeAbuseFlags(values),
    },
    limits: {
      maxConnections: intFlag('max-connections', values['max-connections'], DEFAULT_TRANSPORT_LIMITS.maxConnections, 1, 10_000_000),
      maxConnectionsPerAddress: intFlag(
        'max-connections-per-address',
        values['max-connections-per-address'],
        DEFAULT_TRANSPORT_LIMITS.maxConnectionsPerAddress,
        1,
        10_000_000,
      ),
      connectionsPerSecPerAddress: intFlag('connections-per-sec-per-address', values['connections-per-sec-per-address'], DEFAULT_TRANSPORT_LIMITS.connectionsPerSecPerAddress, 1, 1_000_000_000),
      connectionBurstPerAddress: intFlag('connection-burst-per-address', values['connection-burst-per-address'], DEFAULT_TRANSPORT_LIMITS.connectionBurstPerAddress, 1, 1_000_000_000),
      refusalCostConnections: intFlag('refusal-cost-connections', values['refusal-cost-connections'], DEFAULT_TRANSPORT_LIMITS.refusalCostConnections, 1, 1_000_000_000),
      shedDelayMs: intFlag('shed-delay-ms', values['shed-delay-ms'], DEFAULT_TRANSPORT_LIMITS.shedDelayMs, 1, 60_000),
      maxShedHeld: intFlag('max-shed-held', values['max-shed-held'], DEFAULT_TRANSPORT_LIMITS.maxShedHeld, 1, 1_000_000),
    },
  };
}

async function main(): Promise<void> {
  let opts: StartOptions | 'help';
  try {
    opts = parseCli(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n\n${HELP}\n`);
    process.exit(2);
  }
  if (opts === 'help') {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  let server;
  try {
    server = await startServer(opts);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const hint = err.code === 'EADDRINUSE' ? ' (another process holds the port: pick another with --http-port/--tcp-port, or 0)' : '';
    process.stderr.write(`error: cannot start: ${err.message}${hint}\n`);
    process.exit(1);
  }
  const { host, httpPort, tcpPort, db } = server;
  const log = opts.logger;

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting without draining\n`);
      process.exit(1);
    }
    stopping = true;
    log?.info({ event: 'stopping', signal }, 'draining');
    server.close().then(
      () => {
        log?.info({ event: 'stopped' }, 'server stopped');
        process.exit(0);
      },
      (e: unknown) => {
        process.stderr.write(`error while closing: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  // The handlers go in before "ready" is printed: a supervisor that signals
  // the moment it reads the line must get a drain, not the default kill.
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const h = host.includes(':') ? `[${host}]` : host;
  process.stdout.write(`ready http=http://${h}:${httpPort} ws=ws://${h}:${httpPort}/longlink tcp=${h}:${tcpPort} db=${db}\n`);
  log?.info({ event: 'started', host, httpPort, tcpPort, db, metrics: opts.metricsToken !== undefined ? 'bearer token' : 'loopback only' }, 'server started');
}

void main();
