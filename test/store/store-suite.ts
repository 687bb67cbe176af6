// One behaviour suite for every Store (in the style of hono's
// router/common.case.test.ts): each store's test file calls runStoreSuite with
// a factory, and both must pass the same cases, including a fast-check
// property comparing the store after a crash with a plain model that applied
// only the committed transactions. The cases live in suite/, one concern a file.
import { describe } from 'vitest';
import { crashPropertyCases } from './suite/crash-property.ts';
import { dedupPruningCases } from './suite/dedup-pruning.ts';
import { durabilityCases } from './suite/durability.ts';
import { emptyStoreCases } from './suite/empty-store.ts';
import type { StoreHarness } from './suite/harness.ts';
import { itemLogCases } from './suite/item-logs.ts';
import { recordRoundTripCases } from './suite/record-round-trips.ts';
import { savepointCases } from './suite/savepoints.ts';
import { transactionCases } from './suite/transactions.ts';

export function runStoreSuite(name: string, make: () => StoreHarness): void {
  describe(`Store contract: ${name}`, () => {
    emptyStoreCases(make);
    recordRoundTripCases(make);
    itemLogCases(make);
    dedupPruningCases(make);
    transactionCases(make);
    savepointCases(make);
    durabilityCases(make);
    crashPropertyCases(make);
  });
}
