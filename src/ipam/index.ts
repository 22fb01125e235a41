// IP address management with the semantics of libnetwork's default IPAM.
export {
  Ipam,
  LOCAL_SPACE,
  GLOBAL_SPACE,
  REQUEST_ADDRESS_TYPE,
  GATEWAY_ADDRESS_TYPE,
  AUX_ADDRESS_NAME,
  EXCLUSIVE_POOL_OPTION,
  MAC_ADDRESS_OPTION,
  SERIAL_ALLOCATION_OPTION,
  poolIdOf,
  type AddressSpace,
  type PoolRequest,
  type PoolResponse,
  type IpamRequestOptions,
  type IpamOptions,
} from './ipam';
export type { AddressRole } from './allocator';
export { isEmptyPool, NullIpam, type IpamCapabilities, type IpamDriver, type IpamInventory, type IpamSpares } from './driver';
export { LOCAL_DEFAULT_POOLS, GLOBAL_DEFAULT_POOLS, parseDefaultAddressPool, parseDefaultAddressPools, candidatePools, type PoolTemplate } from './defaults';
export * from './errors';
export { cidrArgument } from './input';
export { VniAllocator, VniInUseError, FIRST_DYNAMIC_VNI, MAX_VNI } from './vni';
