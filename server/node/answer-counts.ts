// What the node answered, counted where each answer is made: by transport,
// command and Ret, plus every op 6 by its code, plus op 122 notifications.
// The node knows the command and the Ret of each reply it builds, so nothing
// encoded is ever read back. The tables are fixed in size (commands from a
// fixed list, Ret codes from server/core/ret.ts with an 'other' bucket,
// disconnect codes from link-fault.ts and wire-error.ts) and are plain
// numbers: the metrics read a copy at scrape time, the hot path only adds one.
//
// The rare events an operator wants logged (a throttled account, a cut link,
// a link that authenticated, and every answer when tracing) go to an
// optional AnswerWatch; without one they cost a property check.
import { Ret } from '../core/ret.ts';
import type { WireErrorCode } from '../wire/wire-error.ts';
import { ROUTES, type Endpoint } from './http-api.ts';
import { LINK_FAULT_CODES, type LinkFaultCode } from './link-fault.ts';

export type AnswerTransport = 'http' | 'tcp' | 'ws';
export type LinkCommand = 'auth' | 'send' | 'sync' | 'heartbeat';
export type CountedCommand = Endpoint | LinkCommand;
/** The code an op 6's ErrMsg starts with, when it has one. */
export type DisconnectCode = LinkFaultCode | WireErrorCode;

export const ANSWER_TRANSPORTS: readonly AnswerTransport[] = ['http', 'tcp', 'ws'];
export const LINK_TRANSPORTS: readonly ('tcp' | 'ws')[] = ['tcp', 'ws'];
export const COUNTED_COMMANDS: readonly CountedCommand[] = [...new Set([...ROUTES.values()].map((r) => r.endpoint)), 'auth', 'send', 'sync', 'heartbeat'];

// A Record, so that a code added to WireErrorCode fails to compile until it is listed here.
const WIRE_CODES: Readonly<Record<WireErrorCode, true>> = {
  WIRE_PACKLEN_TOO_SMALL: true,
  WIRE_PACKLEN_TOO_LARGE: true,
  WIRE_BAD_HEADER_LEN: true,
  WIRE_BAD_VERSION: true,
  WIRE_DECODER_FAILED: true,
  SYNCKEY_MALFORMED: true,
  SYNCKEY_TOO_MANY_KEYS: true,
  SYNCKEY_BAD_VALUE: true,
  SYNCKEY_DUPLICATE_KEY: true,
  SYNCKEY_COUNT_MISMATCH: true,
};
export const DISCONNECT_CODES: readonly DisconnectCode[] = [...LINK_FAULT_CODES, ...(Object.keys(WIRE_CODES) as WireErrorCode[])];

/** The Ret codes counted one by one; any other is counted as 'other'. */
export const KNOWN_RETS: readonly number[] = [...new Set<number>(Object.values(Ret))].sort((a, b) => a - b);

/** Answers that hold a client back, by the name the metrics and logs give them. */
export const THROTTLE_REASONS: ReadonlyMap<number, string> = new Map([
  [Ret.Busy, 'busy'],
  [Ret.MailboxFull, 'mailbox_full'],
  [Ret.RateLimited, 'rate_limited'],
  [Ret.TooManyAttempts, 'too_many_attempts'],
]);

/** A Ret column: a known code's, then 'other', then 'none' (an answer with no Ret: a heartbeat's). */
export type RetColumn = number | 'other' | 'none';
const RET_COLUMNS: readonly RetColumn[] = [...KNOWN_RETS, 'other', 'none'];
const OTHER = KNOWN_RETS.length;
const NONE = OTHER + 1;

function indexOf<T>(list: readonly T[]): ReadonlyMap<T, number> {
  return new Map(list.map((v, i) => [v, i]));
}
const TRANSPORT_INDEX = indexOf(ANSWER_TRANSPORTS);
const COMMAND_INDEX = indexOf(COUNTED_COMMANDS);
const RET_INDEX = indexOf(KNOWN_RETS);
const CODE_INDEX = indexOf(DISCONNECT_CODES);

function retIndex(ret: number | undefined): number {
  return ret === undefined ? NONE : (RET_INDEX.get(ret) ?? OTHER);
}

/** One answer, as the watch is told of it. */
export interface Answered {
  transport: AnswerTransport;
  command: CountedCommand;
  /** undefined for a heartbeat's reply, which has no body. */
  ret: number | undefined;
  /** The account, when known: a link's once authenticated; for HTTP the request's BaseRequest.Uin (not checked). */
  uin: number | undefined;
  /** The peer's address, for HTTP answers. */
  remote: string | undefined;
}

/** One op 6 sent. */
export interface Disconnected {
  link: number;
  transport: 'tcp' | 'ws';
  ret: number;
  code: DisconnectCode | undefined;
  uin: number | undefined;
}

