// One address space and its layout in the store. Keys (under the space's store):
//
//   ipam/<space>/index                      guard bumped by every pool creation/release (CAS)
//   ipam/<space>/pools/<poolId>             {pool, subPool?, refs}
//   ipam/<space>/addrs/<poolId>/<ip>        {role, name?, serial?}, written create-only
//   ipam/<space>/cursor/<poolId>            {offset}: the serial cursor, written with releases
//
// Why one key per address: an allocation is one O(1) create-only write (expectVersion 0), an
// IPv6 /64 stays sparse, and on etcd two daemons racing for one address cannot both win.
// Why the index key: pool creation must see every other pool (overlap, next default), so all
// pool-set changes of a space are serialised by a compare-and-swap on one key.
// Why the cursor is mostly derived: store versions are store-wide revisions that only grow,
// so the serial address with the highest version is the last one handed out. Only a release
// can erase that evidence, so releases (not allocations) also write the cursor; on load the
// newer of the two wins. Allocation stays a single write.
import { formatPrefix, parsePrefix } from '../ip/address';
import { StoreUnavailableError } from '../store/errors';
import type { Entry, Store, Watch, WatchEvent } from '../store/types';
import type { PoolTemplate } from './defaults';
import { type AddressRole, PoolAllocator, type SpecialAddress } from './allocator';

export interface PoolRecord {
  pool: string;
  subPool?: string;
  refs: number;
}

export interface AddressRecord {
  role: AddressRole;
  name?: string;
  /** Handed out by the serial search (not asked for by address): it may carry the cursor. */
  serial?: boolean;
}

interface CursorRecord {
  offset: string;
}

export const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const parse = <T>(entry: Entry): T => JSON.parse(entry.value.toString('utf8')) as T;
/** The records of the hot path, encoded once. */
const SERIAL_ENDPOINT = json({ role: 'endpoint', serial: true } satisfies AddressRecord);
const ENDPOINT = json({ role: 'endpoint' } satisfies AddressRecord);

export function addressRecord(role: AddressRole, name: string | undefined, serial: boolean): Buffer {
  if (role === 'endpoint') return serial ? SERIAL_ENDPOINT : ENDPOINT;
  return json({ role, ...(name !== undefined ? { name } : {}) } satisfies AddressRecord);
}

export function specialOf(record: AddressRecord): SpecialAddress | undefined {
  if (record.role === 'endpoint') return undefined;
  return { role: record.role, ...(record.name !== undefined ? { name: record.name } : {}) };
}

export class Space {
  readonly pools = new Map<string, PoolAllocator>();
  readonly refs = new Map<string, number>();
  private readonly root: string;
  private readonly addressPrefixes = new Map<string, string>();

  constructor(
    readonly name: string,
    readonly store: Store,
    readonly templates: readonly PoolTemplate[],
  ) {
    this.root = `ipam/${name}/`;
  }

  get global(): boolean {
    return this.store.scope === 'global';
  }

  indexKey(): string {
    return this.root + 'index';
  }

  poolsPrefix(): string {
    return this.root + 'pools/';
  }

  poolKey(poolId: string): string {
    return this.poolsPrefix() + encodeURIComponent(poolId);
  }

  cursorKey(poolId: string): string {
    return this.root + 'cursor/' + encodeURIComponent(poolId);
  }

  /** Cached: it is built on every allocation. */
  addressPrefix(poolId: string): string {
    let prefix = this.addressPrefixes.get(poolId);
    if (prefix === undefined) this.addressPrefixes.set(poolId, (prefix = `${this.root}addrs/${encodeURIComponent(poolId)}/`));
    return prefix;
  }

  addressKey(poolId: string, ip: string): string {
    return this.addressPrefix(poolId) + ip;
  }

  cursorRecord(offset: bigint | undefined): Buffer {
    return json({ offset: offset === undefined ? '' : offset.toString() } satisfies CursorRecord);
  }

  /** Brings the pool set in line with the store; pools that stay keep their allocation state. */
  async loadPools(): Promise<void> {
    const entries = await this.store.list(this.poolsPrefix());
    const seen = new Set<string>();
    const fresh: PoolAllocator[] = [];
    for (const entry of entries) {
      const poolId = decodeURIComponent(entry.key.slice(this.poolsPrefix().length));
      const record = parse<PoolRecord>(entry);
      seen.add(poolId);
      this.refs.set(poolId, record.refs);
      if (!this.pools.has(poolId)) {
        const pool = new PoolAllocator(poolId, parsePrefix(record.pool), record.subPool ? parsePrefix(record.subPool) : undefined);
        this.pools.set(poolId, pool);
        fresh.push(pool);
      }
    }
    for (const poolId of [...this.pools.keys()]) {
      if (!seen.has(poolId)) {
        this.pools.delete(poolId);
        this.refs.delete(poolId);
        this.addressPrefixes.delete(poolId);
      }
    }
    for (const pool of fresh) await this.loadAddresses(pool);
  }

