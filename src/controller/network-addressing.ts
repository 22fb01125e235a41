// A network's pools, gateways and aux addresses, asked of its IPAM driver as one step of the
// network's creation. Two networks on one subnet leave their containers unreachable: a subnet
// another network has (made, or being made at the same moment) is refused, as Docker refuses it.
import { addressOf, formatPrefix } from '../ip/address';
import { unusableRangeIn } from '../ip/ranges';
import { AUX_ADDRESS_NAME, cidrArgument, EXCLUSIVE_POOL_OPTION, isEmptyPool, GATEWAY_ADDRESS_TYPE, type IpamDriver, PoolOverlapError, type PoolRequest, type PoolResponse, REQUEST_ADDRESS_TYPE } from '../ipam';
import type { Rollback } from '../util/rollback';
import { ForbiddenError, InvalidParameterError } from './errors';
import type { IpamConfig, NetworkRecord, PoolAllocation } from './network-record';

const isV6 = (text: string): boolean => text.includes(':');

/** Docker's words for a subnet another network has, then which network and what to do. */
const poolOverlap = (detail: string): ForbiddenError => new ForbiddenError(`Pool overlaps with other one on this address space: ${detail}`);

export interface NetworkAddressingDeps {
  /** The networks made so far. */
  networks(): NetworkRecord[];
  /** Prefixes a dynamic pool must avoid: the host's routes, read when a pool is chosen. */
  hostRoutes(): Promise<string[]>;
}

export class NetworkAddressing {
  /** Pools networks being created hold already (pool ID → network name and subnet). */
  private readonly beingCreated = new Map<string, { network: string; pool: string }>();

  constructor(private readonly deps: NetworkAddressingDeps) {}

  /** Pools, gateways and aux addresses of a new network, each registered for rollback. */
  async allocate(record: NetworkRecord, requested: Array<Partial<IpamConfig>>, ipam: IpamDriver, rollback: Rollback): Promise<PoolAllocation[]> {
    const entries = requested.map((c) => ({ ...c, v6: isV6(c.subnet ?? c.gateway ?? '') }));
    const v6Given = entries.filter((e) => e.v6);
    if (v6Given.length > 0 && !record.enableIPv6) {
      throw new InvalidParameterError(`IPv6 ${v6Given[0]!.subnet !== undefined ? `subnet ${v6Given[0]!.subnet}` : `gateway ${v6Given[0]!.gateway}`} given but IPv6 is not enabled on the network: add --ipv6 (EnableIPv6)`);
    }
    for (const entry of entries) {
      if (entry.subnet === undefined && (entry.ipRange !== undefined || entry.gateway !== undefined || entry.auxAddresses !== undefined)) {
        throw new InvalidParameterError('an IPAM config with a gateway, IP range or aux addresses needs its subnet');
      }
    }
    for (const entry of entries) {
      const unusable = entry.subnet === undefined ? undefined : unusableRangeIn(cidrArgument(entry.subnet, 'subnet'));
      if (unusable) throw new InvalidParameterError(`subnet ${entry.subnet} reaches into ${unusable}, which no network can use; choose a private range such as 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or fd00::/8`);
    }
    if (!entries.some((e) => !e.v6)) entries.unshift({ v6: false });
    if (record.enableIPv6 && v6Given.length === 0) entries.push({ v6: true });
    const needRoutes = entries.some((e) => e.subnet === undefined);
    const exclude = needRoutes ? await this.deps.hostRoutes() : [];

    // The IPAM's own spaces: a global-scope driver's networks live in the global one, shared by every host.
    const spaces = await ipam.getDefaultAddressSpaces();
    const addressSpace = record.scope === 'global' ? spaces.globalDefaultAddressSpace : spaces.localDefaultAddressSpace;
    // A global network's pool is its alone: another host's network on the same subnet is refused, not given a share.
    const poolOptions = record.scope === 'global' ? { ...record.ipam.options, [EXCLUSIVE_POOL_OPTION]: 'true' } : record.ipam.options;
    const options = Object.keys(poolOptions).length > 0 ? { options: poolOptions } : {};
    const allocations: PoolAllocation[] = [];
    for (const entry of entries) {
      const { poolId, pool } = await this.requestPool(
        record.name,
        ipam,
        {
          addressSpace,
          ...options,
          ...(entry.subnet !== undefined ? { pool: entry.subnet } : { exclude }),
          ...(entry.ipRange !== undefined ? { subPool: entry.ipRange } : {}),
          v6: entry.v6,
        },
        rollback,
      );
      const gateway = await ipam.requestAddress(poolId, entry.gateway, { [REQUEST_ADDRESS_TYPE]: GATEWAY_ADDRESS_TYPE });
      // Before its pool goes: an IPAM plugin counts every address it gave.
      if (gateway !== undefined) rollback.push(`releasing gateway ${gateway}`, () => ipam.releaseAddress(poolId, gateway));
      const auxAddresses: Record<string, string> = {};
      for (const [auxName, ip] of Object.entries(entry.auxAddresses ?? {})) {
        const aux = await ipam.requestAddress(poolId, ip, { [AUX_ADDRESS_NAME]: auxName });
        if (aux === undefined) throw new InvalidParameterError(`aux address "${auxName}" needs an IPAM driver that hands out addresses; IPAM driver "${ipam.name}" gives none`);
        rollback.push(`releasing aux address ${aux}`, () => ipam.releaseAddress(poolId, aux));
        auxAddresses[auxName] = aux;
      }
      allocations.push({ poolId, addressSpace, v6: entry.v6, pool, ...(entry.ipRange !== undefined ? { ipRange: entry.ipRange } : {}), ...(gateway !== undefined ? { gateway } : {}), auxAddresses, ...(entry.subnet === undefined ? { dynamic: true as const } : {}) });
    }
    return allocations;
  }

