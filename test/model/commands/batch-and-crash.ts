// Group commit and crashes: open or close a batch, flush it, or restart the
// node with the batch still open.
import { expect } from 'vitest';
import type { Harness } from '../../harness/core-harness.ts';
import { compareStore, flush } from '../model-checks.ts';
import type { Cmd, Model } from '../reference-model.ts';

export class Batch implements Cmd {
  constructor(readonly on: boolean) {}
  check(m: Model): boolean {
    return m.batch !== this.on;
  }
  run(m: Model, h: Harness): void {
    m.batch = this.on;
    if (!this.on) flush(m, h);
  }
  toString(): string {
    return this.on ? 'batch on' : 'batch off (flush)';
  }
}

export class Flush implements Cmd {
  check(m: Model): boolean {
    return m.batch;
  }
  run(m: Model, h: Harness): void {
    flush(m, h);
  }
  toString(): string {
    return 'flush';
  }
}

export class Restart implements Cmd {
  check(): boolean {
    return true;
  }
  run(m: Model, h: Harness): void {
    h.restart();
    // The open batch is lost: nothing of it was answered, nothing of it is stored.
    for (const p of m.pending) expect(h.answer(p.req), `${p.what} was in the lost batch: never answered`).toBeUndefined();
    m.pending = [];
    m.server = structuredClone(m.committed);
    compareStore(m, h);
  }
  toString(): string {
    return 'restart (crash)';
  }
}
