// A table of small records by string key (an address, a user name) that
// holds at most maxEntries of them: past that the least recently touched
// one is dropped. The anti-abuse tables use it so that no flood of keys can
// grow the heap; dropping errs on the generous side (a dropped key starts
// afresh), which a flood from many keys buys only for keys nobody touched lately.
export class BoundedTable<V> {
  /** Map order is touch order: the first entry is the least recently touched. */
  private readonly rows = new Map<string, V>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.rows.size;
  }

  get(key: string): V | undefined {
    return this.rows.get(key);
  }

  /** Store `value` as the most recently touched. */
  set(key: string, value: V): void {
    this.rows.delete(key);
    this.rows.set(key, value);
    if (this.rows.size > this.maxEntries) this.rows.delete(this.rows.keys().next().value!);
  }

  delete(key: string): void {
    this.rows.delete(key);
  }
}
