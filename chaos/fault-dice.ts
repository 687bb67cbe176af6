// What the proxy decides for each chunk of a stream and each HTTP exchange,
// drawn from seeded streams (sim/rng.ts). Each connection and each request
// of a device draws from a stream of its own, named for the device and its
// number (`u1.d0/tcp#3/up`): the seed fixes the sequence of decisions a
// device's n-th connection makes, while real timing decides which bytes
// meet which decision.
import { Rng } from '../sim/rng.ts';

/** Faults of one direction of a byte stream. Every duration is in ms. */
export interface StreamRates {
  /** Added to every chunk, uniform in [min, max]; chunks keep their order. */
  latencyMs: [number, number];
  tailProbability: number;
  tailMs: number;
  /** A chunk is cut into 2..maxPieces pieces, written a few ms apart. */
  splitProbability: number;
  maxPieces: number;
  /** A chunk is held a little, so that what follows it goes out in the same write. */
  mergeProbability: number;
  mergeHoldMs: [number, number];
  /** Half-open stalls per second of a connection's life: one direction stops, then resumes. */
  stallPerSecond: number;
  stallMeanMs: number;
}

/** Faults of HTTP exchanges (the inner proxy, which sees whole requests). */
export interface HttpRates {
  latencyMs: [number, number];
  tailProbability: number;
  tailMs: number;
  /** The request never reaches the server. */
  dropRequestProbability: number;
  /** The server answered; the answer never reaches the client. */
  dropResponseProbability: number;
  /** The server gets the request twice. */
  duplicateProbability: number;
  /** Of the losses, the share that leave the client waiting (until it gives up); the others reset its connection. */
  lossHangsProbability: number;
}

export const NO_STREAM_FAULTS: StreamRates = {
  latencyMs: [0, 0],
  tailProbability: 0,
  tailMs: 0,
  splitProbability: 0,
  maxPieces: 1,
  mergeProbability: 0,
  mergeHoldMs: [0, 0],
  stallPerSecond: 0,
  stallMeanMs: 0,
};

/** What the proxy of every device does: one plan's rates (chaos/fault-plan.ts). */
export interface ProxyRates {
  /** The long links: the TCP link, and the WebSocket link past its upgrade. */
  link: StreamRates;
  /** Connections of the HTTP front, before the HTTP layer: only splits and merges (the HTTP layer delays whole requests). */
  httpStream: StreamRates;
  http: HttpRates;
}

export const NO_PROXY_FAULTS: ProxyRates = {
  link: NO_STREAM_FAULTS,
  httpStream: NO_STREAM_FAULTS,
  http: { latencyMs: [0, 0], tailProbability: 0, tailMs: 0, dropRequestProbability: 0, dropResponseProbability: 0, duplicateProbability: 0, lossHangsProbability: 0 },
};

/** How one chunk goes on: the sizes of its pieces, and when each leaves (ms after it came). */
export interface ChunkFate {
  pieces: number[];
  delays: number[];
}

/** The gap between the pieces of a split chunk: enough for the receiver to read them apart. */
const PIECE_GAP_MS: [number, number] = [1, 6];

/**
 * One direction's dice. `calm()` says the run is healing: the tail, the
 * stalls and every loss stop (latency, splits and merges go on: they lose
 * nothing, and a healed network still cuts and joins writes).
 */
export class DirectionDice {
  constructor(
    private readonly rng: Rng,
    private readonly r: StreamRates,
    private readonly calm: () => boolean,
  ) {}

