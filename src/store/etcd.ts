// The global store: etcd (v3 API) through the etcd3 client. Every key lives under a prefix
// (default '/netctl/'), so several clusters can share one etcd and etcd roles can fence them.
//
// Versions: a version is the key's mod_revision - the cluster-wide revision of the write that made
// it, so versions only grow and are comparable across keys. etcd's per-key `version` would be the
// wrong choice: it restarts at 1 after a delete and re-create, so a stale guard could succeed by
// accident. Guards are compares in one etcd transaction: `create_revision == 0` for "absent",
// `mod_revision == n` for "at version n". A failed transaction reads every guarded key in its
// else-branch, at the same revision, so the CasConflictError names the key that really failed.
//
// Failures: etcd3's own fault handling is configured here, not left at its defaults (a global
// retry of 3 immediate attempts, and a per-host circuit breaker open for 5 s after 3 failures,
// which together can both multiply retries and delay recovery). The global policy is off: this
// class retries itself, with exponential backoff, for a bounded time (`retryWindowMs`), and every
// attempt has a deadline, so a down etcd fails with a StoreUnavailableError in bounded time and
// never hangs. The per-host policy is a short circuit breaker, so with several endpoints an
// unreachable one is skipped for a moment and the next attempt goes to another.
//
// Retrying a write is safe: an unguarded put or delete leaves the same state when applied twice.
// A guarded write whose reply was lost (etcd died after applying it) would, retried, fail its own
// guard - a false conflict. So every guarded transaction also writes a marker key
// (<prefix>\0txn/<client>/<slot> = a token unique to this commit call); when a retry fails its
// guards and the marker holds our token, the earlier attempt did apply and the commit succeeds
// with that attempt's revision. Markers carry a lease, so they vanish after a crash; a client
// needs as many as it has commits in flight at once. Keys starting with '\0' are internal: list and
// watch never report them. A write that still fails with StoreUnavailableError after the retry
// window may or may not have been applied (etcd may apply it later still): re-read before acting.
import { randomUUID } from 'node:crypto';
import type * as Cockatiel from 'cockatiel';
import type * as Etcd3Module from 'etcd3';
import type { Etcd3, IKeyValue, IRequestOp, IResponseOp, ICompare, Lease, Watcher } from 'etcd3';
import { CasConflictError, StoreUnavailableError } from './errors';
import type { Entry, Op, Store, Watch, WatchEvent } from './types';

export interface GlobalStoreOptions {
  /** etcd client URLs, e.g. ['http://127.0.0.1:2379']. */
  endpoints: string[];
  /** Every key lives under this prefix. Default '/netctl/'. */
  prefix?: string;
  /** How long an operation keeps retrying while etcd cannot be reached (it fails within this + one attempt). Default 10 s. */
  retryWindowMs?: number;
  /** The deadline of one attempt (one RPC). Default 2 s. */
  attemptTimeoutMs?: number;
  /** etcd authentication, if enabled on the cluster. */
  auth?: { username: string; password: string };
}

/** A key bound to an etcd lease this client keeps alive (see GlobalStore.putLeased). */
export interface LeasedKey {
  /** false while keep-alives fail (etcd unreachable); the key lives on until the lease's TTL runs out. */
  readonly healthy: boolean;
  /** Deletes the key now by revoking its lease (best effort, bounded by one attempt). */
  release(): Promise<void>;
}

/** Keys below the store prefix starting with this are the store's own (commit markers). */
const INTERNAL = '\0';
/** How many keys one list request reads at most; longer lists are read in pages at one revision. */
const PAGE = 1000;

/** The first key after every key starting with `prefix`, byte-wise, as etcd's range_end. */
function rangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // every key
}

// etcd3 and its gRPC stack (~18 MB) load with the first global store, not with `require('netctl')`.
let etcd3Module: typeof Etcd3Module | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const etcd3 = (): typeof Etcd3Module => (etcd3Module ??= require('etcd3') as typeof Etcd3Module);

const isBrokenCircuit = (error: unknown): boolean => typeof error === 'object' && error !== null && 'isBrokenCircuitError' in error;

export class GlobalStore implements Store {
  readonly scope = 'global' as const;
  private readonly client: Etcd3;
  private readonly prefix: string;
  private readonly retryWindowMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly where: string;
  private readonly clientId = randomUUID();
  private readonly freeSlots: number[] = [];
  private slots = 0;
  private commits = 0;
  private lease: { id: string; renewAt: number } | undefined;
  private leaseGrant: Promise<string> | undefined;
  private readonly leaseTtlSeconds: number;
  private readonly watches = new Set<() => Promise<void>>();
  private readonly leases = new Set<() => Promise<void>>();
  private closed = false;

