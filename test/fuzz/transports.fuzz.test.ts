// A small run of the transport fuzzer (test/fuzz/transports-property.ts) in
// `npm test`: a few hundred HTTP requests and long-link streams against the
// real server on real sockets. `npm run fuzz -- --runs 100000` runs the long one.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FuzzTarget } from './fuzz-target.ts';
import { OutcomeTally, transportProperty } from './transports-property.ts';

const RUNS = 400;
/** Fixed, so `npm test` always tries the same inputs; the long run draws a fresh seed. */
const SEED = 20_260_111;

describe('fuzzing the real transports', () => {
  let x: FuzzTarget;
  beforeAll(async () => {
    x = await FuzzTarget.start();
  });
  afterAll(async () => {
    await x?.close();
  });

  it('answers every HTTP request and long-link stream, stores nothing it refused, and keeps serving an honest client', async () => {
    const tally = new OutcomeTally();
    await fc.assert(transportProperty(x, tally), { numRuns: RUNS, seed: SEED, endOnFailure: true });
    expect(tally.inputs).toBe(RUNS);
    // The inputs reach past the front door: some are accepted, some refused by the protocol, some by the framing.
    const kinds = [...tally.counts.keys()];
    expect(kinds.some((k) => k.startsWith('http: HTTP 200 Ret 0'))).toBe(true);
    expect(kinds.some((k) => /^http: HTTP 200 Ret [1-9]/.test(k))).toBe(true);
    expect(kinds.some((k) => k.includes('WIRE_'))).toBe(true);
    expect(kinds.some((k) => k.endsWith('probe answered'))).toBe(true);
  });
});
