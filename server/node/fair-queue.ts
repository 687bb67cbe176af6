// Work held for a later round, served round-robin by key (an account, or an
// address): FIFO within a key, one item per key in turn. A client that
// queues many expensive commands (room creations, room messages) then delays
// each other client by one of its commands, not by all of them.

export class FairQueue<K, T> {
  /** Map order is the order the keys' turns come in. */
  private readonly byKey = new Map<K, T[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Whether `key` has items waiting. */
  has(key: K): boolean {
    return this.byKey.has(key);
  }

  push(key: K, item: T): void {
    const q = this.byKey.get(key);
    if (q) q.push(item);
    else this.byKey.set(key, [item]);
    this.count++;
  }

  /** The next key's oldest item; that key goes to the back of the turns if it has more. */
  take(): T | undefined {
    const first = this.byKey.entries().next();
    if (first.done) return undefined;
    const [key, q] = first.value;
    const item = q.shift()!;
    this.byKey.delete(key);
    if (q.length > 0) this.byKey.set(key, q);
    this.count--;
    return item;
  }
}
