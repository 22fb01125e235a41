// Docker's IpamDriver calls onto netctl's IPAM contract (`docker network create --ipam-driver
// NAME`): pools and addresses from netctl's allocator, kept in its store.
import type { IpamDriver } from '../../ipam';
import type { PluginCall } from './server';
import { objectBody, optionalBoolean, optionalString, PluginInputError, requiredString, stringMap } from './fields';

export interface PluginIpamDeps {
  ipam: IpamDriver;
  /** Prefixes a dynamic pool must avoid: this host's routes, read when a pool is chosen. */
  hostRoutes(): Promise<string[]>;
}

export function ipamCalls({ ipam, hostRoutes }: PluginIpamDeps): Record<string, PluginCall> {
  return {
    GetCapabilities: async () => ({ RequiresMACAddress: ipam.capabilities.requiresMacAddress, RequiresRequestReplay: ipam.capabilities.requiresRequestReplay }),
    GetDefaultAddressSpaces: async () => {
      const spaces = await ipam.getDefaultAddressSpaces();
      return { LocalDefaultAddressSpace: spaces.localDefaultAddressSpace, GlobalDefaultAddressSpace: spaces.globalDefaultAddressSpace };
    },
    RequestPool: async (body) => {
      const call = 'RequestPool';
      const fields = objectBody(call, body);
      const addressSpace = requiredString(call, fields, 'AddressSpace');
      const pool = optionalString(call, fields, 'Pool');
      const subPool = optionalString(call, fields, 'SubPool');
      const options = stringMap(call, fields, 'Options');
      const v6 = optionalBoolean(call, fields, 'V6');
      if (subPool && !pool) throw new PluginInputError(`${call}: SubPool ${subPool} needs the Pool it is part of`);
      const response = await ipam.requestPool({ addressSpace, ...(pool ? { pool } : {}), ...(subPool ? { subPool } : {}), options, v6, exclude: pool ? [] : await hostRoutes() });
      return { PoolID: response.poolId, Pool: response.pool, Data: response.meta };
    },
    ReleasePool: async (body) => {
      await ipam.releasePool(requiredString('ReleasePool', objectBody('ReleasePool', body), 'PoolID'));
      return {};
    },
    RequestAddress: async (body) => {
      const call = 'RequestAddress';
      const fields = objectBody(call, body);
      const poolId = requiredString(call, fields, 'PoolID');
      const address = await ipam.requestAddress(poolId, optionalString(call, fields, 'Address'), stringMap(call, fields, 'Options'));
      if (address === undefined) throw new PluginInputError(`${call}: pool ${poolId} hands out no addresses`);
      return { Address: address, Data: {} };
    },
    ReleaseAddress: async (body) => {
      const call = 'ReleaseAddress';
      const fields = objectBody(call, body);
      await ipam.releaseAddress(requiredString(call, fields, 'PoolID'), requiredString(call, fields, 'Address'));
      return {};
    },
  };
}
