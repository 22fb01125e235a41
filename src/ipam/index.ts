// IP address management with the semantics of libnetwork's default IPAM.
export { Ipam, LOCAL_SPACE, GLOBAL_SPACE, type AddressSpace, type PoolRequest, type PoolResponse, type AddressOptions, type IpamOptions } from './ipam';
export type { AddressRole } from './pool';
export { LOCAL_DEFAULT_POOLS, GLOBAL_DEFAULT_POOLS, parseDefaultAddressPool, type PoolTemplate } from './defaults';
export * from './errors';
