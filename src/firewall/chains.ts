// netctl's chain names. Shared chains are hooked once from the built-in chains; every network
// has chains of its own, reached by one jump line, so a network's change never rewrites another's.

/** Jumped first from FORWARD and never written by netctl: the administrator's policy. */
export const USER = 'NETCTL-USER';
/** Jumped from FORWARD after USER: isolation first, then one jump per network. */
export const FORWARD = 'NETCTL-FORWARD';
/** Stage 1 matches traffic leaving a netctl bridge for another interface; stage 2 drops it if that interface is another netctl bridge. */
export const ISOLATION_1 = 'NETCTL-ISOLATION-1';
export const ISOLATION_2 = 'NETCTL-ISOLATION-2';
/** nat: published ports, reached for local destinations from PREROUTING and OUTPUT. */
export const DNAT = 'NETCTL-DNAT';
/** nat: masquerading, reached from POSTROUTING. */
export const POSTROUTING = 'NETCTL-POSTROUTING';

/** A network's own chains; chain names are at most 28 characters, so the ID is cut to 12. */
export const networkChains = (networkId: string): { filter: string; dnat: string; masquerade: string } => {
  const id = networkId.slice(0, 12);
  return { filter: `NETCTL-N-${id}`, dnat: `NETCTL-D-${id}`, masquerade: `NETCTL-M-${id}` };
};

/** Every chain name netctl owns starts with this. */
export const PREFIX = 'NETCTL-';
