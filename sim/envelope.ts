// What travels on the simulated network: plain data, addressed to one end,
// so every message in flight can be listed, printed and traced. The kind is
// also the event's label in the trace; `device` is the client end (the star's
// leaf), whichever way the message goes. Instances and links are named by
// their numbers: the router looks them up when the envelope arrives.

/** The half of an HTTP exchange a device sends; `req` is the client's request number. */
export interface HttpRequestEnvelope {
  kind: 'http-req';
  device: string;
  instance: number;
  req: number;
  method: 'GET' | 'POST';
  url: string;
  body: string;
}

export interface HttpResponseEnvelope {
  kind: 'http-resp';
  device: string;
  instance: number;
  req: number;
  status: number;
  body: string;
}

/** A request that found no server (refused) or lost it to a crash (reset): the client hears it after a latency. */
export interface HttpFailureEnvelope {
  kind: 'http-refused' | 'http-reset';
  device: string;
  instance: number;
  req: number;
}

/** A long link's handshake: the stream exists once it completes. */
export interface ConnectEnvelope {
  kind: 'connect';
  device: string;
  instance: number;
  link: number;
}

/** Bytes from a device to the server on a stream (one chunk of a write, once the network split it). */
export interface LinkUpEnvelope {
  kind: 'link-up';
  device: string;
  stream: number;
  serverLink: number;
  bytes: Uint8Array;
}

export interface LinkDownEnvelope {
  kind: 'link-down';
  device: string;
  stream: number;
  instance: number;
  link: number;
  bytes: Uint8Array;
}

/** The client closed the stream after what it wrote: the server hears it. */
export interface CloseServerEnvelope {
  kind: 'close-server';
  device: string;
  stream: number;
  serverLink: number;
}

/** The server closed the stream after what it wrote: the client hears it. */
export interface CloseClientEnvelope {
  kind: 'close-client';
  device: string;
  stream: number;
  instance: number;
  link: number;
}

/** The stream broke: the client end hears it. */
export interface CutClientEnvelope {
  kind: 'cut-client';
  device: string;
  instance: number;
  link: number;
}

/**
 * The stream broke: the server end hears it. onlyIfLinked: unless the link
 * was closed in the meantime; otherwise the server is told even so (the
 * world dropped the link at once, when it cut it).
 */
export interface CutServerEnvelope {
  kind: 'cut-server';
  device: string;
  serverLink: number;
  onlyIfLinked: boolean;
}

export type StreamEnvelope = LinkUpEnvelope | LinkDownEnvelope | CloseServerEnvelope | CloseClientEnvelope;

export type Envelope =
  | HttpRequestEnvelope
  | HttpResponseEnvelope
  | HttpFailureEnvelope
  | ConnectEnvelope
  | StreamEnvelope
  | CutClientEnvelope
  | CutServerEnvelope;

/**
 * The ordered channel an envelope travels on, if any: one stream one way
 * (its bytes, then its close). Envelopes of a channel arrive in the order
 * sent, even when due at the same instant; everything else may pass.
 */
export function channelOf(e: Envelope): number | undefined {
  switch (e.kind) {
    case 'link-up':
    case 'close-server':
      return e.stream * 2;
    case 'link-down':
    case 'close-client':
      return e.stream * 2 + 1;
    default:
      return undefined;
  }
}

/** One line for a person: what it is, between which ends, and how big. */
export function describeEnvelope(e: Envelope): string {
  const client = (instance: number, link?: number): string => `${e.device}#${instance}${link === undefined ? '' : ` link ${link}`}`;
  switch (e.kind) {
    case 'http-req':
      return `${e.kind} ${client(e.instance)} → server: req ${e.req} ${e.method} ${e.url} (${e.body.length} chars)`;
    case 'http-resp':
      return `${e.kind} server → ${client(e.instance)}: req ${e.req} status ${e.status} (${e.body.length} chars)`;
    case 'http-refused':
    case 'http-reset':
      return `${e.kind} → ${client(e.instance)}: req ${e.req}`;
    case 'connect':
      return `${e.kind} ${client(e.instance, e.link)} → server`;
    case 'link-up':
      return `${e.kind} stream ${e.stream} ${e.device} → server link ${e.serverLink}: ${e.bytes.length} bytes`;
    case 'link-down':
      return `${e.kind} stream ${e.stream} server → ${client(e.instance, e.link)}: ${e.bytes.length} bytes`;
    case 'close-server':
      return `${e.kind} stream ${e.stream} ${e.device} → server link ${e.serverLink}`;
    case 'close-client':
      return `${e.kind} stream ${e.stream} server → ${client(e.instance, e.link)}`;
    case 'cut-client':
      return `${e.kind} → ${client(e.instance, e.link)}`;
    case 'cut-server':
      return `${e.kind} ${e.device} → server link ${e.serverLink}${e.onlyIfLinked ? ' (if still linked)' : ''}`;
  }
}