  chunk(length: number): ChunkFate {
    const r = this.r;
    let delay = this.rng.between(r.latencyMs[0], r.latencyMs[1]);
    if (!this.calm() && this.rng.chance(r.tailProbability)) delay += r.tailMs;
    if (this.rng.chance(r.mergeProbability)) delay += this.rng.between(r.mergeHoldMs[0], r.mergeHoldMs[1]);
    if (length < 2 || !this.rng.chance(r.splitProbability)) return { pieces: [length], delays: [delay] };
    const n = Math.min(length, this.rng.int(2, Math.max(2, r.maxPieces)));
    const cuts = new Set<number>();
    while (cuts.size < n - 1) cuts.add(this.rng.int(1, length - 1));
    const at = [0, ...[...cuts].sort((a, b) => a - b), length];
    const pieces: number[] = [];
    const delays: number[] = [];
    for (let i = 0; i + 1 < at.length; i++) {
      pieces.push(at[i + 1]! - at[i]!);
      delays.push(delay);
      delay += this.rng.between(PIECE_GAP_MS[0], PIECE_GAP_MS[1]);
    }
    return { pieces, delays };
  }

  /** Ms until this connection's next stall (Infinity: never). */
  nextStallInMs(): number {
    return this.r.stallPerSecond > 0 ? this.rng.exp(1000 / this.r.stallPerSecond) : Infinity;
  }

  stallMs(): number {
    return this.rng.exp(this.r.stallMeanMs);
  }

  /** Which direction a stall stops. */
  stallsUp(): boolean {
    return this.rng.chance(0.5);
  }
}

/** What becomes of one HTTP exchange. */
export interface RequestFate {
  requestDelayMs: number;
  responseDelayMs: number;
  /** Lost on the way in: 'hang' leaves the client waiting, 'reset' cuts its connection. */
  dropRequest?: 'hang' | 'reset';
  /** The server's answer is lost on the way out. */
  dropResponse?: 'hang' | 'reset';
  /** A second copy reaches the server this many ms after the first; its answer is thrown away. */
  duplicateAfterMs?: number;
}

export class RequestDice {
  constructor(
    private readonly rng: Rng,
    private readonly r: HttpRates,
    private readonly calm: () => boolean,
  ) {}

  draw(): RequestFate {
    const r = this.r;
    const calm = this.calm();
    const oneWay = (): number => this.rng.between(r.latencyMs[0], r.latencyMs[1]) + (!calm && this.rng.chance(r.tailProbability) ? r.tailMs : 0);
    const fate: RequestFate = { requestDelayMs: oneWay(), responseDelayMs: oneWay() };
    // Every draw is made whether or not it applies: a calm run draws the same sequence.
    const dropReq = this.rng.chance(r.dropRequestProbability);
    const dropRes = this.rng.chance(r.dropResponseProbability);
    const dup = this.rng.chance(r.duplicateProbability);
    const dropHow = this.rng.chance(r.lossHangsProbability) ? 'hang' : 'reset';
    const dupAfter = this.rng.between(0, Math.max(r.latencyMs[1], r.tailMs));
    if (calm) return fate;
    if (dropReq) fate.dropRequest = dropHow;
    else if (dropRes) fate.dropResponse = dropHow;
    if (dup && !dropReq) fate.duplicateAfterMs = dupAfter;
    return fate;
  }
}

/**
 * Every stream of one device: the n-th connection of a kind gets its own
 * named stream, so one connection's draws never shift another's.
 */
export class DeviceDice {
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly seed: string,
    readonly device: string,
    private readonly calm: () => boolean,
  ) {}

  /** A fresh name for the next connection (or request) of this kind: `tcp#0`, `tcp#1`, ... */
  next(kind: string): string {
    const n = this.counts.get(kind) ?? 0;
    this.counts.set(kind, n + 1);
    return `${kind}#${n}`;
  }

  direction(conn: string, dir: 'up' | 'down', rates: StreamRates): DirectionDice {
    return new DirectionDice(this.rng(`${conn}/${dir}`), rates, this.calm);
  }

  /** The stalls of one connection, drawn apart from its chunks. */
  stalls(conn: string, rates: StreamRates): DirectionDice {
    return new DirectionDice(this.rng(`${conn}/stalls`), rates, this.calm);
  }

  request(rates: HttpRates): RequestDice {
    return new RequestDice(this.rng(this.next('http')), rates, this.calm);
  }

  private rng(name: string): Rng {
    return new Rng(`proxy:${this.device}/${name}`, this.seed);
  }
}
