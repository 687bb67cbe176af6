// Cross-node notify over PostgreSQL (docs/protocol.md section 9.3): after
// each commit the node sends `SELECT pg_notify(channel, payload)` naming the
// accounts that got new items (server/node/change-bus.ts says the form), and
// every node LISTENs on the channel on a connection of its own. PostgreSQL
// delivers a notice to every listener of the database, the sender's own
// included (it is skipped by its origin).
//
// Nothing here is trusted for data and nothing waits for it: a notice sent
// while the connection is down, or lost with it, only delays the wake. When
// the connection comes back (after a backoff), the node is told `everyone`:
// every held poll checks again and every long link syncs, which covers
// whatever was missed meanwhile.
import crypto from 'node:crypto';
import pg from 'pg';
import { decodeChanges, encodeChanges, type Change, type ChangePublisher, type RemoteChanges } from '../node/change-bus.ts';
import type { Logger } from '../observability/log.ts';

export interface PgChangeBusOptions {
  url: string;
  /** The schema the store works in: nodes on one schema share a channel, other schemas of the database do not hear them. */
  schema: string;
  /** This node's name on the channel (letters, digits, - and _). */
  origin: string;
  /** Another node's notice, or `everyone` after a reconnect. */
  onChanges: (changes: RemoteChanges) => void;
  logger?: Logger;
  /** Backoff between reconnects: from the first to the last, doubling. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Notices sent and not yet acknowledged at most; past it a notice is dropped (it only delays). */
  maxPendingSends?: number;
}

export interface ChangeBusStats {
  /** Payloads sent, and dropped (connection down, or too many pending). */
  sent: number;
  dropped: number;
  /** Notices from other nodes. */
  received: number;
  reconnects: number;
  connected: boolean;
}

/** The channel of a schema: a valid identifier of at most 63 bytes, the same on every node. */
export function channelOf(schema: string): string {
  const plain = `synckey_changes_${schema}`;
  if (/^[a-z_][a-z0-9_]*$/.test(plain) && plain.length <= 63) return plain;
  return `synckey_changes_${crypto.createHash('sha256').update(schema).digest('hex').slice(0, 32)}`;
}

export class PgChangeBus implements ChangePublisher {
  readonly channel: string;
  private client: pg.Client | undefined;
  private connected = false;
  private closed = false;
  private pending = 0;
  private backoffMs: number;
  private timer: NodeJS.Timeout | undefined;
  readonly stats: ChangeBusStats = { sent: 0, dropped: 0, received: 0, reconnects: 0, connected: false };

  private constructor(private readonly o: PgChangeBusOptions) {
    this.channel = channelOf(o.schema);
    this.backoffMs = o.reconnectMinMs ?? 100;
  }

  /** Listens before it resolves: a notice committed after this is heard (or, after a later reconnect, covered by `everyone`). */
  static async open(o: PgChangeBusOptions): Promise<PgChangeBus> {
    const bus = new PgChangeBus(o);
    await bus.connect();
    return bus;
  }

  /** The server process of the listening connection (pg_terminate_backend in tests), while connected. */
  get listenerPid(): number | undefined {
    return this.connected ? (this.client as unknown as { processID?: number } | undefined)?.processID : undefined;
  }

  publish(changes: readonly Change[]): void {
    const payloads = encodeChanges(this.o.origin, changes);
    const client = this.client;
    for (const payload of payloads) {
      if (!client || !this.connected || this.pending >= (this.o.maxPendingSends ?? 1000)) {
        this.stats.dropped++;
        continue;
      }
      this.pending++;
      client.query('SELECT pg_notify($1, $2)', [this.channel, payload]).then(
        () => {
          this.pending--;
          this.stats.sent++;
        },
        (e: unknown) => {
          this.pending--;
          this.stats.dropped++;
          this.o.logger?.warn({ event: 'notifyFailed', message: (e as Error).message }, 'a cross-node notice was not sent');
        },
      );
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const c = this.client;
    this.client = undefined;
    this.connected = false;
    this.stats.connected = false;
    await c?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.o.url, keepAlive: true, fallback_application_name: 'synckey-notify' });
    client.on('error', (e) => this.lost(client, e));
    client.on('end', () => this.lost(client, undefined));
    client.on('notification', (n) => {
      if (client !== this.client || n.channel !== this.channel) return;
      const { origin, changes } = decodeChanges(n.payload ?? '');
      if (origin === this.o.origin) return;
      this.stats.received++;
      this.o.onChanges(changes);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
    } catch (e) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw e;
    }
    if (this.closed) return void (await client.end().catch(() => undefined));
    this.client = client;
    this.connected = true;
    this.stats.connected = true;
    this.backoffMs = this.o.reconnectMinMs ?? 100;
  }

  private lost(client: pg.Client, e: Error | undefined): void {
    if (client !== this.client || this.closed) return;
    this.client = undefined;
    this.connected = false;
    this.stats.connected = false;
    client.end().catch(() => undefined);
    this.o.logger?.warn({ event: 'notifyListenerLost', message: e?.message ?? 'the server ended the connection' }, 'the cross-node notice connection was lost: reconnecting');
    this.retry();
  }

  private retry(): void {
    if (this.closed) return;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.o.reconnectMaxMs ?? 5000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect().then(
        () => {
          if (this.closed) return;
          this.stats.reconnects++;
          this.o.logger?.info({ event: 'notifyListenerBack' }, 'the cross-node notice connection is back: every waiting poll checks again');
          // Whatever was sent while this node did not listen is covered by checking everyone.
          this.o.onChanges('everyone');
        },
        () => this.retry(),
      );
    }, wait);
    this.timer.unref();
  }
}
