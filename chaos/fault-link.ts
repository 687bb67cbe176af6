// One proxied connection: the client's socket, the upstream socket, and a
// StreamPipe each way. The upstream side is connected when the link is made,
// or, while the device is partitioned, only once it heals (a blackholed
// handshake completes nothing). A server that is down refuses: the client's
// connection is cut. A FIN passes on after the bytes before it; a reset (an
// error, a destroy) cuts the other side at once and loses what was held.
import net from 'node:net';
import type { DirectionDice } from './fault-dice.ts';
import { StreamPipe } from './stream-pipe.ts';

export type Direction = 'up' | 'down';

export interface FaultLinkOptions {
  client: net.Socket;
  /** Where to connect now; undefined: nothing listens (the server is down). */
  upstream: () => { host: string; port: number } | undefined;
  up: DirectionDice;
  down: DirectionDice;
  /** Half-open stalls of this connection; undefined: none. */
  stalls?: DirectionDice;
  /** Which directions are blocked when the link is made (the device's partition). */
  blocked: { up: boolean; down: boolean };
  /** Bytes the client sent before the link was made (an upgrade request already read). */
  preface?: Buffer;
  onStall?: (dir: Direction, ms: number) => void;
  onClose?: () => void;
}

export class FaultLink {
  readonly client: net.Socket;
  private upstreamSocket: net.Socket | undefined;
  readonly up: StreamPipe;
  readonly down: StreamPipe;
  private closed = false;
  private connectPending = false;
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly o: FaultLinkOptions;

  constructor(o: FaultLinkOptions) {
    this.o = o;
    this.client = o.client;
    this.client.setNoDelay(true);
    this.up = new StreamPipe(o.up, this.client);
    this.down = new StreamPipe(o.down, {
      pause: () => this.upstreamSocket?.pause(),
      resume: () => this.upstreamSocket?.resume(),
    });
    this.down.connect({ write: (b) => this.client.write(b), end: () => this.client.end() });
    if (o.blocked.up) this.up.block();
    if (o.blocked.down) this.down.block();
    this.client.on('data', (c: Buffer) => this.up.push(c));
    this.client.on('end', () => this.up.end());
    this.client.on('error', () => {});
    this.client.on('close', () => this.close());
    if (o.preface && o.preface.length > 0) this.up.push(o.preface);
    // Connected after the constructor returns: a refusal closes the link, and its owner must hold it first.
    if (o.blocked.up || o.blocked.down) this.connectPending = true;
    else queueMicrotask(() => this.connectUpstream());
    this.scheduleStall();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The device's partition changed: block or release each direction; a pending handshake completes once both are open. */
  setBlocked(up: boolean, down: boolean): void {
    if (this.closed) return;
    if (up) this.up.block();
    else this.up.unblock();
    if (down) this.down.block();
    else this.down.unblock();
    if (this.connectPending && !up && !down) {
      this.connectPending = false;
      this.connectUpstream();
    }
  }

  /** A reset: both sides cut at once, held bytes lost. */
  cut(): void {
    if (this.closed) return;
    reset(this.client);
    if (this.upstreamSocket) reset(this.upstreamSocket);
    this.close();
  }

  private connectUpstream(): void {
    if (this.closed) return;
    const target = this.o.upstream();
    if (!target) return this.cut();
    const s = net.connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true });
    this.upstreamSocket = s;
    s.on('connect', () => {
      if (this.closed) return;
      this.up.connect({ write: (b) => s.write(b), end: () => s.end() });
    });
    let ended = false;
    s.on('data', (c: Buffer) => this.down.push(c));
    s.on('end', () => {
      ended = true;
      this.down.end();
    });
    s.on('error', () => {});
    // After a FIN the down pipe ends the client once its bytes are out; a close without one is a reset (a crash, a refusal).
    s.on('close', () => {
      if (!ended) this.cut();
    });
  }

  private scheduleStall(): void {
    const dice = this.o.stalls;
    if (!dice || this.closed) return;
    const inMs = dice.nextStallInMs();
    if (!Number.isFinite(inMs)) return;
    this.stallTimer = setTimeout(() => {
      if (this.closed) return;
      const ms = dice.stallMs();
      const dir: Direction = dice.stallsUp() ? 'up' : 'down';
      (dir === 'up' ? this.up : this.down).stall(ms);
      this.o.onStall?.(dir, ms);
      this.scheduleStall();
    }, inMs);
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.up.drop();
    this.down.drop();
    if (!this.client.destroyed) this.client.destroy();
    if (this.upstreamSocket && !this.upstreamSocket.destroyed) this.upstreamSocket.destroy();
    this.o.onClose?.();
  }
}

function reset(s: net.Socket): void {
  if (s.destroyed) return;
  try {
    s.resetAndDestroy();
  } catch {
    s.destroy();
  }
}
