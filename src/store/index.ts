// Durable state behind one small interface (see types.ts): local = SQLite, global = etcd.
import { GlobalStore, type GlobalStoreOptions } from './etcd';
import { LocalStore, type LocalStoreOptions } from './sqlite';

export type { Entry, Op, Store, Watch, WatchEvent } from './types';
export { CasConflictError, StoreUnavailableError } from './errors';
export { LocalStore, type LocalStoreOptions } from './sqlite';
export { GlobalStore, type GlobalStoreOptions, type LeasedKey } from './etcd';

/** Opens (creating if needed) the local store at `file`; ':memory:' keeps it in memory. */
export async function openLocalStore(file: string, options?: LocalStoreOptions): Promise<LocalStore> {
  return new LocalStore(file, options);
}

/**
 * Opens the global store and checks that etcd answers (within the retry window), so a wrong
 * endpoint shows at start rather than at the first write. `new GlobalStore(...)` does no I/O.
 */
export async function openGlobalStore(options: GlobalStoreOptions): Promise<GlobalStore> {
  const store = new GlobalStore(options);
  try {
    await store.ping();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
