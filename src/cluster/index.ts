// The cluster control plane's public surface: membership over a pluggable transport, with
// optional encryption. Network-scoped tables build on this (see the README).
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
