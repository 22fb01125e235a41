// netctl's library entry: what an engine embeds without the daemon. The netlink layer is also
// its own entry, `netctl/netlink`.
export * from './netlink';
export { createNamespace, deleteNamespace, sameNamespace, socketInNamespace, NamespaceError, type SocketKind } from './native/netns';
export * from './store';
export * from './ipam';
