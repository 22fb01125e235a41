// The IPAM facade, shaped like libnetwork's ipamapi contract (RequestPool, ReleasePool,
// RequestAddress, ReleaseAddress) so the Docker IPAM plugin protocol maps onto it 1:1.
//
// Persistence: a pool is one key, each allocated address its own key written create-only.
// Writes are O(1) per allocation, IPv6 stays sparse, and two daemons sharing etcd cannot both
// win an address: the loser's create fails, it marks the address taken and tries the next.
// Pool changes also bump a per-space index key under compare-and-swap, which serialises pool
// creation across daemons. The serial cursor is not stored: on load it is the endpoint address
// with the highest store version, i.e. the last one handed out.
import { formatPrefix, InvalidAddressError, parsePrefix, type Prefix, prefixesOverlap, prefixWithin } from '../ip/address';
import { CasConflictError, type Entry, type Op, type Store } from '../store';
import { candidatePools, GLOBAL_DEFAULT_POOLS, LOCAL_DEFAULT_POOLS, type PoolTemplate } from './defaults';
import { AddressNotAllocatedError, InvalidRequestError, IpamError, NoDefaultPoolError, PoolExhaustedError, PoolInUseError, PoolOverlapError, UnknownPoolError } from './errors';
import { type AddressRole, Pool } from './pool';

export const LOCAL_SPACE = 'LocalDefault';
export const GLOBAL_SPACE = 'GlobalDefault';
export type AddressSpace = typeof LOCAL_SPACE | typeof GLOBAL_SPACE;

export interface PoolRequest {
  addressSpace: AddressSpace;
  /** A static subnet; omitted: the next free default pool. */
  pool?: string;
  /** --ip-range: limits dynamic allocation; needs `pool`. */
  subPool?: string;
  v6?: boolean;
  /** Prefixes a dynamic pool must not overlap: the host's routes and the caller's exclusions. */
  exclude?: string[];
}

export interface PoolResponse {
  poolId: string;
  /** The pool's subnet, e.g. 172.18.0.0/16. */
  pool: string;
  meta: Record<string, string>;
}

export interface AddressOptions {
  /** Default 'endpoint'. A gateway takes the lowest free address rather than the serial next. */
  role?: AddressRole;
}

export interface IpamOptions {
  local: Store;
  global?: Store;
  /** Replaces Docker's default local pools (--default-address-pool). */
  localPools?: readonly PoolTemplate[];
  globalPools?: readonly PoolTemplate[];
}

interface PoolRecord {
  pool: string;
  subPool?: string;
  refs: number;
}

interface AddressRecord {
  role: AddressRole;
}

/** Attempts before a contended write gives up; each attempt re-reads the store. */
const MAX_ATTEMPTS = 64;

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
/** The stored record of each role, encoded once: every allocation writes one of them. */
const ROLE_RECORDS: Record<AddressRole, Buffer> = { endpoint: json({ role: 'endpoint' }), gateway: json({ role: 'gateway' }), aux: json({ role: 'aux' }) };
const parse = <T>(entry: Entry): T => JSON.parse(entry.value.toString('utf8')) as T;

class Space {
  readonly pools = new Map<string, Pool>();
  readonly refs = new Map<string, number>();

  constructor(
    readonly name: AddressSpace,
    readonly store: Store,
    readonly templates: readonly PoolTemplate[],
  ) {}

  key = (...parts: string[]): string => ['ipam', this.name, ...parts].join('/');
  poolKey = (poolId: string): string => this.key('pools', encodeURIComponent(poolId));
  private readonly addressPrefixes = new Map<string, string>();
  addressPrefix = (poolId: string): string => {
    let prefix = this.addressPrefixes.get(poolId);
    if (prefix === undefined) this.addressPrefixes.set(poolId, (prefix = this.key('addrs', encodeURIComponent(poolId)) + '/'));
    return prefix;
  };
  addressKey = (poolId: string, ip: string): string => this.addressPrefix(poolId) + ip;
  indexKey = (): string => this.key('index');

