// What a picture of a run is drawn from: every message with the time it was
// sent and the time it arrived (or was dropped or lost), and the notes worth
// marking (faults, crashes, SyncKeys). The world keeps no send times, so the
// recorder wraps, on this one world only, the calls through which messages
// enter and leave the network and lines enter the trace. Each wrapper calls
// the original with the same arguments first and only reads afterwards: it
// draws from no random stream and schedules nothing, so the run and its trace
// hash stay exactly what they are without it. Only runs asked for a picture
// (--html) are watched.
import { describeEnvelope, type Envelope } from '../envelope.ts';
import { SIM_EPOCH_MS } from '../event-queue.ts';
import type { World } from '../world.ts';

/** Which lane a message starts on: up is device → server, down is server → device. */
export type MessageDir = 'up' | 'down';

/** What became of a message: arrived, dropped when sent, lost on arrival (partition, cut stream), or still in flight at the end. */
export type MessageFate = 'arrived' | 'dropped' | 'lost' | 'in-flight';

export interface RecordedMessage {
  kind: Envelope['kind'];
  device: string;
  dir: MessageDir;
  /** Simulated ms since the run began. */
  sentMs: number;
  /** The trace line of the event that sent it (0: while the world was set up). */
  sentEvent: number;
  /** When it is due (dropped: when it was sent). */
  atMs: number;
  fate: MessageFate;
  /** The number of the trace line of its arrival, once it arrived or was lost. */
  event?: number;
  text: string;
}

/** A note drawn on a lane: a fault, a crash, an app's life, a SyncKey. */
export interface RecordedMark {
  event: number;
  tMs: number;
  kind: string;
  who: string;
  detail?: string;
}

const DIR: Record<Envelope['kind'], MessageDir> = {
  'http-req': 'up',
  connect: 'up',
  'link-up': 'up',
  'close-server': 'up',
  'cut-server': 'up',
  'http-resp': 'down',
  'http-refused': 'down',
  'http-reset': 'down',
  'link-down': 'down',
  'close-client': 'down',
  'cut-client': 'down',
};

/** Trace notes a person wants to see on a lane; the rest (timers, commits, applied) would drown them. */
export const MARKED_KINDS: ReadonlySet<string> = new Set([
  'synckey',
  'server-crash',
  'server-restart',
  'app-kill',
  'app-start',
  'partition',
  'heal',
  'offline',
  'online',
  'link-reset',
  'heal-all',
  'session-replace',
  'ghost-login',
  'resync',
  'session-lost',
  'send-failed',
  'fault-skip',
]);

export class PictureRecorder {
  readonly messages: RecordedMessage[] = [];
  readonly marks: RecordedMark[] = [];
  /** Lanes in the order the world placed the devices (read at the end: devices are placed as the run sets up). */
  devices: string[] = [];
  /** Envelopes in flight → their messages (a duplicated datagram is one object posted twice). */
  private readonly pending = new Map<Envelope, number[]>();
  private world: World | undefined;

  /** Start watching a world that has not run yet (RunOptions.watch). */
  attach(world: World): void {
    this.world = world;
    const q = world.q;
    const net = world.net;
    const trace = world.trace;

    const post = q.post.bind(q);
    q.post = (at: number, e: Envelope): void => {
      post(at, e);
      this.sent(e, q.now - SIM_EPOCH_MS, at - SIM_EPOCH_MS, world.events, 'in-flight');
    };

    const datagram = net.datagram.bind(net);
    net.datagram = (e): void => {
      const dropped = net.stats.dropped;
      datagram(e);
      if (net.stats.dropped > dropped) this.sent(e, q.now - SIM_EPOCH_MS, q.now - SIM_EPOCH_MS, world.events, 'dropped');
    };

    const arrives = net.arrives.bind(net);
    net.arrives = (e: Envelope): boolean => {
      const through = arrives(e);
      this.arrived(e, q.now - SIM_EPOCH_MS, world.events, through);
      return through;
    };

    const event = trace.event.bind(trace);
    trace.event = (n: number, tExact: number, kind: string, who: string, detail?: string): void => {
      event(n, tExact, kind, who, detail);
      if (!MARKED_KINDS.has(kind)) return;
      const m: RecordedMark = { event: n, tMs: tExact, kind, who };
      if (detail !== undefined) m.detail = detail;
      this.marks.push(m);
    };
  }

  /** The run is over: note its devices. */
  finish(): void {
    if (this.world) this.devices = this.world.devices.map((d) => d.name);
  }

  private sent(e: Envelope, sentMs: number, atMs: number, sentEvent: number, fate: MessageFate): void {
    const i = this.messages.length;
    this.messages.push({ kind: e.kind, device: e.device, dir: DIR[e.kind], sentMs, sentEvent, atMs, fate, text: describeEnvelope(e) });
    if (fate !== 'in-flight') return;
    const list = this.pending.get(e);
    if (list) list.push(i);
    else this.pending.set(e, [i]);
  }

  /** The copy of the envelope due now arrived (or was lost): the first of its posts due at this time. */
  private arrived(e: Envelope, nowMs: number, event: number, through: boolean): void {
    const list = this.pending.get(e);
    if (!list) return;
    const k = list.findIndex((i) => this.messages[i]!.atMs === nowMs);
    if (k < 0) return;
    const m = this.messages[list[k]!]!;
    m.fate = through ? 'arrived' : 'lost';
    m.event = event;
    list.splice(k, 1);
    if (list.length === 0) this.pending.delete(e);
  }
}
