import { asAsync } from '../../server/store/async-store.ts';
import { MemoryStore } from '../../server/store/memory-store.ts';
import { runStoreSuite } from './store-suite.ts';

runStoreSuite('MemoryStore', async () => {
  const store = new MemoryStore({ freeze: true });
  const wrapped = asAsync(store);
  return {
    store: wrapped,
    reopen: async () => {
      store.close();
      store.reopen();
      return wrapped;
    },
    crash: async () => {
      store.crash();
      store.reopen();
      return wrapped;
    },
    commits: () => store.commits,
    cleanup: async () => store.close(),
  };
}, { isReference: true });
