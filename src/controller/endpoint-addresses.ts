// An endpoint's addresses: asked of its network's IPAM driver, completed by what its driver
// proposes, and after a crash made to agree with what the IPAM driver holds.
import type { Logger } from '../util/logger';
import type { EndpointProposal } from '../drivers/driver';
import { addressOf, InvalidAddressError, ipToBigInt, parsePrefix, prefixContains } from '../ip/address';
import type { IpamDriver, IpamRequestOptions } from '../ipam';
import type { Rollback } from '../util/rollback';
import type { EndpointAddress, EndpointRecord } from './endpoint-record';
import { DriverContractError, ForbiddenError, InvalidParameterError } from './errors';
import { MAC } from './mac';
import type { NetworkRecord, PoolAllocation } from './network-record';

/**
 * An address of one family: the given one from the pool that holds it, else the next free one of
 * the first pool with room; undefined when the network has no pool of that family, or its IPAM
 * hands out no addresses. Registered with `rollback` for release.
 */
export async function allocateAddress(ipam: IpamDriver, network: NetworkRecord, v6: boolean, ip: string | undefined, rollback: Rollback, options?: IpamRequestOptions): Promise<EndpointAddress | undefined> {
  const pools = network.allocations.filter((a) => a.v6 === v6);
  if (pools.length === 0) return undefined;
  const candidates = ip === undefined ? pools : pools.filter((a) => contains(a, ip));
  if (candidates.length === 0) throw new InvalidParameterError(`invalid address ${ip}: it does not belong to any of network ${network.name}'s subnets (${pools.map((a) => a.pool).join(', ')})`);
  let lastError: unknown;
  for (const pool of candidates) {
    try {
      const address = await ipam.requestAddress(pool.poolId, ip, options);
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

const FAMILIES = [
  { field: 'ipv4', label: 'IPv4', version: 4, example: '10.0.0.5/24' },
  { field: 'ipv6', label: 'IPv6', version: 6, example: 'fd00::5/64' },
] as const;

/** An interface address in CIDR form ("10.0.0.5/24"), or undefined when `text` is none of that family. */
function interfaceAddress(text: string, version: 4 | 6): { address: bigint; length: number } | undefined {
  try {
    const { version: actual, length } = parsePrefix(text, true);
    return actual === version ? { address: ipToBigInt(addressOf(text)).value, length } : undefined;
  } catch (error) {
    if (error instanceof InvalidAddressError) return undefined;
    throw error;
  }
}

/**
 * Takes what the driver proposed at createEndpoint where the endpoint is still empty: an address
 * the IPAM did not give, a MAC the request did not ask for. Proposing something else than what is
 * there is refused, as libnetwork refuses it; a malformed proposal is the driver's error. A
 * refused proposal changes nothing.
 */
export function acceptProposal(endpoint: EndpointRecord, proposal: EndpointProposal, driver: string, network: Pick<NetworkRecord, 'name' | 'enableIPv6'>): void {
  const malformed = (what: string, value: string, rule: string): DriverContractError => new DriverContractError(`driver "${driver}" proposed "${value}" as the endpoint's ${what}: ${rule}`);
  const accepted: Partial<Record<'ipv4' | 'ipv6', EndpointAddress>> = {};
  for (const { field, label, version, example } of FAMILIES) {
    const proposed = proposal[field];
    if (proposed === undefined) continue;
    const parsed = interfaceAddress(proposed, version);
    if (!parsed) throw malformed(`${label} address`, proposed, `give an ${label} address in CIDR form, such as ${example}`);
    if (version === 6 && !network.enableIPv6) {
      throw new ForbiddenError(`driver "${driver}" proposed the IPv6 address ${proposed} for an endpoint of network ${network.name}, which has no IPv6 (created without --ipv6)`);
    }
    const held = endpoint[field];
    if (!held) {
      accepted[field] = { poolId: '', address: proposed };
      continue;
    }
    const current = interfaceAddress(held.address, version);
    if (current?.address !== parsed.address || current.length !== parsed.length) {
      throw new ForbiddenError(`driver "${driver}" proposed the ${label} address ${proposed} for an endpoint that has ${held.address} from the IPAM: a driver may only fill what the IPAM left empty`);
    }
  }
  const mac = proposal.mac?.toLowerCase();
  if (mac !== undefined && !MAC.test(mac)) throw malformed('MAC address', proposal.mac!, 'give six hex pairs like 02:42:ac:11:00:02');
  if (mac !== undefined && endpoint.mac !== '' && endpoint.mac !== mac) {
    throw new ForbiddenError(`driver "${driver}" proposed the MAC address ${mac} for an endpoint that has ${endpoint.mac} from the request: a driver may only fill what the request left empty`);
  }
  Object.assign(endpoint, accepted);
  if (mac !== undefined) endpoint.mac = mac;
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
  // Only each IPAM's local space, asked once: a global space's addresses are other hosts' too.
  const localSpaces = new Map<IpamDriver, string>();
  for (const network of networks) {
    const ipam = ipamOf(network);
    if (!ipam?.inventory) continue;
    if (!localSpaces.has(ipam)) localSpaces.set(ipam, (await ipam.getDefaultAddressSpaces()).localDefaultAddressSpace);
    for (const allocation of network.allocations) if (allocation.addressSpace === localSpaces.get(ipam)) pools.set(allocation.poolId, ipam);
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