  /** A network's creation is over (made or rolled back): its pools are the store's to tell. */
  settled(network: string): void {
    for (const [poolId, creating] of this.beingCreated) if (creating.network === network) this.beingCreated.delete(poolId);
  }

  /** A pool of a new network, registered for rollback. */
  private async requestPool(network: string, ipam: IpamDriver, request: PoolRequest, rollback: Rollback): Promise<PoolResponse> {
    // Before the IPAM is asked: the default one would give this network a share of the other's
    // pool (it shares an identical static pool between callers, as libnetwork's does for plugins).
    if (request.pool !== undefined) this.refuseHeld(network, formatPrefix(cidrArgument(request.pool, 'subnet')));
    let response: PoolResponse;
    try {
      response = await ipam.requestPool(request);
    } catch (error) {
      if (!(error instanceof PoolOverlapError)) throw error;
      const holder = this.holderOf(error.existing);
      if (holder === network) throw new InvalidParameterError(`subnets ${error.existing} and ${error.requested} overlap; give the network subnets that do not`);
      throw holder ? poolOverlap(`subnet ${error.requested} overlaps ${error.existing} of network ${holder}; choose a subnet that does not overlap`) : error;
    }
    rollback.push(`releasing pool ${response.poolId}`, () => ipam.releasePool(response.poolId));
    // A network created at the same time may have had the same subnet meanwhile.
    this.refuseHeld(network, response.pool);
    this.beingCreated.set(response.poolId, { network, pool: response.pool });
    return response;
  }

  private refuseHeld(network: string, pool: string): void {
    const holder = this.holderOf(pool);
    if (holder === network) throw new InvalidParameterError(`subnet ${pool} is given twice; give it once`);
    if (holder) throw poolOverlap(`subnet ${pool} is network ${holder}'s; choose another subnet, or connect the containers to ${holder}`);
  }

  /** The network, made or being made, whose subnet `pool` is. The null IPAM's pool of everything is no one's. */
  private holderOf(pool: string): string | undefined {
    if (isEmptyPool(pool)) return undefined;
    const made = this.deps.networks().find((n) => n.allocations.some((a) => a.pool === pool));
    if (made) return made.name;
    return [...this.beingCreated.values()].find((creating) => creating.pool === pool)?.network;
  }
}

/** The IPAM config inspect shows: what was allocated, addresses without their prefix length. */
export function configOf(allocation: PoolAllocation): IpamConfig {
  const aux = Object.fromEntries(Object.entries(allocation.auxAddresses).map(([k, v]) => [k, addressOf(v)]));
  return {
    subnet: allocation.pool,
    ...(allocation.ipRange !== undefined ? { ipRange: allocation.ipRange } : {}),
    ...(allocation.gateway !== undefined ? { gateway: addressOf(allocation.gateway) } : {}),
    ...(Object.keys(aux).length > 0 ? { auxAddresses: aux } : {}),
  };
}