  /**
   * Replaces a pool's allocation state with the store's (other daemons allocate and release
   * too). The store is read first and applied in one synchronous step, so concurrent requests
   * of this process never see a half-loaded pool.
   */
  async loadAddresses(pool: PoolAllocator, keepCursor = false): Promise<void> {
    const [entries, cursor] = await Promise.all([this.store.list(this.addressPrefix(pool.id)), this.store.get(this.cursorKey(pool.id))]);
    const prefixLength = this.addressPrefix(pool.id).length;
    pool.clear();
    let newest: { version: number; offset: bigint | undefined } | undefined;
    if (cursor) {
      const { offset } = parse<CursorRecord>(cursor);
      newest = { version: cursor.version, offset: offset === '' ? undefined : BigInt(offset) };
    }
    for (const entry of entries) {
      const record = parse<AddressRecord>(entry);
      const offset = pool.offsetIn(entry.key.slice(prefixLength));
      pool.take(offset, specialOf(record), false);
      if (record.serial && (!newest || entry.version > newest.version)) newest = { version: entry.version, offset };
    }
    // A refresh after lost races keeps this process's own cursor (it was moved on purpose).
    if (newest && !keepCursor) pool.setCursor(newest.offset);
  }

  private watcher: Watch | undefined;

  /**
   * Watches the space, then loads it (watch first: a change between the two would be missed).
   * A store that cannot be reached now (etcd down at start) is followed from when it answers.
   */
  async follow(): Promise<void> {
    try {
      await this.watch();
      await this.loadPools();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      await this.watcher?.close();
      this.watchLost();
    }
  }

  /**
   * Follows other daemons' changes (global space): their allocations and releases are applied
   * to this view as they happen, so the serial search rarely collides with them, and a pool
   * another daemon released is dropped. The view is a hint: the create-only write decides.
   */
  async watch(): Promise<void> {
    await this.watcher?.close();
    this.watcher = await this.store.watch(
      this.root,
      (event) => this.apply(event),
      () => this.watchLost(),
    );
  }

  private closed = false;
  private rewatchTimer: NodeJS.Timeout | undefined;

  /**
   * The backend ended the watch for good: events may have been missed. Watch again, then
   * re-read the pools and their addresses (in that order, so nothing falls in between);
   * retried with a bounded backoff until it works or the IPAM is closed.
   */
  private watchLost(): void {
    this.watcher = undefined;
    const attempt = async (delay: number): Promise<void> => {
      this.rewatchTimer = undefined;
      if (this.closed) return;
      try {
        await this.watch();
        await this.loadPools();
        for (const pool of [...this.pools.values()]) await this.loadAddresses(pool, true);
      } catch {
        if (this.closed) return;
        this.rewatchTimer = setTimeout(() => void attempt(Math.min(delay * 2, 5_000)), delay);
        this.rewatchTimer.unref();
      }
    };
    void attempt(100);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.rewatchTimer) clearTimeout(this.rewatchTimer);
    await this.watcher?.close();
    this.watcher = undefined;
  }

  private apply(event: WatchEvent): void {
    const key = event.type === 'put' ? event.entry.key : event.key;
    const rest = key.slice(this.root.length);
    if (rest.startsWith('pools/')) {
      // Pools another daemon creates are loaded when first used. A delete may be a stale event
      // of an earlier incarnation: the store confirms before this view drops the pool.
      if (event.type !== 'delete') return;
      const poolId = decodeURIComponent(rest.slice('pools/'.length));
      const pool = this.pools.get(poolId);
      if (!pool) return;
      void this.store.get(key).then(
        (entry) => {
          if (!entry && this.pools.get(poolId) === pool) {
            this.pools.delete(poolId);
            this.refs.delete(poolId);
          }
        },
        () => undefined, // the next pool operation re-reads the pool set anyway
      );
      return;
    }
    if (!rest.startsWith('addrs/')) return;
    const slash = rest.indexOf('/', 'addrs/'.length);
    const pool = this.pools.get(decodeURIComponent(rest.slice('addrs/'.length, slash)));
    if (!pool) return;
    let offset: bigint;
    try {
      offset = pool.offsetIn(rest.slice(slash + 1));
    } catch {
      return; // not an address of this pool: not ours to interpret
    }
    if (event.type === 'put') {
      if (!pool.isAllocated(offset)) pool.take(offset, specialOf(parse<AddressRecord>(event.entry)), false);
    } else if (!pool.isWriting(offset)) pool.release(offset);
  }

  /** Address keys of a pool as the store holds them now. */
  async addressEntries(poolId: string): Promise<Entry[]> {
    return this.store.list(this.addressPrefix(poolId));
  }

  poolRecord(pool: PoolAllocator | { prefix: Parameters<typeof formatPrefix>[0]; subPool: Parameters<typeof formatPrefix>[0] | undefined }, refs: number): Buffer {
    return json({ pool: formatPrefix(pool.prefix), ...(pool.subPool ? { subPool: formatPrefix(pool.subPool) } : {}), refs } satisfies PoolRecord);
  }
}

export const parseAddressRecord = (entry: Entry): AddressRecord => parse<AddressRecord>(entry);
