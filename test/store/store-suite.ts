// One behaviour suite for every store (in the style of hono's
// router/common.case.test.ts): each store's test file calls runStoreSuite with
// a factory of harnesses, and every store must pass the same cases through the
// asynchronous store boundary (the synchronous stores through asAsync),
// including a fast-check property comparing the store after a crash with a
// plain model that applied only the committed transactions, and one comparing
// every read kind with MemoryStore. The cases live in suite/, one concern a file.
import { describe } from 'vitest';
import { contactReadCases } from './suite/contact-reads.ts';
import { crashPropertyCases } from './suite/crash-property.ts';
import { dedupPruningCases } from './suite/dedup-pruning.ts';
import { durabilityCases } from './suite/durability.ts';
import { emptyStoreCases } from './suite/empty-store.ts';
import type { StoreHarness, StoreSupport, SuiteContext } from './suite/harness.ts';
import { itemLogCases } from './suite/item-logs.ts';
import { mediaRecordCases } from './suite/media-records.ts';
import { recordRoundTripCases } from './suite/record-round-trips.ts';
import { referenceAgreementCases } from './suite/reference-agreement.ts';
import { savepointCases } from './suite/savepoints.ts';
import { transactionCases } from './suite/transactions.ts';

export interface StoreSuiteOptions {
  /** What the store supports beyond the contract (default: everything). */
  supports?: Partial<StoreSupport>;
  /** fast-check runs of the crash property (default 100). */
  propertyRuns?: number;
  /** fast-check runs of the agreement with MemoryStore (default 25; each run is hundreds of reads). */
  agreementRuns?: number;
  /** Shrink a property's counterexample (default true; a store of round trips reports the first one instead). */
  shrink?: boolean;
  /** The store is MemoryStore, the reference itself. */
  isReference?: boolean;
}

export function runStoreSuite(name: string, make: () => Promise<StoreHarness>, o: StoreSuiteOptions = {}): void {
  const ctx: SuiteContext = {
    make,
    supports: { reopen: true, crash: true, ...o.supports },
    propertyRuns: o.propertyRuns ?? 100,
    agreementRuns: o.agreementRuns ?? 25,
    shrink: o.shrink ?? true,
    isReference: o.isReference ?? false,
  };
  describe(`Store contract: ${name}`, () => {
    emptyStoreCases(ctx);
    recordRoundTripCases(ctx);
    itemLogCases(ctx);
    dedupPruningCases(ctx);
    transactionCases(ctx);
    savepointCases(ctx);
    contactReadCases(ctx);
    mediaRecordCases(ctx);
    durabilityCases(ctx);
    crashPropertyCases(ctx);
    referenceAgreementCases(ctx);
  });
}