  /** Re-reads the pool set (other daemons may have changed it); keeps the allocation state of pools that stay. */
  async loadPools(): Promise<void> {
    const entries = await this.store.list(this.key('pools') + '/');
    const seen = new Set<string>();
    for (const entry of entries) {
      const poolId = decodeURIComponent(entry.key.slice(this.key('pools').length + 1));
      const record = parse<PoolRecord>(entry);
      seen.add(poolId);
      this.refs.set(poolId, record.refs);
      if (!this.pools.has(poolId)) {
        const pool = new Pool(poolId, parsePrefix(record.pool), record.subPool ? parsePrefix(record.subPool) : undefined);
        this.pools.set(poolId, pool);
        await this.loadAddresses(pool);
      }
    }
    for (const poolId of [...this.pools.keys()]) {
      if (!seen.has(poolId)) {
        this.pools.delete(poolId);
        this.refs.delete(poolId);
      }
    }
  }

  /** Replaces a pool's in-memory state with what the store holds now. */
  async reloadPool(poolId: string): Promise<Pool> {
    const old = this.pools.get(poolId);
    if (!old) throw new UnknownPoolError(poolId);
    const fresh = new Pool(poolId, old.prefix, old.subPool);
    await this.loadAddresses(fresh);
    this.pools.set(poolId, fresh);
    return fresh;
  }

  /** Loads a pool's allocated addresses; the cursor is the newest endpoint address. */
  async loadAddresses(pool: Pool): Promise<void> {
    const entries = await this.store.list(this.addressPrefix(pool.id));
    let newest: { version: number; offset: bigint } | undefined;
    for (const entry of entries) {
      const ip = entry.key.slice(this.addressPrefix(pool.id).length);
      const { role } = parse<AddressRecord>(entry);
      const offset = pool.offset(ip);
      if (pool.isAllocated(offset)) continue;
      pool.mark(offset, role, false);
      if (role === 'endpoint' && (!newest || entry.version > newest.version)) newest = { version: entry.version, offset };
    }
    if (newest) pool.mark(newest.offset, 'endpoint', true);
  }
}

function poolIdOf(space: AddressSpace, pool: Prefix, subPool: Prefix | undefined): string {
  return `${space}/${formatPrefix(pool)}${subPool ? `/${formatPrefix(subPool)}` : ''}`;
}

function prefixArgument(text: string, what: string): Prefix {
  try {
    return parsePrefix(text);
  } catch (error) {
    if (error instanceof InvalidAddressError) throw new InvalidRequestError(`invalid ${what} "${text}": ${error.rule}`);
    throw error;
  }
}

export class Ipam {
  private readonly spaces = new Map<AddressSpace, Space>();

  private constructor(options: IpamOptions) {
    this.spaces.set(LOCAL_SPACE, new Space(LOCAL_SPACE, options.local, options.localPools ?? LOCAL_DEFAULT_POOLS));
    if (options.global) this.spaces.set(GLOBAL_SPACE, new Space(GLOBAL_SPACE, options.global, options.globalPools ?? GLOBAL_DEFAULT_POOLS));
  }

  /** Opens the allocator and loads its state from the stores. */
  static async open(options: IpamOptions): Promise<Ipam> {
    const ipam = new Ipam(options);
    for (const space of ipam.spaces.values()) await space.loadPools();
    return ipam;
  }

  getDefaultAddressSpaces(): { localDefaultAddressSpace: string; globalDefaultAddressSpace: string } {
    return { localDefaultAddressSpace: LOCAL_SPACE, globalDefaultAddressSpace: GLOBAL_SPACE };
  }

