// The IPAM contract, after libnetwork's ipamapi: what the controller asks of an address manager,
// and nothing else. The default IPAM (ipam.ts) and the null one implement it here; a remote IPAM
// plugin is one more implementation behind it.
import type { IpamRequestOptions, PoolRequest, PoolResponse } from './ipam';

export interface IpamCapabilities {
  /** The IPAM wants the endpoint's MAC with each address request (com.docker.network.endpoint.macaddress). */
  requiresMacAddress: boolean;
  /** The IPAM keeps no state: the core asks again for each network's pools and gateways at start. */
  requiresRequestReplay: boolean;
}

export interface IpamDriver {
  /** The name users pass to `--ipam-driver` ("default"). */
  readonly name: string;
  readonly capabilities: IpamCapabilities;
  getDefaultAddressSpaces(): Promise<{ localDefaultAddressSpace: string; globalDefaultAddressSpace: string }>;
  requestPool(request: PoolRequest): Promise<PoolResponse>;
  releasePool(poolId: string): Promise<void>;
  /** The address in CIDR form ("10.0.0.5/24"), or undefined from an IPAM that hands out none (null). */
  requestAddress(poolId: string, ip?: string, options?: IpamRequestOptions): Promise<string | undefined>;
  releaseAddress(poolId: string, ip: string): Promise<void>;
  /** What the IPAM holds, when it can tell: the core reconciles it with its endpoints after a crash. */
  readonly inventory?: IpamInventory;
  /** Spare addresses hosts hold for joins while the cluster store is unreachable, when the IPAM keeps them. */
  readonly spares?: IpamSpares;
}

/**
 * Addresses a host takes ahead, recorded in the store as its spares (not endpoints': a pool with
 * only spares is not in use, and they go with it), for joins while the store cannot be written.
 */
export interface IpamSpares {
  /** A dynamic address recorded as a spare of `holder`, in CIDR form. */
  requestSpare(poolId: string, holder: string): Promise<string>;
  /** The spares of `holder` in a pool as the store has them (plain addresses). */
  sparesOf(poolId: string, holder: string): Promise<string[]>;
  /** A spare an endpoint took becomes an endpoint's address in the store (taken again if it went). */
  claimSpare(poolId: string, ip: string): Promise<void>;
}

export interface IpamInventory {
  /** The pool IDs of an address space. */
  poolIds(addressSpace: string): string[];
  /** The endpoint addresses of a pool (plain, no prefix length): not its gateway or aux addresses. */
  endpointAddresses(poolId: string): Promise<string[]>;
}

/** The pool a null IPAM gives (everything): no addresses come from it. */
export const isEmptyPool = (pool: string): boolean => pool === '0.0.0.0/0' || pool === '::/0';

/**
 * libnetwork's null IPAM: a pool of everything and no addresses, for networks that take none.
 * Drivers that need addresses refuse its pool ("ipv4 pool is empty", as Docker's do).
 */
export class NullIpam implements IpamDriver {
  readonly name = 'null';
  readonly capabilities: IpamCapabilities = { requiresMacAddress: false, requiresRequestReplay: false };

  async getDefaultAddressSpaces(): Promise<{ localDefaultAddressSpace: string; globalDefaultAddressSpace: string }> {
    return { localDefaultAddressSpace: 'null', globalDefaultAddressSpace: 'null' };
  }

  async requestPool(request: PoolRequest): Promise<PoolResponse> {
    const pool = request.v6 ? '::/0' : '0.0.0.0/0';
    return { poolId: `null/${pool}`, pool, meta: {} };
  }

  async releasePool(): Promise<void> {}

  async requestAddress(): Promise<string | undefined> {
    return undefined;
  }

  async releaseAddress(): Promise<void> {}
}
