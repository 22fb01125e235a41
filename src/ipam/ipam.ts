// The IPAM facade, shaped like libnetwork's ipamapi contract (GetDefaultAddressSpaces,
// RequestPool, ReleasePool, RequestAddress, ReleaseAddress), so the Docker IPAM plugin
// protocol server and the remote IPAM driver map onto it 1:1. Store layout and the reasons
// for it: see space.ts.
//
// Every operation validates fully before it changes anything; an address is reserved in
// memory synchronously, then persisted, and the reservation is undone if persisting fails.
// So a thrown error means no change, in memory or in the store.
import { formatPrefix, type Prefix, prefixWithin } from '../ip/address';
import { CasConflictError } from '../store/errors';
import type { Op, Store } from '../store/types';
import { type AddressRole, PoolAllocator, type SpecialAddress } from './allocator';
import { GLOBAL_DEFAULT_POOLS, LOCAL_DEFAULT_POOLS, type PoolTemplate } from './defaults';
import {
  AddressInUseError,
  AddressNotAllocatedError,
  AuxNameInUseError,
  InvalidRequestError,
  IpamContentionError,
  IpRangeError,
  NoDefaultPoolError,
  PoolExhaustedError,
  PoolInUseError,
  PoolOverlapError,
  PrefixTooSmallError,
  UnknownAddressSpaceError,
  UnknownPoolError,
} from './errors';
import { cidrArgument } from './input';
import type { IpamCapabilities, IpamDriver, IpamInventory, IpamSpares } from './driver';
import { findOverlap, nextDefaultPool } from './pools';
import { addressRecord, parseAddressRecord, Space } from './space';

export const LOCAL_SPACE = 'LocalDefault';
export const GLOBAL_SPACE = 'GlobalDefault';
export type AddressSpace = typeof LOCAL_SPACE | typeof GLOBAL_SPACE;

/** ipamapi's RequestAddress option naming what the address is for. */
export const REQUEST_ADDRESS_TYPE = 'RequestAddressType';
/** Its value for a network's gateway: the lowest free address rather than the serial next. */
export const GATEWAY_ADDRESS_TYPE = 'com.docker.network.gateway';
/** libnetwork's RequestAddress option carrying the endpoint's MAC, for IPAMs that require it. */
export const MAC_ADDRESS_OPTION = 'com.docker.network.endpoint.macaddress';
/**
 * libnetwork's RequestAddress option: 'false' hands out the lowest free address, as dockerd does
 * on local networks (a restarted container gets its address back); netctl's default is serial.
 */
export const SERIAL_ALLOCATION_OPTION = 'com.docker.network.ipam.serial';
/** netctl's option naming an aux address (--aux-address NAME=IP); the address must be given. */
export const AUX_ADDRESS_NAME = 'com.netctl.ipam.aux-address-name';
/**
 * netctl's option naming the host a dynamic address is a spare of: recorded as that host's spare,
 * not an endpoint's (see IpamSpares).
 */
export const SPARE_HOLDER_OPTION = 'com.netctl.ipam.spare-of';
/**
 * netctl's RequestPool option ('true'): a pool identical to one in use is refused like any other
 * overlap instead of shared, so networks of two hosts never end up on one subnet.
 */
export const EXCLUSIVE_POOL_OPTION = 'com.netctl.ipam.exclusive-pool';

/** Options of RequestPool / RequestAddress: a string map, as on the plugin protocol. */
export type IpamRequestOptions = Readonly<Record<string, string>>;

export interface PoolRequest {
  addressSpace: string;
  /** A static subnet; omitted: the next free default pool. */
  pool?: string;
  /** --ip-range: limits dynamic allocation; needs `pool`. */
  subPool?: string;
  options?: IpamRequestOptions;
  /**
   * Prefixes a dynamic pool must not overlap: the host's routes and the caller's exclusions
   * (the caller reads the routes; the IPAM does no I/O of its own but the store's).
   */
  exclude?: readonly string[];
  v6?: boolean;
}

export interface PoolResponse {
  /** Opaque: "LocalDefault/172.18.0.0/16" or ".../172.18.5.0/24" with a sub-pool. */
  poolId: string;
  /** The pool's subnet, e.g. 172.18.0.0/16. */
  pool: string;
  meta: Record<string, string>;
}

