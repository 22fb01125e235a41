// Typed store errors: callers branch on the class, users read the message.

/** A compare-and-swap guard did not hold: someone else changed the key first. */
export class CasConflictError extends Error {
  override readonly name = 'CasConflictError';
  constructor(
    readonly key: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(
      `store conflict on "${key}": expected version ${expectedVersion === 0 ? '(absent)' : expectedVersion}, ` +
        `found ${actualVersion === 0 ? '(absent)' : actualVersion}; re-read the key and retry`,
    );
  }
}

/** The backend cannot be reached (etcd down, database file unusable). */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}
