// What the metrics need from an answer on its way out: its command and Ret
// code, read from the first bytes only. Every JSON answer the core writes
// starts with its BaseResponse (and op 6 with its Ret), so a short prefix
// holds them; nothing of a body beyond that prefix is ever looked at, and
// nothing read here is a secret (Sid, Skey and SyncKey come after the Ret).
import { HEADER_LEN, Op } from '../wire/packet.ts';
import { Ret } from '../core/ret.ts';

/** Bytes of a body searched for the Ret: `{"BaseResponse":{"Ret":1111,` fits with room to spare. */
const SNIFF_CHARS = 64;

const RET_IN_JSON = /"Ret":(-?\d{1,6})/;
const RETCODE_IN_SYNCCHECK = /retcode:"(\d{1,6})"/;
/** A fault or framing code starting an op 6 ErrMsg (server/node/link-fault.ts, server/wire/wire-error.ts). */
const CODE_IN_ERRMSG = /"ErrMsg":"((?:CONN|LINK|WIRE|SYNCKEY)_[A-Z_]{1,40}):/;

const KNOWN_RETS: ReadonlySet<number> = new Set(Object.values(Ret));

/** A Ret as a metric label: the known codes by number, anything else as one bucket (labels stay bounded). */
export function retLabel(ret: number | undefined): string {
  if (ret === undefined) return 'none';
  return KNOWN_RETS.has(ret) ? String(ret) : 'other';
}

/** The Ret (or synccheck retcode) an HTTP answer body carries, if any. */
export function retOfHttpBody(body: string): number | undefined {
  const head = body.slice(0, SNIFF_CHARS);
  const m = RET_IN_JSON.exec(head) ?? RETCODE_IN_SYNCCHECK.exec(head);
  return m ? Number(m[1]) : undefined;
}

/** Long-link commands, by the op of their reply. */
export const LINK_COMMAND_OF_REPLY: ReadonlyMap<number, string> = new Map([
  [Op.AuthReply, 'auth'],
  [Op.SendReply, 'send'],
  [Op.SyncReply, 'sync'],
  [Op.HeartbeatReply, 'heartbeat'],
]);

export interface PacketSummary {
  op: number;
  ret: number | undefined;
  /** For op 6: the fault or framing code its ErrMsg starts with. */
  code: string | undefined;
}

/** The op, Ret and op-6 code of one packet the node writes (one write is one packet). */
export function summarizePacket(bytes: Uint8Array): PacketSummary | undefined {
  if (bytes.length < HEADER_LEN) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const op = view.getUint32(8);
  if (op === Op.HeartbeatReply || op === Op.Notify) return { op, ret: undefined, code: undefined };
  const head = Buffer.from(bytes.buffer, bytes.byteOffset + HEADER_LEN, Math.min(bytes.length - HEADER_LEN, SNIFF_CHARS * 2)).toString('latin1');
  const ret = RET_IN_JSON.exec(head);
  const code = op === Op.Disconnect ? CODE_IN_ERRMSG.exec(head)?.[1] : undefined;
  return { op, ret: ret ? Number(ret[1]) : undefined, code };
}

/** The Uin of a successful auth reply (op 8): it is parsed whole, once per link; only the number is kept. */
export function uinOfAuthReply(bytes: Uint8Array): number | undefined {
  try {
    const body = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + HEADER_LEN, bytes.length - HEADER_LEN).toString('utf8')) as { Uin?: unknown };
    return typeof body.Uin === 'number' ? body.Uin : undefined;
  } catch {
    return undefined;
  }
}

/** The BaseRequest.Uin of an HTTP request body (read only when its answer was a throttle, which is rare). */
export function uinOfHttpRequest(body: string | undefined): number | undefined {
  if (!body) return undefined;
  try {
    const json = JSON.parse(body) as { BaseRequest?: { Uin?: unknown } };
    const uin = json.BaseRequest?.Uin;
    return typeof uin === 'number' ? uin : undefined;
  } catch {
    return undefined;
  }
}

/** Answers that mean the server held a client back, by name (a Busy synccheck too: the poll table is full). */
export const THROTTLE_REASONS: ReadonlyMap<number, string> = new Map([
  [Ret.Busy, 'busy'],
  [Ret.MailboxFull, 'mailbox_full'],
  [Ret.RateLimited, 'rate_limited'],
  [Ret.TooManyAttempts, 'too_many_attempts'],
]);
