// The global store: etcd through the etcd3 client. A version is the key's mod_revision, which
// is cluster-wide and only grows (etcd's per-key `version` restarts at 1 after a delete, so a
// stale guard could succeed by accident). Guards are etcd transaction compares.
import { Etcd3, isRecoverableError, type IKeyValue } from 'etcd3';
import { noop } from 'cockatiel';
import { CasConflictError, StoreUnavailableError } from './errors';
import type { Entry, Op, Store, Watch, WatchEvent } from './types';

export interface GlobalStoreOptions {
  /** e.g. ['http://127.0.0.1:2379']. */
  endpoints: string[];
  /** Every key lives under this prefix, so clusters can share one etcd. Default '/netctl/'. */
  prefix?: string;
  /** How long an operation keeps retrying while etcd cannot be reached. Default 10 s. */
  retryWindowMs?: number;
  /** The deadline of one attempt. Default 2 s. */
  attemptTimeoutMs?: number;
}

const toEntry = (prefix: string, kv: IKeyValue): Entry => ({
  key: kv.key.toString('utf8').slice(prefix.length),
  value: kv.value,
  version: Number(kv.mod_revision),
});

export class GlobalStore implements Store {
  readonly scope = 'global' as const;
  private readonly client: Etcd3;
  private readonly prefix: string;
  private readonly retryWindowMs: number;

  constructor(private readonly options: GlobalStoreOptions) {
    this.prefix = options.prefix ?? '/netctl/';
    this.retryWindowMs = options.retryWindowMs ?? 10_000;
    const attempt = options.attemptTimeoutMs ?? 2_000;
    // Retries are ours (see retry()), bounded in time, so the client's own policies are off.
    this.client = new Etcd3({
      hosts: options.endpoints,
      dialTimeout: attempt,
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + attempt }),
      faultHandling: { host: () => noop, global: noop },
    });
  }

  get(key: string): Promise<Entry | undefined> {
    return this.retry(`reading "${key}"`, async () => {
      const response = await this.client.get(this.prefix + key).exec();
      const kv = response.kvs[0];
      return kv ? toEntry(this.prefix, kv) : undefined;
    });
  }

  async put(key: string, value: Buffer, expectVersion?: number): Promise<number> {
    return (await this.commit([{ type: 'put', key, value, expectVersion }]))[0]!;
  }

  async delete(key: string, expectVersion?: number): Promise<void> {
    await this.commit([{ type: 'delete', key, expectVersion }]);
  }

  list(prefix: string): Promise<Entry[]> {
    return this.retry(`listing "${prefix}"`, async () => {
      const response = await this.client.getAll().prefix(this.prefix + prefix).sort('Key', 'Ascend').exec();
      return response.kvs.map((kv) => toEntry(this.prefix, kv));
    });
  }

  commit(ops: Op[]): Promise<number[]> {
    return this.retry(`committing ${ops.length} change(s)`, async () => {
      // etcd3's transaction builder starts from a compare: one on a key that never exists is always true.
      let txn = this.client.if(this.prefix + '\0netctl-always-true', 'Create', '==', 0);
      for (const op of ops) {
        if (op.expectVersion === undefined) continue;
        txn = op.expectVersion === 0 ? txn.and(this.prefix + op.key, 'Create', '==', 0) : txn.and(this.prefix + op.key, 'Mod', '==', op.expectVersion);
      }
      const writes = ops.map((op) => (op.type === 'put' ? this.client.put(this.prefix + op.key).value(op.value) : this.client.delete().key(this.prefix + op.key)));
      const result = await txn.then(...writes).commit();
      if (!result.succeeded) throw await this.conflict(ops);
      const revision = Number(result.header.revision);
      return ops.map((op) => (op.type === 'put' ? revision : 0));
    });
  }

  async watch(prefix: string, onEvent: (event: WatchEvent) => void): Promise<Watch> {
    const watcher = await this.client.watch().prefix(this.prefix + prefix).create();
    watcher.on('put', (kv) => onEvent({ type: 'put', entry: toEntry(this.prefix, kv) }));
    watcher.on('delete', (kv) => onEvent({ type: 'delete', key: kv.key.toString('utf8').slice(this.prefix.length) }));
    return { close: () => watcher.cancel() };
  }

  async close(): Promise<void> {
    this.client.close();
  }

  /** Names the first guard that failed, for an error the caller can act on. */
  private async conflict(ops: Op[]): Promise<Error> {
    for (const op of ops) {
      if (op.expectVersion === undefined) continue;
      const actual = (await this.get(op.key))?.version ?? 0;
      if (actual !== op.expectVersion) return new CasConflictError(op.key, op.expectVersion, actual);
    }
    // Every guard holds now: the conflicting write came and went. The caller re-reads and retries.
    const first = ops.find((op) => op.expectVersion !== undefined)!;
    return new CasConflictError(first.key, first.expectVersion!, -1);
  }

  /** Retries unreachable-etcd failures with exponential backoff, for a bounded time. */
  private async retry<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.retryWindowMs;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
      try {
        return await attempt();
      } catch (error) {
        if (error instanceof CasConflictError || !isRecoverableError(error as Error)) throw error;
        if (Date.now() + delay > deadline) {
          throw new StoreUnavailableError(
            `etcd at ${this.options.endpoints.join(', ')} did not answer while ${what} (retried for ${this.retryWindowMs / 1000} s): ${(error as Error).message}; check that etcd is running and reachable`,
            error,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}
