// One long link (TCP or WebSocket) as the node sees it: framing state, who
// it is once authenticated, the flow control that keeps it from starving the
// others, and the deadlines that close it.
import { PacketDecoder } from '../wire/packet-decoder.ts';
import type { Packet } from '../wire/packet.ts';

export type LinkState = 'unauth' | 'authing' | 'open' | 'closed';

export class LongLink {
  state: LinkState = 'unauth';
  readonly decoder: PacketDecoder;
  uin = 0;
  sid = '';
  deviceId = '';
  /** When the last whole packet arrived: bytes of an unfinished one do not count. */
  lastRecvAt: number;
  /** When a heartbeat last refreshed the session's last-seen time. */
  lastTouchAt: number;
  /** When the first bytes of the packet now arriving came; undefined between packets. */
  packetStartAt: number | undefined;
  /** Commands of this link run and not yet answered. */
  inFlight = 0;
  /** Packets taken in the node's current round (`turnRound`). */
  turn = 0;
  turnRound = 0;
  /** The node has told the driver to stop reading this link. */
  paused = false;
  /**
   * A whole packet taken from the decoder but not run: the round's work budget
   * was spent. It runs first in the link's next turn (the link is paused
   * meanwhile; its body is at most maxPacketBody).
   */
  held: Packet | undefined;
  /** The link's name for the round's work budget (round-budget.ts), made once. */
  readonly budgetClient: string;
  /** While authing: the account its auth resolved to, counted against maxLinksPerAccount before the commit. */
  reservedUin = 0;

  constructor(
    readonly id: number,
    readonly transport: 'tcp' | 'ws',
    /** The peer's address, which the anti-abuse limits count by. */
    readonly remote: string,
    readonly openedAt: number,
    maxBody: number,
  ) {
    this.decoder = new PacketDecoder({ maxBody });
    this.budgetClient = `l${id}`;
    this.lastRecvAt = openedAt;
    this.lastTouchAt = openedAt;
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** May the node take another packet of this link in round `round`? */
  canTake(round: number, maxInFlight: number): boolean {
    if (this.turnRound !== round) {
      this.turnRound = round;
      this.turn = 0;
    }
    return this.inFlight < maxInFlight && this.turn < maxInFlight;
  }

  /** When this link must be closed for silence if nothing changes. */
  deadline(authTimeoutMs: number, idleMs: number): number {
    if (this.state === 'unauth' || this.state === 'authing') return Math.min(this.openedAt + authTimeoutMs, this.lastRecvAt + idleMs);
    return this.lastRecvAt + idleMs;
  }

  /** When the packet now arriving must be whole; Infinity between packets, or while the node holds the link paused (its own doing). */
  packetDeadline(packetTimeoutMs: number): number {
    return this.packetStartAt === undefined || this.paused ? Infinity : this.packetStartAt + packetTimeoutMs;
  }
}
