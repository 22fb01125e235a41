// An IPAM driver reached over Docker's plugin protocol (libnetwork's ipams/remote): each call of
// the IPAM contract is one IpamDriver.* call. Its errors in a 200 answer come in "Error".
import { PluginError } from '../drivers/remote/client';
import { decodeAddress, decodeAddressSpaces, decodeIpamCapabilities, decodePool } from '../drivers/remote/codec';
import type { Plugin } from '../drivers/remote/plugin';
import { addressOf, parsePrefix, prefixesOverlap } from '../ip/address';
import type { IpamCapabilities, IpamDriver } from './driver';
import type { IpamRequestOptions, PoolRequest, PoolResponse } from './ipam';

const ignore = (): void => {};
/** Docker sends addresses without a prefix length. */
const plain = (ip: string): string => (ip.includes('/') ? addressOf(ip) : ip);

/** How many pools overlapping the host's routes a dynamic request gives back before it gives up. */
const MAX_OVERLAPPING_POOLS = 32;

export class RemoteIpam implements IpamDriver {
  private constructor(
    private readonly plugin: Plugin,
    readonly capabilities: IpamCapabilities,
  ) {}

  get name(): string {
    return this.plugin.name;
  }

  /** Registration, as Docker's: a plugin that cannot tell its capabilities has none. */
  static async create(plugin: Plugin): Promise<RemoteIpam> {
    const capabilities = await plugin
      .call('IpamDriver.GetCapabilities', undefined, decodeIpamCapabilities, 'Error')
      .catch(() => ({ requiresMacAddress: false, requiresRequestReplay: false }));
    return new RemoteIpam(plugin, capabilities);
  }

  getDefaultAddressSpaces(): Promise<{ localDefaultAddressSpace: string; globalDefaultAddressSpace: string }> {
    return this.plugin.call('IpamDriver.GetDefaultAddressSpaces', undefined, decodeAddressSpaces, 'Error');
  }

  /**
   * RequestPool; a dynamic pool that overlaps what the request excludes (the host's routes) is
   * asked again while the overlapping ones are held, then those are released, as Docker does.
   */
  async requestPool(request: PoolRequest): Promise<PoolResponse> {
    const body = {
      AddressSpace: request.addressSpace,
      Pool: request.pool ?? '',
      SubPool: request.subPool ?? '',
      Options: { ...(request.options ?? {}) },
      V6: request.v6 === true,
    };
    const { globalDefaultAddressSpace } = await this.getDefaultAddressSpaces();
    const excluded = (request.exclude ?? []).flatMap((cidr) => {
      try {
        return [parsePrefix(cidr, true)];
      } catch {
        return [];
      }
    });
    const held: string[] = [];
    try {
      for (;;) {
        const answer = await this.plugin.call('IpamDriver.RequestPool', body, decodePool, 'Error');
        const dynamic = !request.pool && request.addressSpace !== globalDefaultAddressSpace && answer.pool !== '0.0.0.0/0';
        const pool = parsePrefix(answer.pool, true);
        if (!dynamic || !excluded.some((prefix) => prefixesOverlap(prefix, pool))) return answer;
        held.push(answer.poolId);
        if (held.length >= MAX_OVERLAPPING_POOLS) {
          throw new PluginError(`plugin "${this.name}" gave ${held.length} pools that all overlap the host's routes (the last ${answer.pool}); give a --subnet`, this.name, 'IpamDriver.RequestPool');
        }
      }
    } finally {
      for (const poolId of held) await this.releasePool(poolId).catch(ignore);
    }
  }

  async releasePool(poolId: string): Promise<void> {
    await this.plugin.call('IpamDriver.ReleasePool', { PoolID: poolId }, ignore, 'Error');
  }

  requestAddress(poolId: string, ip?: string, options: IpamRequestOptions = {}): Promise<string> {
    return this.plugin.call('IpamDriver.RequestAddress', { PoolID: poolId, Address: ip ? plain(ip) : '', Options: { ...options } }, decodeAddress, 'Error');
  }

  async releaseAddress(poolId: string, ip: string): Promise<void> {
    await this.plugin.call('IpamDriver.ReleaseAddress', { PoolID: poolId, Address: plain(ip) }, ignore, 'Error');
  }
}
