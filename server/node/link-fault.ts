// Why a long link is refused or cut for abuse or overload, as op 6 says it:
// a stable code that starts the ErrMsg (like the framing codes of
// server/wire/wire-error.ts), a Ret, and a plain-English reason. The node
// detects some of these itself; the transports report the others through
// ServerNode.linkFault, so every such close says why on the wire.
import { Ret } from '../core/ret.ts';

export type LinkFaultCode =
  /** The server holds as many connections as it accepts in all (transport). */
  | 'CONN_SERVER_FULL'
  /** The peer's address holds as many connections as one address may (transport). */
  | 'CONN_ADDRESS_LIMIT'
  | 'CONN_RATE_LIMIT'
  /** As many links as the node accepts are waiting to authenticate (node). */
  | 'LINK_UNAUTH_LIMIT'
  /** A packet (or WebSocket message) began and was not whole within packetTimeoutMs. */
  | 'LINK_PACKET_TIMEOUT'
  /** The peer does not read: what is queued for it passed the write limit (transport). */
  | 'LINK_WRITE_QUEUE_FULL'
  /** The peer kept sending while the node was not reading the link (node). */
  | 'LINK_INPUT_OVERFLOW'
  /** A WebSocket message over 16 + maxPacketBody bytes (transport). */
  | 'LINK_MESSAGE_TOO_LARGE';

interface FaultText {
  ret: number;
  text: string;
}

const FAULTS: Readonly<Record<LinkFaultCode, FaultText>> = {
  CONN_SERVER_FULL: { ret: Ret.Busy, text: 'the server has too many connections; retry later' },
  CONN_ADDRESS_LIMIT: { ret: Ret.Busy, text: 'too many connections from this address; retry later' },
  CONN_RATE_LIMIT: { ret: Ret.Busy, text: 'too many new connections from this address; retry later' },
  LINK_UNAUTH_LIMIT: { ret: Ret.Busy, text: 'too many links waiting to authenticate; retry later' },
  LINK_PACKET_TIMEOUT: { ret: Ret.BadRequest, text: 'a packet began and did not arrive whole in time' },
  LINK_WRITE_QUEUE_FULL: { ret: Ret.Busy, text: 'the link does not read what the server sends' },
  LINK_INPUT_OVERFLOW: { ret: Ret.BadRequest, text: 'the link sent more than the server holds unread' },
  LINK_MESSAGE_TOO_LARGE: { ret: Ret.BadRequest, text: 'a WebSocket message is larger than 16 + the maximum packet body' },
};

/** Every fault code, for tables kept by code (server/node/answer-counts.ts). */
export const LINK_FAULT_CODES: readonly LinkFaultCode[] = Object.keys(FAULTS) as LinkFaultCode[];

/** The body of the op 6 for a fault: `{Ret, ErrMsg}`, ErrMsg starting with the code. */
export function faultDisconnect(code: LinkFaultCode, detail?: string): { Ret: number; ErrMsg: string } {
  const f = FAULTS[code];
  return { Ret: f.ret, ErrMsg: `${code}: ${f.text}${detail ? ` (${detail})` : ''}` };
}
