// The CNM core opened for tests over an in-memory store (SQLite ':memory:', the local store's
// own in-memory mode) and the default IPAM on it, with a store that can be made to fail a write
// and a table publisher that records what joins publish. Without a netlink handle (noKernel) the
// core must not touch the kernel: network-level work runs without root.
import pino from 'pino';
import { Controller, type ControllerDeps, type PluginSource, type TablePublisher } from '../../src/controller';
import type { DnsDeps } from '../../src/controller/dns-registry';
import type { Driver, TableEntry } from '../../src/drivers/driver';
import { Ipam } from '../../src/ipam';
import type { NetlinkHandle } from '../../src/netlink';
import { LocalStore } from '../../src/store/sqlite';
import { StoreUnavailableError } from '../../src/store/errors';
import type { Entry, Op, Store, Watch, WatchEvent } from '../../src/store/types';
import { ScriptedFailure } from './scripted-driver';

/** A store that fails the next write of a key under a prefix, once; everything else goes to `inner`. */
export class FaultyStore implements Store {
  readonly scope = 'local';
  private failing: { prefix: string; error: Error } | undefined;

  constructor(readonly inner: Store) {}

  failNextPut(prefix: string, error: Error = new ScriptedFailure(`scripted store failure writing ${prefix}`)): void {
    this.failing = { prefix, error };
  }

  get(key: string): Promise<Entry | undefined> {
    return this.inner.get(key);
  }

  async put(key: string, value: Buffer, expectVersion?: number): Promise<number> {
    if (this.failing && key.startsWith(this.failing.prefix)) {
      const { error } = this.failing;
      this.failing = undefined;
      throw error;
    }
    return this.inner.put(key, value, expectVersion);
  }

  delete(key: string, expectVersion?: number): Promise<void> {
    return this.inner.delete(key, expectVersion);
  }

  list(prefix: string): Promise<Entry[]> {
    return this.inner.list(prefix);
  }

  commit(ops: Op[]): Promise<number[]> {
    return this.inner.commit(ops);
  }

