// What the load driver needs of a peer system (Redis Streams, NATS
// JetStream) to run the server's workload on it: one link per device, an
// idempotent durable append of a message to the logs of the accounts it is
// meant for, answered with a message id once it is durable, and per device a
// consumer that hands over each message of its account's log and
// acknowledges it.
import type { ServerSample } from '../target.ts';

export type PeerKind = 'redis-streams' | 'nats-jetstream';

/** One message as a device sends it. */
export interface PeerMessage {
  /** The sending account's name. */
  from: string;
  /** The recipient account's or group's name. */
  to: string;
  /** Unique per sending account: a retry carries the same one, and the peer appends it once. */
  clientMsgId: string;
  /** The accounts whose logs get the message (recipients, and the sender's when it has other devices). */
  targets: string[];
  content: string;
}

/** One message handed to a device by its consumer. */
export interface PeerDelivery {
  /** The receiving device. */
  device: number;
  /** The id the peer gave the message (the same one its sender was answered). */
  msgId: number;
  from: string;
  to: string;
  clientMsgId: string;
  content: string;
}

/** A device of the peer population: its index and its account's name (the log it reads). */
export interface PeerDeviceSpec {
  idx: number;
  account: string;
}

export interface PeerSystem {
  readonly kind: PeerKind;
  /** For the report, e.g. "Redis 7.0.15 Streams". */
  readonly title: string;
  /** How it is made durable and deduplicated, for the report. */
  readonly durability: string;
  /** Opens each device's link and starts its consumer at the end of its account's log. */
  open: (devices: PeerDeviceSpec[], onDelivery: (d: PeerDelivery) => void) => Promise<void>;
  /** Appends once however often it is called with the same sender and clientMsgId; resolves with the message id once durable. */
  send: (device: number, m: PeerMessage) => Promise<number>;
  /** The peer server process: memory and CPU. */
  sample: () => Promise<ServerSample | undefined>;
  /** Closes the links, stops the consumers and the server. */
  close: () => Promise<void>;
  /** Kills the server at once (the run is going down). */
  kill: () => void;
}
