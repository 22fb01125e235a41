// The CNM core.
export { Controller, type ControllerDeps, type CreateNetworkRequest } from './controller';
export type { NetworkRecord, IpamConfig, PoolAllocation } from './network-record';
export * from './errors';
