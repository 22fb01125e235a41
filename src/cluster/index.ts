// The cluster control plane's public surface: membership over a pluggable transport, with
// optional encryption, and the network-scoped tables built on it (see the README).
export { systemClock, type Clock, type TimerHandle } from './clock';
export { seededRandom } from './random';
export { VirtualClock } from './virtual-clock';
export { TransportError, type Transport, type PacketHandler, type StreamHandler } from './transport';
export { MemoryNetwork, MemoryTransport, type LinkConditions } from './memory-transport';
export { UdpTransport, type UdpTransportOptions } from './udp-transport';
export { CodecError, decode, encode, type Message, type MemberState, type DecodeResult } from './codec';
export { Keyring, KeyringError, KEY_BYTES } from './keyring';
export { DropCounters, type DropReason } from './crypto';
export { Membership, JoinError, type MembershipOptions, type MemberInfo, type NodeEvent, type NodeEventType } from './membership';
export { NetworkTables, TableError, type NetworkTablesOptions, type TableErrorCode, type TableWatchEvent, type ClusterNodeEvent, type TableEntryView } from './network-tables';
export { decodeTableMessage, encodeTableMessage, MAX_VALUE_BYTES, type TableMessage, type NetworkEvent, type EntryEvent } from './table-codec';
export { ClusterAgent, ClusterKeyError, type ClusterAgentOptions, type ClusterEventSink, type ClusterInfo, type ClusterKeyErrorCode, type MemberView } from './agent';
export { Discovery, NodeNameTakenError, NODES_PREFIX, type DiscoveryStore } from './discovery';
export { ClusterConfigError, DEFAULT_GOSSIP_PORT, keyId, parseClusterStore, parseGossipKey, type ClusterStoreSpec } from './config';
