// What the link hub (server/node/link-hub.ts) emits and counts: its actions for
// the driver (packets, closes, flow control) and its statistics.

/** What the hub emits: packets and closes, as ServerAction, plus the flow-control actions. */
export type LinkAction =
  | { kind: 'write'; link: number; bytes: Uint8Array }
  /** Close the link after what was written so far. */
  | { kind: 'close'; link: number }
  /** Stop reading the link: the node holds enough of its input. */
  | { kind: 'pause'; link: number }
  /** Read the link again. */
  | { kind: 'resume'; link: number };

export interface LinkStats {
  links: number;
  openLinks: number;
  /** Links the node has told the driver to stop reading. */
  pausedLinks: number;
  /** Memory the node holds for unread long-link input, in bytes. */
  linkBufferedBytes: number;
  /** Links closed with a LinkFaultCode (refused or cut for abuse or overload). */
  linkFaults: number;
}