export interface IpamOptions {
  local: Store;
  /** The global store (etcd); without it the GlobalDefault space is unavailable. */
  global?: Store;
  /** Replaces Docker's default local pools (--default-address-pool, see parseDefaultAddressPool). */
  localPools?: readonly PoolTemplate[];
  globalPools?: readonly PoolTemplate[];
}

/** Attempts of a contended operation before it gives up; each attempt re-reads the store. */
const MAX_ATTEMPTS = 64;
/** Lost address races in one request after which the pool's view is re-read from the store. */
const RESYNC_AFTER_CONFLICTS = 4;

interface Intent {
  role: AddressRole;
  special: SpecialAddress | undefined;
  what: string;
}

function intentOf(options: IpamRequestOptions, ip: string | undefined): Intent {
  if (options === null || typeof options !== 'object') throw new InvalidRequestError('address request options must be a map of strings');
  const auxName = options[AUX_ADDRESS_NAME];
  if (options[REQUEST_ADDRESS_TYPE] === GATEWAY_ADDRESS_TYPE) {
    if (auxName !== undefined) throw new InvalidRequestError(`an address cannot be both the gateway and aux address "${auxName}"; request them separately`);
    return { role: 'gateway', special: { role: 'gateway' }, what: 'gateway' };
  }
  const holder = options[SPARE_HOLDER_OPTION];
  if (holder !== undefined) {
    if (typeof holder !== 'string' || holder === '' || auxName !== undefined || ip !== undefined) throw new InvalidRequestError('a spare address is dynamic and needs the name of the host holding it, and nothing else');
    return { role: 'spare', special: { role: 'spare', name: holder }, what: `spare address of ${holder}` };
  }
  if (auxName !== undefined) {
    if (typeof auxName !== 'string' || auxName === '') throw new InvalidRequestError(`aux address name ${JSON.stringify(auxName)} must be a non-empty string`);
    if (ip === undefined) throw new InvalidRequestError(`aux address "${auxName}" needs its address: pass NAME=IP`);
    return { role: 'aux', special: { role: 'aux', name: auxName }, what: `aux address "${auxName}"` };
  }
  return { role: 'endpoint', special: undefined, what: 'address' };
}

export class Ipam implements IpamDriver, IpamInventory, IpamSpares {
  readonly name = 'default';
  readonly capabilities: IpamCapabilities = { requiresMacAddress: false, requiresRequestReplay: false };
  private readonly spaces = new Map<string, Space>();

  private constructor(options: IpamOptions) {
    this.spaces.set(LOCAL_SPACE, new Space(LOCAL_SPACE, options.local, options.localPools ?? LOCAL_DEFAULT_POOLS));
    if (options.global) this.spaces.set(GLOBAL_SPACE, new Space(GLOBAL_SPACE, options.global, options.globalPools ?? GLOBAL_DEFAULT_POOLS));
  }

  /** Opens the allocator and loads its state (pools, addresses, cursors) from the stores. */
  static async open(options: IpamOptions): Promise<Ipam> {
    const ipam = new Ipam(options);
    for (const space of ipam.spaces.values()) {
      if (space.global) await space.follow();
      else await space.loadPools();
    }
    return ipam;
  }

  /** Stops following the global store (the stores themselves belong to the caller). */
  async close(): Promise<void> {
    for (const space of this.spaces.values()) await space.close();
  }

  /** It tells what it holds (see IpamInventory). */
  get inventory(): IpamInventory {
    return this;
  }

  /** It keeps hosts' spare addresses (see IpamSpares). */
  get spares(): IpamSpares {
    return this;
  }

  async getDefaultAddressSpaces(): Promise<{ localDefaultAddressSpace: string; globalDefaultAddressSpace: string }> {
    return { localDefaultAddressSpace: LOCAL_SPACE, globalDefaultAddressSpace: GLOBAL_SPACE };
  }

