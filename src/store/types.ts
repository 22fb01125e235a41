// The one small interface every durable piece of netctl state goes through. Two backends
// implement it: local (better-sqlite3, WAL) and global (etcd). Keys are '/'-separated paths.

/**
 * A stored value with the version a compare-and-swap must name. Versions start at 1 and only grow,
 * store-wide: a version is the revision of the write that made it, so a later write has a larger
 * version than any earlier one on any key, and a re-created key never reuses an old version.
 */
export interface Entry {
  key: string;
  value: Buffer;
  version: number;
}

/**
 * One operation of an atomic multi-key change. `expectVersion` guards the write:
 * 0 = the key must not exist; n > 0 = the key must be at version n; undefined = unconditional.
 */
export type Op =
  | { type: 'put'; key: string; value: Buffer; expectVersion?: number }
  | { type: 'delete'; key: string; expectVersion?: number };

/** What a watch reports: a put carries the new entry, a delete the key that went. */
export type WatchEvent = { type: 'put'; entry: Entry } | { type: 'delete'; key: string };

export interface Watch {
  close(): Promise<void>;
}

export interface Store {
  /** 'local' (one host) or 'global' (shared by every daemon of a cluster). */
  readonly scope: 'local' | 'global';
  get(key: string): Promise<Entry | undefined>;
  /** Writes a key; durable when the promise resolves. Returns the new version. Throws CasConflictError on a failed guard. */
  put(key: string, value: Buffer, expectVersion?: number): Promise<number>;
  /** Deletes a key. Throws CasConflictError on a failed guard; deleting a missing key without a guard is not an error. */
  delete(key: string, expectVersion?: number): Promise<void>;
  /** Every entry whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<Entry[]>;
  /** Applies all ops or none. Throws CasConflictError naming the first failed guard. Returns the new version of each put, in op order (0 for deletes). */
  commit(ops: Op[]): Promise<number[]>;
  /**
   * Calls `onEvent` for every change under `prefix` made after the watch was set up, once each,
   * in commit order: local = changes through any store of this process on the same file; global =
   * changes by any client. `onError` hears if the backend ends the watch for good (no more events
   * follow; re-list and watch again).
   */
  watch(prefix: string, onEvent: (event: WatchEvent) => void, onError?: (error: Error) => void): Promise<Watch>;
  close(): Promise<void>;
}
