// An endpoint's addresses: asked of its network's IPAM driver, and after a crash made to agree
// with what that driver holds.
import type { Logger } from '../util/logger';
import { addressOf, InvalidAddressError, ipToBigInt, parsePrefix, prefixContains } from '../ip/address';
import { LOCAL_SPACE, type IpamDriver } from '../ipam';
import type { Rollback } from '../util/rollback';
import type { EndpointAddress, EndpointRecord } from './endpoint-record';
import { InvalidParameterError } from './errors';
import type { NetworkRecord, PoolAllocation } from './network-record';

/**
 * An address of one family: the given one from the pool that holds it, else the next free one of
 * the first pool with room; undefined when the network has no pool of that family, or its IPAM
 * hands out no addresses. Registered with `rollback` for release.
 */
export async function allocateAddress(ipam: IpamDriver, network: NetworkRecord, v6: boolean, ip: string | undefined, rollback: Rollback): Promise<EndpointAddress | undefined> {
  const pools = network.allocations.filter((a) => a.v6 === v6);
  if (pools.length === 0) return undefined;
  const candidates = ip === undefined ? pools : pools.filter((a) => contains(a, ip));
  if (candidates.length === 0) throw new InvalidParameterError(`invalid address ${ip}: it does not belong to any of network ${network.name}'s subnets (${pools.map((a) => a.pool).join(', ')})`);
  let lastError: unknown;
  for (const pool of candidates) {
    try {
      const address = await ipam.requestAddress(pool.poolId, ip);
      if (address === undefined) return undefined;
      rollback.push(`releasing address ${address}`, () => ipam.releaseAddress(pool.poolId, address));
      return { poolId: pool.poolId, address };
    } catch (error) {
      lastError = error;
      if (ip !== undefined) break;
    }
  }
  throw lastError;
}

function contains(allocation: PoolAllocation, ip: string): boolean {
  try {
    const { version, value } = ipToBigInt(ip);
    return prefixContains(parsePrefix(allocation.pool), version, value);
  } catch (error) {
    if (error instanceof InvalidAddressError) return false;
    throw error;
  }
}

/**
 * Makes each IPAM that can tell what it holds agree with the endpoints in the local address
 * space: an address no endpoint holds is released (a crash between allocating it and recording
 * the endpoint), and one an endpoint holds but the IPAM does not is taken again, so it is never
 * handed out twice.
 */
export async function reconcileAddresses(endpoints: Iterable<EndpointRecord>, networks: readonly NetworkRecord[], ipamOf: (network: NetworkRecord) => IpamDriver | undefined, log: Logger): Promise<void> {
  const held = new Map<string, Set<string>>();
  for (const endpoint of endpoints) {
    for (const address of [endpoint.ipv4, endpoint.ipv6]) {
      if (!address) continue;
      if (!held.has(address.poolId)) held.set(address.poolId, new Set());
      held.get(address.poolId)!.add(addressOf(address.address));
    }
  }
  const pools = new Map<string, IpamDriver>();
  for (const network of networks) {
    const ipam = ipamOf(network);
    for (const allocation of network.allocations) if (ipam?.inventory && allocation.addressSpace === LOCAL_SPACE) pools.set(allocation.poolId, ipam);
  }
  for (const [poolId, ipam] of pools) {
    const wanted = held.get(poolId) ?? new Set<string>();
    const allocated = new Set(await ipam.inventory!.endpointAddresses(poolId));
    for (const address of allocated) {
      if (wanted.has(address)) continue;
      log.warn({ pool: poolId, address }, 'address of no endpoint (left by a crash): releasing it');
      await ipam.releaseAddress(poolId, address);
    }
    for (const address of wanted) {
      if (allocated.has(address)) continue;
      log.warn({ pool: poolId, address }, 'endpoint address the IPAM had released (left by a crash): taking it again');
      await ipam.requestAddress(poolId, address).catch((error: unknown) => log.error({ err: error, pool: poolId, address }, 'could not take the address again'));
    }
  }
}
