// The crash model property: after random transactions (some rolled back) and
// a crash with one left open, the store equals a model that applied only the
// committed ones.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { T0 } from './fixtures.ts';
import type { StoreHarness } from './harness.ts';
import { concretize, opArb, P_UNIVERSE, txArb, type Op } from './random-ops.ts';
import { emptyModel, modelApply, modelSnapshot, type Model } from './reference-model.ts';
import { snapshot } from './snapshot.ts';

export function crashPropertyCases(make: () => StoreHarness): void {
  describe('property', () => {
    it('after random transactions and a crash, the store equals a model of the committed ones', () => {
      fc.assert(
        fc.property(fc.array(txArb, { maxLength: 10 }), fc.array(opArb, { maxLength: 8 }), (txs, open) => {
          const run = make();
          let s = run.store;
          try {
            let model = emptyModel();
            let now = T0;
            const exec = (ops: readonly Op[], work: Model): void => {
              for (const op of ops) {
                const w = concretize(op, work, (now += 1));
                modelApply(work, w);
                s.apply([w]);
              }
            };
            for (const tx of txs) {
              const work = structuredClone(model);
              s.begin();
              exec(tx.ops, work);
              expect(snapshot(s, P_UNIVERSE)).toEqual(modelSnapshot(work, P_UNIVERSE));
              if (tx.commit) {
                s.commit();
                model = work;
              } else {
                s.rollback();
              }
              expect(snapshot(s, P_UNIVERSE)).toEqual(modelSnapshot(model, P_UNIVERSE));
            }
            s.begin();
            exec(open, structuredClone(model));
            s = run.crash();
            expect(snapshot(s, P_UNIVERSE)).toEqual(modelSnapshot(model, P_UNIVERSE));
          } finally {
            run.cleanup();
          }
        }),
        { numRuns: 100 },
      );
    });
  });
}
