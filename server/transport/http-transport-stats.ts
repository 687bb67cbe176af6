// What the HTTP transport counts: requests and how they ended, refusals by
// kind, and the memory held for bodies being read (buffer sizes, not payload).

export interface HttpTransportStats {
  requests: number;
  /** Clients that went away before their answer. */
  aborted: number;
  tooLarge: number;
  /** Bodies trickled in too many pieces for their size (answered 400, the connection cut at once). */
  fragmented: number;
  /** Fragmented bodies whose rest node:http's parser was told to skip, in C++ (body-piece-guard.ts). */
  bodiesCut: number;
  /** Pieces of chunked bodies that reached JavaScript: a cut body stops adding to it. */
  guardedBodyPieces: number;
  /** Unparseable HTTP (answered 400/431 by the transport). */
  clientErrors: number;
  /** The node threw: answered 500, never with a stack trace. */
  internalErrors: number;
  /** Bodies that did not arrive within bodyTimeoutMs (answered 408). */
  bodyTimeouts: number;
  /** Connections over a cap, answered 503. */
  shed: number;
  /** Memory held for bodies being read, in bytes (buffer sizes, not payload bytes). */
  bufferedBytes: number;
  /** The most bufferedBytes has been. */
  peakBufferedBytes: number;
  /** Connections admitted and still open (WebSocket upgrades included). */
  openConnections: number;
}

export function newHttpTransportStats(): HttpTransportStats {
  return {
    requests: 0,
    aborted: 0,
    tooLarge: 0,
    fragmented: 0,
    bodiesCut: 0,
    guardedBodyPieces: 0,
    clientErrors: 0,
    internalErrors: 0,
    bodyTimeouts: 0,
    shed: 0,
    bufferedBytes: 0,
    peakBufferedBytes: 0,
    openConnections: 0,
  };
}