  constructor(private readonly options: GlobalStoreOptions) {
    if (options.endpoints.length === 0) throw new TypeError('GlobalStore needs at least one etcd endpoint');
    this.prefix = options.prefix ?? '/netctl/';
    this.retryWindowMs = options.retryWindowMs ?? 10_000;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 2_000;
    this.where = options.endpoints.join(', ');
    // A marker must outlive every retry of its commit: it is written with a lease at least half
    // of whose TTL is left, and half the TTL is well above one retry window.
    this.leaseTtlSeconds = Math.max(60, Math.ceil((4 * (this.retryWindowMs + this.attemptTimeoutMs)) / 1000));
    const { Etcd3: Client, isRecoverableError } = etcd3();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { circuitBreaker, ConsecutiveBreaker, handleWhen, noop } = require('cockatiel') as typeof Cockatiel;
    this.client = new Client({
      hosts: options.endpoints,
      auth: options.auth,
      dialTimeout: this.attemptTimeoutMs,
      // A partition that drops packets without a reset would stall a watch for ever: HTTP/2 pings
      // every 10 s (etcd accepts 5 s and up) find the dead connection, and the watch reconnects.
      grpcOptions: { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000, 'grpc.keepalive_permit_without_calls': 1 },
      // Calls made by etcd3 itself (watch streams aside) get a deadline too.
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + this.attemptTimeoutMs }),
      faultHandling: {
        global: noop,
        host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 500, breaker: new ConsecutiveBreaker(1) }),
      },
    });
  }

  /** Resolves once etcd answers a read (retried within the retry window). */
  async ping(): Promise<void> {
    await this.retry('checking that etcd answers', (options) => this.client.kv.range({ key: this.full(`${INTERNAL}ping`) }, options));
  }

  async get(key: string): Promise<Entry | undefined> {
    const response = await this.retry(`reading "${key}"`, (options) => this.client.kv.range({ key: this.full(key) }, options));
    const kv = response.kvs[0];
    return kv ? this.entry(kv) : undefined;
  }

  async put(key: string, value: Buffer, expectVersion?: number): Promise<number> {
    return (await this.commit([{ type: 'put', key, value, expectVersion }]))[0]!;
  }

  async delete(key: string, expectVersion?: number): Promise<void> {
    await this.commit([{ type: 'delete', key, expectVersion }]);
  }

  async list(prefix: string): Promise<Entry[]> {
    const start = this.full(prefix);
    const end = rangeEnd(start);
    const entries: Entry[] = [];
    let from = start.length === 0 ? Buffer.from([0]) : start;
    let revision: string | undefined; // every page is read at the revision of the first one
    for (;;) {
      const response = await this.retry(`listing "${prefix}"`, (options) =>
        this.client.kv.range({ key: from, range_end: end, limit: PAGE, revision, sort_order: 'Ascend', sort_target: 'Key' }, options),
      );
      revision ??= response.header.revision;
      for (const kv of response.kvs) if (!this.internal(kv.key)) entries.push(this.entry(kv));
      if (!response.more || response.kvs.length === 0) return entries;
      // Strictly after the last key read, so paging always moves on.
      from = Buffer.concat([response.kvs[response.kvs.length - 1]!.key, Buffer.from([0])]);
    }
  }

  async commit(ops: Op[]): Promise<number[]> {
    if (ops.length === 0) return [];
    const compare: ICompare[] = [];
    const guarded: Array<{ key: string; expect: number }> = [];
    for (const op of ops) {
      if (op.expectVersion === undefined) continue;
      guarded.push({ key: op.key, expect: op.expectVersion });
      compare.push(
        op.expectVersion === 0
          ? { key: this.full(op.key), target: 'Create', result: 'Equal', create_revision: 0 }
          : { key: this.full(op.key), target: 'Mod', result: 'Equal', mod_revision: op.expectVersion },
      );
    }
    const writes: IRequestOp[] = ops.map((op) =>
      op.type === 'put' ? { request_put: { key: this.full(op.key), value: op.value } } : { request_delete_range: { key: this.full(op.key) } },
    );
    const what = ops.length === 1 ? `writing "${ops[0]!.key}"` : `committing ${ops.length} changes (first "${ops[0]!.key}")`;
    const versions = (revision: number): number[] => ops.map((op) => (op.type === 'put' ? revision : 0));

    if (guarded.length === 0) {
      // Nothing can conflict and applying twice leaves the same state: retry freely.
      const result = await this.retry(what, (options) => this.client.kv.txn({ compare, success: writes, failure: [] }, options));
      return versions(Number(result.header.revision));
    }

    const slot = this.freeSlots.pop() ?? this.slots++;
    const marker = this.full(`${INTERNAL}txn/${this.clientId}/${slot}`);
    const token = Buffer.from(`${this.clientId}/${++this.commits}`);
    try {
      return await this.retry(what, async (options) => {
        const lease = await this.markerLease(options);
        const result = await this.client.kv.txn(
          {
            compare,
            success: [...writes, { request_put: { key: marker, value: token, lease } }],
            failure: [...guarded.map(({ key }): IRequestOp => ({ request_range: { key: this.full(key) } })), { request_range: { key: marker } }],
          },
          options,
        );
        if (result.succeeded) return versions(Number(result.header.revision));
        const ranges = result.responses.map((response: IResponseOp) => response.response_range.kvs[0]);
        const ours = ranges[guarded.length];
        // An earlier attempt of this very commit applied, and only its reply was lost.
        if (ours?.value.equals(token)) return versions(Number(ours.mod_revision));
        for (let i = 0; i < guarded.length; i++) {
          const { key, expect } = guarded[i]!;
          const kv = ranges[i];
          const actual = kv ? Number(kv.mod_revision) : 0;
          if (actual !== expect) throw new CasConflictError(key, expect, actual);
        }
        throw new Error(`unreachable: etcd transaction failed but every guard holds (${what})`);
      });
    } finally {
      this.freeSlots.push(slot);
    }
  }

  /**
   * Reports every change under `prefix` after the watch is set up, in order, each once: etcd3
   * re-establishes a broken watch stream by itself and resumes after the last revision seen.
   * If etcd cancels the watch for good (its history was compacted past that revision while the
   * stream was down), `onError` is called and no more events come: re-list, then watch again.
   * Fails with StoreUnavailableError if etcd cannot be reached within the retry window.
   */
  async watch(prefix: string, onEvent: (event: WatchEvent) => void, onError?: (error: Error) => void): Promise<Watch> {
    this.assertOpen();
    const watcher: Watcher = this.client.watch().prefix(this.full(prefix)).watcher();
    let active = true;
    let lastProblem: unknown;
    const deliver = (event: WatchEvent): void => {
      if (!active) return;
      try {
        onEvent(event);
      } catch (error) {
        // A throwing callback must not break etcd3's stream handling; let it surface as usual.
        process.nextTick(() => {
          throw error;
        });
      }
    };
    watcher.on('put', (kv: IKeyValue) => {
      if (!this.internal(kv.key)) deliver({ type: 'put', entry: this.entry(kv) });
    });
    watcher.on('delete', (kv: IKeyValue) => {
      if (!this.internal(kv.key)) deliver({ type: 'delete', key: this.relative(kv.key) });
    });
    watcher.on('disconnected', (error: unknown) => (lastProblem = error));
    let ended = false;
    const connected = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(this.unavailable(`watching "${prefix}"`, lastProblem ?? new Error('no answer'))),
        this.retryWindowMs,
      );
      watcher.once('connected', () => {
        clearTimeout(timer);
        resolve();
      });
      // Always listened to: an unheard 'error' event would crash the process.
      watcher.on('error', (error: Error) => {
        clearTimeout(timer);
        ended = true;
        const wasActive = active;
        active = false;
        reject(new StoreUnavailableError(`etcd at ${this.where} ended the watch on "${prefix}": ${error.message}`, error));
        if (wasActive && onError) onError(new StoreUnavailableError(`etcd at ${this.where} ended the watch on "${prefix}": ${error.message}; re-list and watch again`, error));
      });
    });
    const close = async (): Promise<void> => {
      this.watches.delete(close);
      active = false;
      if (ended) return;
      ended = true;
      // Cancelling needs etcd's answer; never wait for it longer than one attempt.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        watcher.cancel().catch(() => undefined),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, this.attemptTimeoutMs))),
      ]);
      clearTimeout(timer);
    };
    this.watches.add(close);
    try {
      await connected;
    } catch (error) {
      await close();
      throw error;
    }
    return { close };
  }

  /**
   * Writes `key` bound to a lease of `ttlSeconds` that is kept alive in the background, so the key
   * goes away when this process does. If the lease is lost (etcd unreachable for longer than the
   * TTL, or its lease revoked), `onLost` hears it: the key is gone or going, write it again.
   * Fails with StoreUnavailableError if etcd cannot be reached within the retry window.
   */
  async putLeased(key: string, value: Buffer, ttlSeconds: number, onLost: (error: Error) => void): Promise<LeasedKey> {
    const lease = await this.retry(`writing "${key}" under a lease`, async () => {
      const attempt: Lease = this.client.lease(ttlSeconds);
      // Always listened to: an unheard 'lost' or 'error' would be thrown by the emitter.
      attempt.on('lost', () => undefined);
      try {
        await attempt.put(this.full(key)).value(value).exec();
        return attempt;
      } catch (error) {
        attempt.release();
        throw error;
      }
    });
    let healthy = true;
    let released = false;
    lease.on('keepaliveFailed', () => (healthy = false));
    lease.on('keepaliveSucceeded', () => (healthy = true));
    lease.on('lost', (error: Error) => {
      healthy = false;
      if (!released && !this.closed) onLost(error);
    });
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      this.leases.delete(release);
      await lease.revoke({ deadline: Date.now() + this.attemptTimeoutMs }).catch(() => undefined);
    };
    this.leases.add(release);
    return {
      get healthy() {
        return healthy && !released;
      },
      release,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.watches, ...this.leases].map((close) => close()));
    const lease = this.lease;
    this.lease = undefined;
    if (lease) {
      // Removes this client's markers now rather than at the lease's expiry; best effort.
      await this.client.leaseClient.leaseRevoke({ ID: lease.id }, { deadline: Date.now() + this.attemptTimeoutMs }).catch(() => undefined);
    }
    this.client.close();
  }

  /** The lease of the commit markers, granted on first use and replaced when half its TTL is gone. */
  private async markerLease(options: { deadline: number }): Promise<string> {
    if (this.lease && Date.now() < this.lease.renewAt) return this.lease.id;
    this.leaseGrant ??= this.client.leaseClient
      .leaseGrant({ TTL: this.leaseTtlSeconds, ID: 0 }, options)
      .then((response) => {
        this.lease = { id: response.ID, renewAt: Date.now() + (this.leaseTtlSeconds * 1000) / 2 };
        return response.ID;
      })
      .finally(() => (this.leaseGrant = undefined));
    return this.leaseGrant;
  }

  /**
   * Runs `attempt` until it succeeds, retrying failures to reach etcd with jittered exponential
   * backoff (25 ms doubling to 1 s) for `retryWindowMs`; the last attempt may take up to
   * `attemptTimeoutMs` more. So an operation fails within retryWindowMs + attemptTimeoutMs.
   */
  private async retry<T>(what: string, attempt: (options: { deadline: number }) => Promise<T>): Promise<T> {
    this.assertOpen();
    const deadline = Date.now() + this.retryWindowMs;
    let lastReal: unknown;
    for (let delay = 25; ; delay = Math.min(delay * 2, 1_000)) {
      try {
        return await attempt({ deadline: Date.now() + this.attemptTimeoutMs });
      } catch (error) {
        if (error instanceof CasConflictError || error instanceof StoreUnavailableError) throw error;
        const { ClientClosedError, EtcdLeaseInvalidError, isRecoverableError } = etcd3();
        if (error instanceof ClientClosedError || this.closed) throw new StoreUnavailableError(`the global store (etcd at ${this.where}) is closed`, error);
        if (error instanceof EtcdLeaseInvalidError) {
          this.lease = undefined; // the markers' lease expired (etcd was away longer than its TTL)
        } else if (!(error instanceof Error && isRecoverableError(error)) && !isBrokenCircuit(error)) {
          throw new StoreUnavailableError(`etcd at ${this.where} refused ${what}: ${(error as Error).message}`, error);
        }
        if (!isBrokenCircuit(error)) lastReal = error;
        const left = deadline - Date.now();
        if (left <= 0) throw this.unavailable(what, lastReal ?? error);
        await new Promise((resolve) => setTimeout(resolve, Math.min(left, delay / 2 + Math.random() * (delay / 2))));
        this.assertOpen();
      }
    }
  }

  private unavailable(what: string, cause: unknown): StoreUnavailableError {
    return new StoreUnavailableError(
      `etcd at ${this.where} did not answer while ${what} (retried for ${this.retryWindowMs / 1000} s): ` +
        `${(cause as Error)?.message ?? String(cause)}; check that etcd is running and reachable from this host ` +
        `(e.g. \`etcdctl --endpoints=${this.options.endpoints[0]} endpoint health\`)`,
      cause,
    );
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError(`the global store (etcd at ${this.where}) is closed`);
  }

  private full(key: string): Buffer {
    return Buffer.from(this.prefix + key);
  }

  private relative(key: Buffer): string {
    return key.toString('utf8').slice(this.prefix.length);
  }

  private internal(key: Buffer): boolean {
    return key.length > Buffer.byteLength(this.prefix) && key[Buffer.byteLength(this.prefix)] === 0;
  }

  private entry(kv: IKeyValue): Entry {
    return { key: this.relative(kv.key), value: kv.value, version: Number(kv.mod_revision) };
  }
}
