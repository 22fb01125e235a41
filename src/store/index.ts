// Durable state behind one small interface (see types.ts).
import { LocalStore, type LocalStoreOptions } from './sqlite';

export type { Entry, Op, Store, Watch, WatchEvent } from './types';
export { CasConflictError, StoreUnavailableError } from './errors';
export { LocalStore, type LocalStoreOptions } from './sqlite';

/** Opens (creating if needed) the local store at `file`; ':memory:' keeps it in memory. */
export async function openLocalStore(file: string, options?: LocalStoreOptions): Promise<LocalStore> {
  return new LocalStore(file, options);
}
export { GlobalStore, type GlobalStoreOptions } from './etcd';
