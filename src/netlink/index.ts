// netctl's rtnetlink library: usable on its own, the way vishvananda/netlink is in Go.
//
// One NetlinkHandle per network namespace; one method per kernel operation. Requests made in the
// same tick go to the kernel in one datagram, in order, and settle one by one.
//
// Atomicity: every create/change is one request, so the kernel applies it whole or not at all —
// a veth pair with both ends (the peer possibly in another namespace), a link with its MTU, MAC,
// master and up state, an address with its broadcast and label. What takes two requests is a
// reference by name (resolved to an index first, so a concurrent rename in between is seen as
// "not found"), and nothing else. Validation errors (InvalidArgumentError) are thrown before any
// request is sent; kernel refusals are NetlinkError with the errno name and the kernel's text.
//
// Deletes: linkDel resolves once the kernel has unregistered the device (it reports so through
// NLM_F_ECHO); the kernel's RCU wait that follows runs on a libuv pool thread. Processes that
// delete many links at once should raise UV_THREADPOOL_SIZE (before the pool's first use): a
// delete holds a pool thread for ~15 ms, and netctl leaves at least one thread to the rest.
export { NetlinkHandle, type Family, type HandleOptions } from './handle';
export type { Link, LinkKind, LinkRef, NamespaceRef, LinkSpec, VethSpec, BridgeSpec, VxlanSpec, MacvlanSpec, VlanSpec, DummySpec, MacvlanMode, AddrGenMode, BridgePortSettings } from './link';
export { LINK_KINDS } from './link';
export type { Address, AddressSpec, Scope } from './address';
export type { Route, RouteSpec, Protocol } from './route';
export type { Neighbour, NeighbourSpec, NeighbourState } from './neighbour';
export type { FdbEntry, FdbSpec } from './fdb';
export { NetlinkError, InvalidArgumentError, LinkNotFoundError } from './errors';
