// What the core hands its driver: actions to carry out (HTTP requests, link
// opens, writes and closes) and events to report. Both leave through one queue,
// always after the input that produced them has finished its state change, so
// a callback may call straight back into the core.
import type { ContactItem, MessageItem } from '../../server/core/model.ts';

export type ClientAction =
  | { kind: 'http'; req: number; method: 'GET' | 'POST'; url: string /* path + query */; body: string }
  | { kind: 'linkOpen'; link: number }
  | { kind: 'linkWrite'; link: number; bytes: Uint8Array }
  | { kind: 'linkClose'; link: number };

export type ClientEvent =
  | { kind: 'loggedIn'; uin: number; sid: string }
  /** A message entered the inbox (exactly once per MsgId). */
  | { kind: 'applied'; msg: MessageItem }
  | { kind: 'contact'; contact: ContactItem }
  /** The persisted key changed (sorted by key). */
  | { kind: 'syncKey'; key: Array<[number, number]> }
  | { kind: 'sendAcked'; localId: string; clientMsgId: string; msgId: number; attempts: number }
  /** `ret` is the server's Ret, or NO_ANSWER (-1) when the last attempt got no answer. */
  | { kind: 'sendFailed'; localId: string; clientMsgId: string; ret: number; errMsg: string }
  | { kind: 'groupCreated'; chatRoomName: string; members: string[] }
  /**
   * Got Ret 1200: re-initialising from the server's floor; what was pruned in
   * between will not come. Also emitted when a first login finds the log
   * already pruned past this device's empty position (which gets no 1200).
   */
  | { kind: 'resync' }
  /** A QR login needs this uuid scanned: show the code of `<server>/l/<uuid>` (a new one replaces the last). */
  | { kind: 'qrCode'; uuid: string }
  /** A phone scanned the code; the login waits for its confirm. */
  | { kind: 'qrScanned' }
  /** As the phone: what became of confirmWebLogin (ret NO_ANSWER: the last request got no answer). */
  | { kind: 'webLogin'; loginUrl: string; confirmed: boolean; ret: number; errMsg: string }
  /** 1101 (replaced or logged out), or 1103 (wrong password): the core stops. */
  | { kind: 'sessionLost'; ret: number };

/** The Ret of a sendFailed whose last attempt got no answer (network failure or timeout). */
export const NO_ANSWER = -1;

type Output = { a: ClientAction } | { e: ClientEvent };

/** Where the output goes: the driver's callbacks (called as methods of this object). */
export interface OutputSink {
  out: (a: ClientAction) => void;
  emit: (e: ClientEvent) => void;
}

/** Actions and events of one input, released in order at the end of the outermost call. */
export class OutputQueue {
  readonly #sink: OutputSink;
  #queue: Output[] = [];
  #depth = 0;
  #draining = false;

  constructor(sink: OutputSink) {
    this.#sink = sink;
  }

  action(a: ClientAction): void {
    this.#queue.push({ a });
  }

  event(e: ClientEvent): void {
    this.#queue.push({ e });
  }

  /** Runs one input; what it produced leaves after it, in order. */
  run(f: () => void): void {
    this.#depth++;
    try {
      f();
    } finally {
      this.#depth--;
    }
    if (this.#depth > 0 || this.#draining) return;
    this.#draining = true;
    try {
      for (let i = 0; i < this.#queue.length; i++) {
        const item = this.#queue[i]!;
        if ('a' in item) this.#sink.out(item.a);
        else this.#sink.emit(item.e);
      }
    } finally {
      this.#queue = [];
      this.#draining = false;
    }
  }
}
