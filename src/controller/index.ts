// The CNM core.
export { Controller, type ControllerDeps, type CreateNetworkRequest, type NetworkChange, type PluginSource } from './controller';
export type { ConnectRequest, SandboxOptions } from './attachments';
export type { NetworkPeer, TablePublisher, StoredTableEntry } from './tables';
export type { ExternalKey } from './external-key';
export type { NetworkRecord, IpamConfig, PoolAllocation } from './network-record';
export { shownScope } from './network-record';
export type { EndpointRecord, EndpointAddress, SandboxRecord } from './endpoint-record';
export * from './errors';
export { controllerIdentity } from './identity';
