// One long link (TCP or WebSocket) as the node sees it: framing state, who
// it is once authenticated, and the deadlines that close it.
import { PacketDecoder } from '../wire/packet-decoder.ts';

export type LinkState = 'unauth' | 'authing' | 'open' | 'closed';

export class LongLink {
  state: LinkState = 'unauth';
  readonly decoder: PacketDecoder;
  uin = 0;
  sid = '';
  deviceId = '';
  lastRecvAt: number;
  /** When a heartbeat last refreshed the session's last-seen time. */
  lastTouchAt: number;

  constructor(
    readonly id: number,
    readonly transport: 'tcp' | 'ws',
    readonly openedAt: number,
    maxBody: number,
  ) {
    this.decoder = new PacketDecoder({ maxBody });
    this.lastRecvAt = openedAt;
    this.lastTouchAt = openedAt;
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** When this link must be closed if nothing changes. */
  deadline(authTimeoutMs: number, idleMs: number): number {
    if (this.state === 'unauth' || this.state === 'authing') return Math.min(this.openedAt + authTimeoutMs, this.lastRecvAt + idleMs);
    return this.lastRecvAt + idleMs;
  }
}
