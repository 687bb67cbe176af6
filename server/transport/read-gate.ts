// Whether a long-link connection is read. Two things stop it: the node holds
// the link paused (its packets in flight are at the bound), or what is
// queued for the peer is past the mark (its replies are not being read yet).
// Either way the peer's bytes wait in the kernel, not in our heap.

/** Reading stops while this fraction of the write limit is queued for the peer. */
export const PAUSE_AT_WRITE_FRACTION = 1 / 4;

export class ReadGate {
  private byNode = false;
  private byWrites = false;

  constructor(
    private readonly stop: () => void,
    private readonly start: () => void,
  ) {}

  get open(): boolean {
    return !this.byNode && !this.byWrites;
  }

  /** The node paused (true) or resumed (false) the link. */
  node(paused: boolean): void {
    this.set(paused, this.byWrites);
  }

  /** What is queued for the peer went over (true) or back under (false) the mark. */
  writes(over: boolean): void {
    this.set(this.byNode, over);
  }

  private set(byNode: boolean, byWrites: boolean): void {
    const was = this.open;
    this.byNode = byNode;
    this.byWrites = byWrites;
    if (was && !this.open) this.stop();
    else if (!was && this.open) this.start();
  }
}