  watch(prefix: string, onEvent: (event: WatchEvent) => void, onError?: (error: Error) => void): Promise<Watch> {
    return this.inner.watch(prefix, onEvent, onError);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface TableRecord {
  op: 'publish' | 'withdraw';
  networkId: string;
  entries: Array<{ table: string; key: string; value: string }>;
}

/** A cluster's tables as the core sees them: a log of what was published and withdrawn. */
export class RecordingTables implements TablePublisher {
  readonly log: TableRecord[] = [];
  private failPublish = false;

  failNextPublish(): void {
    this.failPublish = true;
  }

  async publish(networkId: string, entries: readonly TableEntry[]): Promise<void> {
    if (this.failPublish) {
      this.failPublish = false;
      throw new ScriptedFailure('scripted failure publishing table entries');
    }
    this.log.push({ op: 'publish', networkId, entries: entries.map(({ table, key, value }) => ({ table, key, value: value.toString('utf8') })) });
  }

  async withdraw(networkId: string, entries: readonly TableEntry[]): Promise<void> {
    this.log.push({ op: 'withdraw', networkId, entries: entries.map(({ table, key, value }) => ({ table, key, value: value.toString('utf8') })) });
  }
}

/** A netlink handle for tests that must not reach the kernel: any use of it fails the test. */
export const noKernel = new Proxy({} as NetlinkHandle, {
  get: (_target, property) => {
    if (property === 'then') return undefined;
    throw new Error(`the core used netlink (${String(property)}) where no kernel object was involved`);
  },
});

export interface Core {
  controller: Controller;
  store: FaultyStore;
  ipam: Ipam;
  tables: RecordingTables;
  /** Closes the controller and its IPAM (the store stays, for another core to open). */
  close(): Promise<void>;
}

export interface CoreOptions {
  drivers?: readonly Driver[];
  /** The store to open on (another core's, to reopen it); a fresh in-memory one otherwise. */
  store?: FaultyStore;
  netlink?: NetlinkHandle;
  /** Where sandboxes go; only tests with root make any. */
  sandboxDir?: string;
  tables?: RecordingTables;
  /** The cluster store shared with other cores (global networks and the GlobalDefault space), and this host's name in it. */
  cluster?: { store: Store; node: string };
  /** Where names no driver or IPAM driver has are looked for (Docker plugins). */
  plugins?: PluginSource;
  /** The embedded DNS's parts, to see which names the core gives it. */
  dns?: DnsDeps;
}

export const silent = pino({ level: 'silent' });

/**
 * Opens a controller; teardown closes what this call opened (the IPAM; the store when it made
 * it). A test that reopens passes the first core's store.
 */
export async function openCore(t: { teardown(fn: () => Promise<void> | void): void }, options: CoreOptions = {}): Promise<Core> {
  const store = options.store ?? new FaultyStore(new LocalStore(':memory:'));
  if (!options.store) t.teardown(() => store.close());
  const ipam = await Ipam.open({ local: store, ...(options.cluster ? { global: options.cluster.store } : {}) });
  t.teardown(() => ipam.close());
  const tables = options.tables ?? new RecordingTables();
  const deps: ControllerDeps = {
    store,
    ipam,
    drivers: options.drivers ?? [],
    log: silent,
    netlink: options.netlink ?? noKernel,
    hostRoutes: async () => [],
    sandboxDir: options.sandboxDir ?? '/nonexistent/netctl-test-sandboxes',
    tables,
    ...(options.cluster ? { cluster: options.cluster } : {}),
    ...(options.plugins ? { plugins: options.plugins } : {}),
    ...(options.dns ? { dns: options.dns } : {}),
  };
  const controller = await Controller.open(deps);
  t.teardown(() => controller.close());
  const close = async (): Promise<void> => {
    await controller.close();
    await ipam.close();
  };
  return { controller, store, ipam, tables, close };
}

/**
 * etcd's part for tests without it: one in-memory store shared by several cores in one process,
 * with global scope, that can be made unreachable (every call fails as a down etcd's) and whose
 * watches can be ended as etcd ends one whose history was compacted.
 */
export class SharedClusterStore implements Store {
  readonly scope = 'global';
  readonly inner = new LocalStore(':memory:');
  unreachable = false;
  private readonly watches = new Set<{ onError?: (error: Error) => void; live: boolean }>();

  private check(): void {
    if (this.unreachable) throw new StoreUnavailableError('etcd at test did not answer (scripted)');
  }

  async get(key: string): Promise<Entry | undefined> {
    this.check();
    return this.inner.get(key);
  }

  async put(key: string, value: Buffer, expectVersion?: number): Promise<number> {
    this.check();
    return this.inner.put(key, value, expectVersion);
  }

  async delete(key: string, expectVersion?: number): Promise<void> {
    this.check();
    return this.inner.delete(key, expectVersion);
  }

  async list(prefix: string): Promise<Entry[]> {
    this.check();
    return this.inner.list(prefix);
  }

  async commit(ops: Op[]): Promise<number[]> {
    this.check();
    return this.inner.commit(ops);
  }

  async watch(prefix: string, onEvent: (event: WatchEvent) => void, onError?: (error: Error) => void): Promise<Watch> {
    this.check();
    const state = { ...(onError ? { onError } : {}), live: true };
    this.watches.add(state);
    const inner = await this.inner.watch(prefix, (event) => state.live && onEvent(event));
    return {
      close: async () => {
        this.watches.delete(state);
        await inner.close();
      },
    };
  }

  /** Ends every watch for good, as etcd does when a watch's revision was compacted: no more events, onError called. */
  endWatches(): void {
    for (const state of this.watches) {
      state.live = false;
      state.onError?.(new StoreUnavailableError('etcd ended the watch (scripted compaction)'));
    }
    this.watches.clear();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
