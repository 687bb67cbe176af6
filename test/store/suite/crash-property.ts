// The crash model property: after random transactions (some rolled back) and
// a crash with one left open, the store equals a model that applied only the
// committed ones.
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import type { AsyncStore } from '../../../server/store/async-store.ts';
import { T0 } from './fixtures.ts';
import { itNeeding, type SuiteContext } from './harness.ts';
import { concretize, opArb, P_UNIVERSE, txArb, type Op } from './random-ops.ts';
import { emptyModel, modelApply, modelSnapshot, type Model } from './reference-model.ts';
import { snapshot } from './snapshot.ts';

export function crashPropertyCases(ctx: SuiteContext): void {
  describe('property', () => {
    itNeeding(ctx, 'crash')('after random transactions and a crash, the store equals a model of the committed ones', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(txArb, { maxLength: 10 }), fc.array(opArb, { maxLength: 8 }), async (txs, open) => {
          const run = await ctx.make();
          let s: AsyncStore = run.store;
          try {
            let model = emptyModel();
            let now = T0;
            const exec = async (ops: readonly Op[], work: Model): Promise<void> => {
              for (const op of ops) {
                const w = concretize(op, work, (now += 1));
                modelApply(work, w);
                await s.apply([w]);
              }
            };
            for (const tx of txs) {
              const work = structuredClone(model);
              await s.begin();
              await exec(tx.ops, work);
              expect(await snapshot(s, P_UNIVERSE)).toEqual(modelSnapshot(work, P_UNIVERSE));
              if (tx.commit) {
                await s.commit();
                model = work;
              } else {
                await s.rollback();
              }
              expect(await snapshot(s, P_UNIVERSE)).toEqual(modelSnapshot(model, P_UNIVERSE));
            }
            await s.begin();
            await exec(open, structuredClone(model));
            s = await run.crash();
            expect(await snapshot(s, P_UNIVERSE)).toEqual(modelSnapshot(model, P_UNIVERSE));
          } finally {
            await run.cleanup();
          }
        }),
        { numRuns: ctx.propertyRuns, endOnFailure: !ctx.shrink },
      );
    });
  });
}
