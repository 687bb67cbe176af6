import { MemoryStore } from '../../server/store/memory-store.ts';
import { runStoreSuite } from './store-suite.ts';

runStoreSuite('MemoryStore', () => {
  const store = new MemoryStore({ freeze: true });
  return {
    store,
    reopen: () => {
      store.close();
      return store.reopen();
    },
    crash: () => {
      store.crash();
      return store.reopen();
    },
    cleanup: () => store.close(),
  };
});
