// How netctl marks the links it creates, so a restart can tell them from everyone else's.
import type { Link } from '../netlink';

/**
 * IFLA_GROUP of every link netctl creates ("nctl" in ASCII). The kernel takes it in the create
 * request itself (an alias needs a second one), so a crash never leaves a link of netctl's
 * unmarked, and a restart can remove those that belong to no record.
 */
export const NETCTL_LINK_GROUP = 0x6e63746c;

export const madeByNetctl = (link: Link): boolean => link.group === NETCTL_LINK_GROUP;
