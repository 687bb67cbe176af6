// What the metrics read from the running server at scrape time: the counters
// the node and the transports keep anyway (ServerStats of
// server/transport/server-app.ts has this shape). Reading them per scrape
// costs the hot path nothing.
import type { AnswerTally } from '../node/answer-counts.ts';

export interface ScrapedStats {
  node: {
    polls: number;
    commands: number;
    commits: number;
    failures: number;
    writes: number;
    pausedLinks: number;
    linkBufferedBytes: number;
    linkFaults: number;
    /** The node's answers by transport, command and Ret, its op 6 by code, its notifications. */
    answers: AnswerTally;
  };
  http: {
    requests: number;
    aborted: number;
    internalErrors: number;
    bufferedBytes: number;
    peakBufferedBytes: number;
    bodiesCut: number;
    /** Sockets admitted and still open, WebSocket upgrades included. */
    openConnections: number;
  };
  tcp: { socketErrors: number; paused: number };
  ws: { socketErrors: number; paused: number; bufferedBytes: number };
  /** The shared connection caps: admitted and open, and shed. */
  connections: { open: number; shed: number };
  flushes: number;
}

export type TransportLabel = 'http' | 'tcp' | 'ws';
export type LinkTransport = 'tcp' | 'ws';