  async requestPool(request: PoolRequest): Promise<PoolResponse> {
    const space = this.space(request.addressSpace);
    const pool = request.pool !== undefined ? cidrArgument(request.pool, 'subnet') : undefined;
    if (request.subPool !== undefined && pool === undefined) throw new IpRangeError(request.subPool, undefined);
    const subPool = request.subPool !== undefined ? cidrArgument(request.subPool, 'IP range') : undefined;
    if (pool && subPool && !prefixWithin(subPool, pool)) throw new IpRangeError(request.subPool!, formatPrefix(pool));
    if (pool && request.v6 !== undefined && (pool.version === 6) !== request.v6) {
      throw new InvalidRequestError(`subnet ${formatPrefix(pool)} is not an IPv${request.v6 ? 6 : 4} subnet; pass one of that family or drop the v6 flag`);
    }
    const exclude = (request.exclude ?? []).map((e) => cidrArgument(e, 'excluded prefix'));
    const version: 4 | 6 = pool ? pool.version : request.v6 ? 6 : 4;

    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const index = await space.store.get(space.indexKey());
      await space.loadPools();
      let chosen: Prefix;
      if (pool) chosen = pool;
      else {
        const found = nextDefaultPool(space.templates, version, [...[...space.pools.values()].map((p) => p.prefix), ...exclude]);
        if (!found) throw new NoDefaultPoolError(version);
        chosen = found;
      }
      const range = pool ? subPool : undefined;
      const poolId = poolIdOf(space.name, chosen, range);
      const existing = space.pools.get(poolId);
      if (existing && request.options?.[EXCLUSIVE_POOL_OPTION] === 'true') throw new PoolOverlapError(formatPrefix(chosen), formatPrefix(existing.prefix), space.name);
      if (!existing) {
        // Identical static requests share the pool (ref-counted, as in libnetwork); any other overlap is refused.
        const other = findOverlap(chosen, space.pools.values());
        if (other) throw new PoolOverlapError(formatPrefix(chosen), formatPrefix(other.prefix), space.name);
      }
      const refs = (existing ? (space.refs.get(poolId) ?? 1) : 0) + 1;
      const ops: Op[] = [
        { type: 'put', key: space.indexKey(), value: Buffer.from('{}'), expectVersion: index?.version ?? 0 },
        { type: 'put', key: space.poolKey(poolId), value: space.poolRecord({ prefix: chosen, subPool: range }, refs) },
      ];
      if (!existing) {
        // A racing allocation may have written into a released incarnation of this pool after
        // its release swept it; a new pool starts empty.
        for (const entry of await space.addressEntries(poolId)) ops.push({ type: 'delete', key: entry.key });
        ops.push({ type: 'delete', key: space.cursorKey(poolId) });
      }
      try {
        await space.store.commit(ops);
      } catch (error) {
        if (error instanceof CasConflictError) continue; // the pool set changed (another daemon or request): look again
        throw error;
      }
      space.refs.set(poolId, refs);
      if (!space.pools.has(poolId)) space.pools.set(poolId, new PoolAllocator(poolId, chosen, range));
      return { poolId, pool: formatPrefix(chosen), meta: {} };
    }
    throw new IpamContentionError(`could not allocate a pool in ${space.name}: the pool set kept changing during ${MAX_ATTEMPTS} attempts; retry`);
  }

  /**
   * Drops one reference to a pool; the last one removes it with all its addresses. Refused
   * while endpoint addresses (not the gateway or aux addresses) are in use, unless `force`
   * (network removal, which releases everything anyway).
   */
  async releasePool(poolId: string, options: { force?: boolean } = {}): Promise<void> {
    const space = this.spaceOfPool(poolId);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const index = await space.store.get(space.indexKey());
      await space.loadPools();
      const pool = space.pools.get(poolId);
      if (!pool) throw new UnknownPoolError(poolId);
      const refs = space.refs.get(poolId) ?? 1;
      const ops: Op[] = [{ type: 'put', key: space.indexKey(), value: Buffer.from('{}'), expectVersion: index?.version ?? 0 }];
      if (refs > 1) {
        ops.push({ type: 'put', key: space.poolKey(poolId), value: space.poolRecord(pool, refs - 1) });
      } else {
        // The store, not this process's view, says what is in use (other daemons allocate too).
        const entries = await space.addressEntries(poolId);
        const endpoints = entries.filter((e) => parseAddressRecord(e).role === 'endpoint').length;
        if (endpoints > 0 && !options.force) throw new PoolInUseError(poolId, endpoints);
        ops.push({ type: 'delete', key: space.poolKey(poolId) }, { type: 'delete', key: space.cursorKey(poolId) });
        for (const entry of entries) ops.push({ type: 'delete', key: entry.key });
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
    throw new IpamContentionError(`could not release pool ${poolId}: the pool set kept changing during ${MAX_ATTEMPTS} attempts; retry`);
  }

  /**
   * Allocates `ip`, or the next free address, and returns it with the pool's prefix length
   * ("10.0.0.5/24"). Options: {RequestAddressType: 'com.docker.network.gateway'} for the
   * gateway (explicit, or the lowest free address of the range); {[AUX_ADDRESS_NAME]: name}
   * with `ip` for an aux address. Dynamic endpoint addresses are handed out serially, unless
   * {[SERIAL_ALLOCATION_OPTION]: 'false'} asks for the lowest free one.
   */
  async requestAddress(poolId: string, ip?: string, options: IpamRequestOptions = {}): Promise<string> {
    const intent = intentOf(options, ip);
    const space = this.spaceOfPool(poolId);
    const pool = await this.pool(space, poolId);
    if (intent.role === 'gateway' && pool.singleAddress) {
      throw new PrefixTooSmallError(formatPrefix(pool.prefix), 'its one address cannot be both a gateway and an endpoint; use a /31 (IPv4) or /127 (IPv6) or larger, or no gateway');
    }
    if (intent.role === 'aux') {
      const holder = pool.auxNamed(intent.special!.name!);
      if (holder !== undefined) throw new AuxNameInUseError(intent.special!.name!, pool.address(holder), formatPrefix(pool.prefix));
    }
    const serial = ip === undefined && (intent.role === 'endpoint' || intent.role === 'spare') && options[SERIAL_ALLOCATION_OPTION] !== 'false';
    let resynced = false;
    let conflicts = 0;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let offset: bigint;
      try {
        offset = ip !== undefined ? pool.checkSpecific(ip, intent.what) : pool.nextFree(serial ? 'serial' : 'lowest');
      } catch (error) {
        // In the global space this view may hold addresses other daemons have released since.
        if (!(error instanceof PoolExhaustedError) || !space.global || resynced) throw error;
        await space.loadAddresses(pool, true);
        resynced = true;
        continue;
      }
      // Reserved before the write, so a concurrent request of this process picks another one.
      const taken = pool.take(offset, intent.special, serial);
      const key = space.addressKey(poolId, pool.address(offset));
      pool.writing(offset, intent.special, false);
      try {
        await space.store.put(key, addressRecord(intent.role, intent.special?.name, serial), 0);
      } catch (error) {
        pool.writing(offset, undefined, true);
        pool.undo(taken);
        if (!(error instanceof CasConflictError)) throw error;
        // Another daemon took it first: it is taken. Searching on from the winner's position
        // would race it again and again, so the serial search continues from a random point.
        pool.take(offset, undefined, false);
        if (ip !== undefined) throw new AddressInUseError(ip, formatPrefix(pool.prefix));
        pool.jumpCursor();
        // Repeated losses mean this view is far behind (the other daemon allocated a lot):
        // refresh it from the store rather than discover its allocations one by one.
        if (++conflicts % RESYNC_AFTER_CONFLICTS === 0) await space.loadAddresses(pool, true);
        continue;
      }
      pool.writing(offset, undefined, true);
      if (space.pools.get(poolId) !== pool) {
        // The pool was released while this write was in flight: do not leave an orphan behind.
        await space.store.delete(key);
        throw new UnknownPoolError(poolId);
      }
      return pool.cidr(offset);
    }
    throw new IpamContentionError(`could not allocate an address in ${poolId}: ${MAX_ATTEMPTS} candidates were taken by other daemons first; retry`);
  }

  /** Releases an address ("10.0.0.5" or "10.0.0.5/24") of a pool. */
  async releaseAddress(poolId: string, ip: string): Promise<void> {
    const space = this.spaceOfPool(poolId);
    const pool = await this.pool(space, poolId);
    const address = typeof ip === 'string' ? ip.split('/')[0]! : String(ip);
    const offset = pool.offsetIn(address);
    const key = space.addressKey(poolId, pool.address(offset));
    // Another daemon may hold it (global space): the store decides, not this view.
    if (!pool.isAllocated(offset) && !(await space.store.get(key))) throw new AddressNotAllocatedError(address, poolId);
    // The cursor goes with the release: deleting the last serial address may erase the only
    // evidence of where the serial search stands (see space.ts).
    await space.store.commit([
      { type: 'delete', key },
      { type: 'put', key: space.cursorKey(poolId), value: space.cursorRecord(pool.cursor) },
    ]);
    pool.release(offset);
  }

  /**
   * The endpoint addresses of a pool as the store holds them (plain, no prefix length): not its
   * gateway or aux addresses. For reconciling with the endpoints that should hold them.
   */
  async endpointAddresses(poolId: string): Promise<string[]> {
    const space = this.spaceOfPool(poolId);
    const prefix = space.addressPrefix(poolId);
    return (await space.addressEntries(poolId)).filter((entry) => parseAddressRecord(entry).role === 'endpoint').map((entry) => entry.key.slice(prefix.length));
  }

  async requestSpare(poolId: string, holder: string): Promise<string> {
    return this.requestAddress(poolId, undefined, { [SPARE_HOLDER_OPTION]: holder });
  }

  async sparesOf(poolId: string, holder: string): Promise<string[]> {
    const space = this.spaceOfPool(poolId);
    const prefix = space.addressPrefix(poolId);
    return (await space.addressEntries(poolId))
      .filter((entry) => {
        const record = parseAddressRecord(entry);
        return record.role === 'spare' && record.name === holder;
      })
      .map((entry) => entry.key.slice(prefix.length));
  }

  async claimSpare(poolId: string, ip: string): Promise<void> {
    const space = this.spaceOfPool(poolId);
    const pool = await this.pool(space, poolId);
    const offset = pool.offsetIn(ip.split('/')[0]!);
    const key = space.addressKey(poolId, pool.address(offset));
    const entry = await space.store.get(key);
    if (entry && parseAddressRecord(entry).role === 'endpoint') return;
    // Gone (released with a pool of an earlier incarnation, say): taken again, create-only.
    await space.store.put(key, addressRecord('endpoint', undefined, false), entry?.version ?? 0);
    pool.take(offset, undefined, false);
  }

  /** Addresses in use in a pool, every role (this process's view). */
  async inUse(poolId: string): Promise<number> {
    return (await this.pool(this.spaceOfPool(poolId), poolId)).inUse;
  }

  /** The pool IDs of a space, as this process knows them. */
  poolIds(addressSpace: string): string[] {
    return [...this.space(addressSpace).pools.keys()];
  }

  private space(name: string): Space {
    const space = this.spaces.get(name);
    if (!space) {
      throw new UnknownAddressSpaceError(
        String(name),
        name === GLOBAL_SPACE ? 'it needs a global store (etcd); start the daemon with one' : `use ${LOCAL_SPACE} or ${GLOBAL_SPACE}`,
      );
    }
    return space;
  }

  private spaceOfPool(poolId: string): Space {
    if (typeof poolId !== 'string') throw new UnknownPoolError(String(poolId));
    const space = this.spaces.get(poolId.slice(0, poolId.indexOf('/')));
    if (!space) throw new UnknownPoolError(poolId);
    return space;
  }

  /** A pool by ID; in the global space one another daemon created is loaded from the store. */
  private async pool(space: Space, poolId: string): Promise<PoolAllocator> {
    let pool = space.pools.get(poolId);
    if (!pool && space.global) {
      await space.loadPools();
      pool = space.pools.get(poolId);
    }
    if (!pool) throw new UnknownPoolError(poolId);
    return pool;
  }
}

/** libnetwork's format: "<space>/<subnet>" or "<space>/<subnet>/<ip-range>". */
export function poolIdOf(space: string, pool: Prefix, subPool: Prefix | undefined): string {
  return `${space}/${formatPrefix(pool)}${subPool ? `/${formatPrefix(subPool)}` : ''}`;
}
