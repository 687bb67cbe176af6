// A core-test harness per test, checked and cleaned up after it.
import { afterEach, expect } from 'vitest';
import { Harness } from './core-harness.ts';
import type { HarnessOptions } from './node-driver.ts';

export function useHarness(): (o?: HarnessOptions) => Harness {
  const made: Harness[] = [];
  afterEach(() => {
    const all = made.splice(0);
    try {
      for (const h of all) {
        expect(h.doubleAnswers, 'requests answered twice').toEqual([]);
        expect(h.ghostOutputs, 'outputs of a crashed node').toEqual([]);
      }
    } finally {
      for (const h of all) h.dispose();
    }
  });
  return (o = {}) => {
    const h = new Harness(o);
    made.push(h);
    return h;
  };
}
