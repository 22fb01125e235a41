// What marks the kernel objects one controller owns, so that a restart removes its own leftovers
// and never another controller's objects: the daemon's marks, or an embedding engine's own when
// both run on one host.
import type { Link } from '../netlink';

export interface Ownership {
  /** IFLA_GROUP of every link the controller creates: set in the create request itself, so no crash leaves one unmarked. */
  linkGroup: number;
  /** IFA_PROTO of the gateway addresses it adds to bridges it did not make (an admin's). */
  addressProtocol: number;
  /** Prefix of its iptables chains. */
  chainPrefix: string;
  /** It also owns what earlier versions of the daemon marked by alias alone. */
  legacyMarks: boolean;
}

/** The daemon's marks: group "nctl" in ASCII (`ip -d link` shows 1852011628), address protocol 110, chains NETCTL-*. */
export const DAEMON_OWNERSHIP: Ownership = { linkGroup: 0x6e63746c, addressProtocol: 110, chainPrefix: 'NETCTL-', legacyMarks: true };

/**
 * The marks of another controller (an embedding engine), from the number it keeps in its store:
 * group "nc" and the number, an address protocol of 128 and up, chains NC<number>-*.
 */
export function ownershipOf(identity: number): Ownership {
  let tag = identity & 0xffff;
  if ((0x6e630000 | tag) === DAEMON_OWNERSHIP.linkGroup) tag ^= 1;
  return { linkGroup: 0x6e630000 | tag, addressProtocol: 128 + (tag % 128), chainPrefix: `NC${tag.toString(16).padStart(4, '0')}-`, legacyMarks: false };
}

export const madeBy = (link: Link, ownership: Ownership): boolean => link.group === ownership.linkGroup;

/** The upper half every controller's link group shares ("nc"): a link of some netctl controller. */
export const NETCTL_GROUP_FAMILY = 0x6e63;

/**
 * A link earlier versions of the daemon marked by its alias alone: the daemon's, unless a
 * controller's group marks it (every controller still sets those aliases on what it makes).
 */
export const legacyMarked = (link: Link, ownership: Ownership, matches: (alias: string) => boolean): boolean =>
  ownership.legacyMarks && link.group >>> 16 !== NETCTL_GROUP_FAMILY && link.alias !== undefined && matches(link.alias);
