// netctl's library entry: what an engine embeds without the daemon. The netlink layer is also
// its own entry, `netctl/netlink`.
export * from './netlink';
export { createNamespace, deleteNamespace, sameNamespace, namespaceInode, socketInNamespace, NamespaceError, type SocketKind } from './native/netns';
export * from './store';
export * from './ipam';
// The CNM core and the pieces it is built from, for engines that run it in their own process;
// createNetctl wires them with defaults. etcd's and SQLite's modules load with the first store
// that needs them.
export { createNetctl, DEFAULT_EMBEDDED_STORE, DEFAULT_EMBEDDED_RUN_DIR, type Netctl, type NetctlOptions } from './embed';
export type { Logger } from './util/logger';
export * from './controller';
export type {
  Driver,
  Capability,
  NetworkSpec,
  NetworkContext,
  EndpointSpec,
  EndpointProposal,
  JoinTarget,
  JoinInfo,
  JoinInterface,
  StaticRoute,
  TableEntry,
  TableEvent,
  PublishedNames,
  NodeEvent,
  IpamData,
  PortMapping,
  RestoreResult,
} from './drivers/driver';
export { InvalidOptionError, PortConflictError } from './drivers/driver';
export { BridgeDriver, type BridgeDriverDeps } from './drivers/bridge/bridge-driver';
export { MacvlanDriver, type MacvlanDriverDeps } from './drivers/macvlan/macvlan-driver';
export { NullDriver } from './drivers/null/null-driver';
export { HostDriver } from './drivers/host/host-driver';
export { Firewall, FirewallError, InvalidChainPrefixError, InvalidRuleError, type FirewallOptions, type NetworkRules, type PublishedPort } from './firewall';
export { Sandbox } from './sandbox';
export { DAEMON_OWNERSHIP, ownershipOf, type Ownership } from './kernel/ownership';
export { NameTable, DnsServer, Forwarder, upstreamsOf, DNS_ADDRESS, type NamedEndpoint, type SandboxScope, type Upstream } from './dns';
