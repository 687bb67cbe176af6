// The server a phase drives: where it listens, and how to sample it.
import type { ProcSample } from './memory.ts';
import type { EncodedStalls } from '../server/observability/stall-monitor.ts';

export interface Target {
  /** HTTP base URL (the WebSocket long link is at /longlink on it). */
  server: string;
  /** TCP long link, host:port. */
  tcp: string;
  /** Samples the server process (memory, CPU, and its own counters when it reports them). */
  sample?: () => Promise<ServerSample | undefined>;
}

export interface ServerSample extends ProcSample {
  openLinks?: number;
  commits?: number;
  /** The server's event-loop delay and commit latency since the previous sample. */
  stalls?: EncodedStalls;
}