/** Optional listeners for the events worth a log line; none is called on the hot path unless set. */
export interface AnswerWatch {
  /** Every answer: set it only to trace them. */
  answered?(a: Answered): void;
  /** An answer whose Ret is one of THROTTLE_REASONS. */
  throttled?(a: Answered): void;
  /** An op 6 was sent (the link closes after it). */
  disconnected?(d: Disconnected): void;
  /** A link's auth succeeded: it is now the account's. */
  authenticated?(link: number, uin: number): void;
}

/** A copy of the counts, read at scrape time. */
export interface AnswerTally {
  /** Answers of `command` on `transport` whose Ret falls in `ret`, for every nonzero cell. */
  forEachAnswer(f: (transport: AnswerTransport, command: CountedCommand, ret: RetColumn, count: number) => void): void;
  /** Op 6 sent on `transport`, by the code its ErrMsg starts with or, without one, by its Ret, for every nonzero cell. */
  forEachDisconnect(f: (transport: 'tcp' | 'ws', code: DisconnectCode | undefined, ret: RetColumn | undefined, count: number) => void): void;
  notifications(transport: 'tcp' | 'ws'): number;
}

const ANSWER_CELLS = ANSWER_TRANSPORTS.length * COUNTED_COMMANDS.length * RET_COLUMNS.length;
/** Per link transport: a column per code, then one per Ret column for op 6 without a code. */
const DISCONNECT_ROW = DISCONNECT_CODES.length + RET_COLUMNS.length;

export class AnswerCounts {
  // Float64: counts stay exact to 2^53, which no server reaches.
  private readonly answers = new Float64Array(ANSWER_CELLS);
  private readonly disconnects = new Float64Array(LINK_TRANSPORTS.length * DISCONNECT_ROW);
  private readonly notified = new Float64Array(LINK_TRANSPORTS.length);

  constructor(readonly watch: AnswerWatch = {}) {}

  /** An answer leaves: counted, and told to the watch if it traces or the Ret throttles. */
  answered(transport: AnswerTransport, command: CountedCommand, ret: number | undefined, uin: number | undefined, remote: string | undefined): void {
    const cell = (TRANSPORT_INDEX.get(transport)! * COUNTED_COMMANDS.length + COMMAND_INDEX.get(command)!) * RET_COLUMNS.length + retIndex(ret);
    this.answers[cell]!++;
    const w = this.watch;
    if (!w.answered && !w.throttled) return;
    const a: Answered = { transport, command, ret, uin: uin || undefined, remote };
    w.answered?.(a);
    if (ret !== undefined && THROTTLE_REASONS.has(ret)) w.throttled?.(a);
  }

  disconnected(link: number, transport: 'tcp' | 'ws', ret: number, code: DisconnectCode | undefined, uin: number): void {
    const col = code !== undefined ? CODE_INDEX.get(code)! : DISCONNECT_CODES.length + retIndex(ret);
    this.disconnects[LINK_TRANSPORTS.indexOf(transport) * DISCONNECT_ROW + col]!++;
    this.watch.disconnected?.({ link, transport, ret, code, uin: uin || undefined });
  }

  notification(transport: 'tcp' | 'ws'): void {
    this.notified[transport === 'tcp' ? 0 : 1]!++;
  }

  authenticated(link: number, uin: number): void {
    this.watch.authenticated?.(link, uin);
  }

  /** A copy: the counts as they are now, unchanged by what follows. */
  tally(): AnswerTally {
    const answers = this.answers.slice();
    const disconnects = this.disconnects.slice();
    const notified = this.notified.slice();
    return {
      forEachAnswer(f) {
        answers.forEach((n, i) => {
          if (n === 0) return;
          const r = i % RET_COLUMNS.length;
          const rest = (i - r) / RET_COLUMNS.length;
          const c = rest % COUNTED_COMMANDS.length;
          const t = (rest - c) / COUNTED_COMMANDS.length;
          f(ANSWER_TRANSPORTS[t]!, COUNTED_COMMANDS[c]!, RET_COLUMNS[r]!, n);
        });
      },
      forEachDisconnect(f) {
        disconnects.forEach((n, i) => {
          if (n === 0) return;
          const col = i % DISCONNECT_ROW;
          const t = LINK_TRANSPORTS[(i - col) / DISCONNECT_ROW]!;
          if (col < DISCONNECT_CODES.length) f(t, DISCONNECT_CODES[col], undefined, n);
          else f(t, undefined, RET_COLUMNS[col - DISCONNECT_CODES.length]!, n);
        });
      },
      notifications: (transport) => notified[transport === 'tcp' ? 0 : 1]!,
    };
  }
}
