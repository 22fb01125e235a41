// netctl's rtnetlink library: usable on its own, the way vishvananda/netlink is in Go.
export { NetlinkHandle, type Family, type HandleOptions } from './handle';
export type { Link, LinkKind, LinkRef, LinkSpec, VethSpec, BridgeSpec, VxlanSpec, MacvlanSpec, VlanSpec, DummySpec, MacvlanMode } from './link';
export { LINK_KINDS } from './link';
export type { Address, AddressSpec, Scope } from './address';
export type { Route, RouteSpec, Protocol } from './route';
export type { Neighbour, NeighbourSpec, NeighbourState, FdbEntry, FdbSpec } from './neighbour';
export { NetlinkError, InvalidArgumentError, LinkNotFoundError } from './errors';