  async requestPool(request: PoolRequest): Promise<PoolResponse> {
    const space = this.space(request.addressSpace);
    const pool = request.pool !== undefined ? prefixArgument(request.pool, 'subnet') : undefined;
    if (request.subPool !== undefined && !pool) throw new InvalidRequestError(`an IP range (${request.subPool}) needs a subnet to lie in: pass the subnet too`);
    const subPool = request.subPool !== undefined ? prefixArgument(request.subPool, 'IP range') : undefined;
    if (pool && subPool && !prefixWithin(subPool, pool)) throw new InvalidRequestError(`IP range ${request.subPool} is not inside subnet ${formatPrefix(pool)}; pick a range of that subnet`);
    if (pool && request.v6 !== undefined && (pool.version === 6) !== request.v6) {
      throw new InvalidRequestError(`subnet ${formatPrefix(pool)} is not an IPv${request.v6 ? 6 : 4} subnet`);
    }
    const exclude = (request.exclude ?? []).map((e) => prefixArgument(e, 'excluded prefix'));

    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const index = await space.store.get(space.indexKey());
      await space.loadPools();
      const chosen = pool ?? this.nextDefaultPool(space, request.v6 ? 6 : 4, exclude);
      const poolId = poolIdOf(space.name, chosen, pool ? subPool : undefined);
      const existing = space.pools.get(poolId);
      if (pool && !existing) {
        for (const other of space.pools.values()) {
          if (prefixesOverlap(other.prefix, chosen)) throw new PoolOverlapError(formatPrefix(chosen), formatPrefix(other.prefix), space.name);
        }
      }
      const refs = (space.refs.get(poolId) ?? 0) + 1;
      const record: PoolRecord = { pool: formatPrefix(chosen), ...(subPool && pool ? { subPool: formatPrefix(subPool) } : {}), refs };
      try {
        await space.store.commit([
          { type: 'put', key: space.indexKey(), value: json({}), expectVersion: index?.version ?? 0 },
          { type: 'put', key: space.poolKey(poolId), value: json(record) },
        ]);
      } catch (error) {
        if (error instanceof CasConflictError) continue; // another daemon changed the pools: look again
        throw error;
      }
      space.refs.set(poolId, refs);
      if (!existing) space.pools.set(poolId, new Pool(poolId, chosen, record.subPool ? subPool : undefined));
      return { poolId, pool: formatPrefix(chosen), meta: {} };
    }
    throw new IpamError(`could not allocate a pool in ${space.name}: the store kept changing under ${MAX_ATTEMPTS} attempts; retry`);
  }

  /** Drops one reference; the last one removes the pool, refused while endpoints hold addresses unless `force`. */
  async releasePool(poolId: string, options: { force?: boolean } = {}): Promise<void> {
    const space = this.spaceOfPool(poolId);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const index = await space.store.get(space.indexKey());
      await space.loadPools();
      const pool = space.pools.get(poolId);
      if (!pool) throw new UnknownPoolError(poolId);
      await space.loadAddresses(pool);
      const refs = space.refs.get(poolId) ?? 1;
      const guard: Op = { type: 'put', key: space.indexKey(), value: json({}), expectVersion: index?.version ?? 0 };
      const ops: Op[] = [guard];
      if (refs > 1) {
        const record: PoolRecord = { pool: formatPrefix(pool.prefix), ...(pool.subPool ? { subPool: formatPrefix(pool.subPool) } : {}), refs: refs - 1 };
        ops.push({ type: 'put', key: space.poolKey(poolId), value: json(record) });
      } else {
        if (pool.endpointCount > 0 && !options.force) throw new PoolInUseError(poolId, pool.endpointCount);
        ops.push({ type: 'delete', key: space.poolKey(poolId) });
        for (const entry of await space.store.list(space.addressPrefix(poolId))) ops.push({ type: 'delete', key: entry.key });
      }
      try {
        await space.store.commit(ops);
      } catch (error) {
        if (error instanceof CasConflictError) continue;
        throw error;
      }
      if (refs > 1) space.refs.set(poolId, refs - 1);
      else {
        space.pools.delete(poolId);
        space.refs.delete(poolId);
      }
      return;
    }
    throw new IpamError(`could not release pool ${poolId}: the store kept changing under ${MAX_ATTEMPTS} attempts; retry`);
  }

  /** Allocates `ip`, or the next free address; returns it with the pool's prefix length ("10.0.0.5/24"). */
  async requestAddress(poolId: string, ip?: string, options: AddressOptions = {}): Promise<string> {
    const role = options.role ?? 'endpoint';
    if (role !== 'endpoint' && role !== 'gateway' && role !== 'aux') throw new InvalidRequestError(`invalid address role "${String(role)}": use endpoint, gateway or aux`);
    const space = this.spaceOfPool(poolId);
    let pool = await this.pool(space, poolId);
    let resynced = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let offset: bigint;
      try {
        offset = ip !== undefined ? pool.offsetOf(ip, role === 'gateway' ? 'gateway' : role === 'aux' ? 'auxiliary address' : 'address') : pool.nextFree(role);
      } catch (error) {
        // In the global space our view may hold addresses other daemons have released since.
        if (!(error instanceof PoolExhaustedError) || space.store.scope !== 'global' || resynced) throw error;
        pool = await space.reloadPool(poolId);
        resynced = true;
        continue;
      }
      try {
        await space.store.put(space.addressKey(poolId, pool.address(offset)), ROLE_RECORDS[role], 0);
      } catch (error) {
        if (!(error instanceof CasConflictError)) throw error;
        // Another daemon took it first: it is taken, and searching on from here would race that
        // daemon again, so continue from a random point of the range.
        pool.mark(offset, 'endpoint', false);
        pool.jumpCursor();
        continue;
      }
      pool.mark(offset, role, ip === undefined && role === 'endpoint');
      return pool.cidr(offset);
    }
    throw new IpamError(`could not allocate an address in ${poolId}: ${MAX_ATTEMPTS} candidates were taken by other daemons first; retry`);
  }

  async releaseAddress(poolId: string, ip: string): Promise<void> {
    const space = this.spaceOfPool(poolId);
    const pool = await this.pool(space, poolId);
    const address = ip.split('/')[0]!;
    let offset: bigint;
    try {
      offset = pool.offset(address);
    } catch {
      throw new InvalidRequestError(`invalid address "${ip}": not an IP address`);
    }
    const key = space.addressKey(poolId, pool.address(offset));
    if (!pool.isAllocated(offset) && !(await space.store.get(key))) throw new AddressNotAllocatedError(address, poolId);
    await space.store.delete(key);
    pool.unmark(offset);
  }

  /** Addresses in use in a pool (every role). */
  async inUse(poolId: string): Promise<number> {
    return (await this.pool(this.spaceOfPool(poolId), poolId)).inUse;
  }

  private space(name: string): Space {
    const space = this.spaces.get(name as AddressSpace);
    if (!space) {
      throw new InvalidRequestError(
        name === GLOBAL_SPACE ? `address space ${GLOBAL_SPACE} needs a global store (etcd); start the daemon with one` : `unknown address space "${name}": use ${LOCAL_SPACE} or ${GLOBAL_SPACE}`,
      );
    }
    return space;
  }

  private spaceOfPool(poolId: string): Space {
    if (typeof poolId !== 'string') throw new UnknownPoolError(String(poolId));
    const name = poolId.slice(0, poolId.indexOf('/'));
    if (!this.spaces.has(name as AddressSpace)) throw new UnknownPoolError(poolId);
    return this.space(name);
  }

  /** A pool by ID; one another daemon created is loaded from the store. */
  private async pool(space: Space, poolId: string): Promise<Pool> {
    let pool = space.pools.get(poolId);
    if (!pool && space.store.scope === 'global') {
      await space.loadPools();
      pool = space.pools.get(poolId);
    }
    if (!pool) throw new UnknownPoolError(poolId);
    return pool;
  }

  private nextDefaultPool(space: Space, version: 4 | 6, exclude: Prefix[]): Prefix {
    const taken = [...[...space.pools.values()].map((p) => p.prefix), ...exclude];
    for (const candidate of candidatePools(space.templates, version)) {
      if (!taken.some((t) => prefixesOverlap(t, candidate))) return candidate;
    }
    throw new NoDefaultPoolError(version);
  }
}
