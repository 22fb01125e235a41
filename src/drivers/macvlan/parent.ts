// The parent interface of a macvlan network: the admin's own interface; a VLAN sub-interface
// netctl makes on it for `-o parent=IFACE.VID`; or, for a network with no way out (no parent, or
// --internal), a link of netctl's own. What netctl made is in the controller's link group from
// creation (and carries an alias), so it is removed with the last network using it and never
// otherwise.
import type { Link, NetlinkHandle } from '../../netlink';
import { InvalidOptionError, MissingKernelFeatureError, type NetworkSpec } from '../driver';
import { DAEMON_OWNERSHIP, madeBy, legacyMarked, type Ownership } from '../../kernel/ownership';
import { findLink, unlessGone } from '../links';
import { crashPoint } from '../../util/crash-point';
import type { MacvlanOptions } from './options';

/** The alias of links netctl made to be macvlan parents. */
export const OWNED_PARENT_ALIAS = 'netctl-macvlan-parent';

/**
 * A parent the controller made: its link group on a kind only parents have, VLAN, or the names of
 * its own parents (a dummy, or a veth pair); for the daemon also the alias earlier versions set.
 */
export const isOwnedParent = (link: Link, ownership: Ownership = DAEMON_OWNERSHIP): boolean =>
  (madeBy(link, ownership) && (link.kind === 'vlan' || /^d[mp]-[0-9a-f]{12}$/.test(link.name))) || legacyMarked(link, ownership, (alias) => alias === OWNED_PARENT_ALIAS);

export type ParentPlan =
  /** `badVlan`: what is wrong with the name read as IFACE.VID, should no interface have it. */
  | { kind: 'host'; name: string; badVlan?: string }
  | { kind: 'vlan'; name: string; base: string; vlanId: number }
  /** Docker names its dummy parent dm-<network ID prefix>; the veth fallback's other end is dp-<same>. */
  | { kind: 'own'; name: string; peer: string };

export function planParent(spec: NetworkSpec, options: MacvlanOptions): ParentPlan {
  // As Docker: --internal and no parent are the same thing, a segment of the host's own.
  if (spec.internal || !options.parent) return { kind: 'own', name: `dm-${spec.id.slice(0, 12)}`, peer: `dp-${spec.id.slice(0, 12)}` };
  const { name, vlan, badVlan } = options.parent;
  if (vlan) return { kind: 'vlan', name, base: vlan.base, vlanId: vlan.id };
  return { kind: 'host', name, ...(badVlan ? { badVlan } : {}) };
}

/**
 * Makes sure the plan's parent exists and can carry macvlan interfaces, creating a VLAN
 * sub-interface or an own parent as needed. Resolves with the parent and whether it was made
 * now; on failure nothing it made is left.
 */
export async function ensureParent(netlink: NetlinkHandle, plan: ParentPlan, ownership: Ownership = DAEMON_OWNERSHIP): Promise<{ parent: Link; created: boolean }> {
  const existing = await findLink(netlink, plan.name);
  if (existing) {
    if (!isOwnedParent(existing, ownership)) await checkUsable(netlink, existing);
    return { parent: existing, created: false };
  }
  switch (plan.kind) {
    case 'host':
      throw new InvalidOptionError(plan.badVlan ?? `parent interface "${plan.name}" not found: name an existing interface of the host (see "ip link")`);
    case 'vlan': {
      const base = await findLink(netlink, plan.base);
      if (!base) throw new InvalidOptionError(`parent interface "${plan.base}" of VLAN sub-interface "${plan.name}" not found: name an existing interface of the host (see "ip link")`);
      await checkUsable(netlink, base);
      return { parent: await owned(netlink, plan.name, () => createVlan(netlink, plan, ownership.linkGroup)), created: true };
    }
    case 'own':
      return { parent: await owned(netlink, plan.name, () => createOwn(netlink, plan, ownership.linkGroup)), created: true };
  }
}

/** Removes a parent netctl made; the admin's interfaces are never touched. */
export async function removeOwnedParent(netlink: NetlinkHandle, name: string, ownership: Ownership = DAEMON_OWNERSHIP): Promise<void> {
  const link = await findLink(netlink, name);
  if (!link || !isOwnedParent(link, ownership)) return;
  await netlink.linkDel(link.index).catch(unlessGone);
}

async function checkUsable(netlink: NetlinkHandle, link: Link): Promise<void> {
  if (link.name === 'lo' || link.mac === undefined) throw new InvalidOptionError(`parent interface "${link.name}" is not an Ethernet interface: macvlan interfaces need one`);
  if (link.masterIndex !== undefined) {
    const master = await netlink.linkGet(link.masterIndex).then((m) => `"${m.name}"`, () => `#${link.masterIndex}`);
    throw new InvalidOptionError(`parent interface "${link.name}" is enslaved to ${master}: a port of a bridge or bond cannot carry macvlan interfaces; use ${master} as the parent instead`);
  }
  if (!link.up) throw new InvalidOptionError(`parent interface "${link.name}" is down: bring it up ("ip link set ${link.name} up") and create the network again`);
}

/** Creates a link, then marks it as netctl's; a link that cannot be marked is removed again. */
async function owned(netlink: NetlinkHandle, name: string, create: () => Promise<Link>): Promise<Link> {
  const link = await create();
  crashPoint('macvlan-create:parent-made');
  try {
    await netlink.linkSetAlias(link.index, OWNED_PARENT_ALIAS);
    return link;
  } catch (error) {
    await netlink.linkDel(name).catch(() => undefined);
    throw error;
  }
}

/** The kernel has no such link type (or no such option of it). */
export const unsupported = (error: unknown): boolean => (error as { code?: string }).code === 'EOPNOTSUPP';

async function createVlan(netlink: NetlinkHandle, plan: Extract<ParentPlan, { kind: 'vlan' }>, group: number): Promise<Link> {
  try {
    return await netlink.linkAdd({ kind: 'vlan', name: plan.name, parent: plan.base, vlanId: plan.vlanId, up: true, group });
  } catch (error) {
    // No link has the name (looked up before): the kernel has this VLAN on the base already, under
    // another name (eth0.10 for eth0.010, or an admin's vlan10).
    if ((error as { code?: string }).code === 'EEXIST') {
      const base = await netlink.linkGet(plan.base);
      const twin = (await netlink.linkList()).find((l) => l.kind === 'vlan' && l.parentIndex === base.index && l.vlan?.vlanId === plan.vlanId);
      throw new InvalidOptionError(
        `cannot create VLAN sub-interface "${plan.name}": VLAN ${plan.vlanId} on "${plan.base}" exists already${twin ? ` as "${twin.name}"` : ''} (the kernel allows one interface per VLAN ID); use ${twin ? `-o parent=${twin.name}` : 'that interface as the parent'}`,
      );
    }
    if (!unsupported(error)) throw error;
    throw new MissingKernelFeatureError(
      '802.1q VLAN',
      `cannot create VLAN sub-interface "${plan.name}": the kernel has no 802.1q VLAN support (CONFIG_VLAN_8021Q, module 8021q); load it ("modprobe 8021q") or use a parent without a VLAN ID`,
    );
  }
}

/**
 * A dummy link, as Docker uses; kernels built without the dummy driver get one end of a veth
 * pair instead (both ends up, so the macvlan interfaces on it have carrier).
 */
async function createOwn(netlink: NetlinkHandle, plan: Extract<ParentPlan, { kind: 'own' }>, group: number): Promise<Link> {
  try {
    return await netlink.linkAdd({ kind: 'dummy', name: plan.name, up: true, group });
  } catch (error) {
    if (!unsupported(error)) throw error;
  }
  const link = await netlink.linkAdd({ kind: 'veth', name: plan.name, up: true, group, peer: { name: plan.peer, group } });
  try {
    await netlink.linkSetUp(plan.peer);
    return link;
  } catch (error) {
    await netlink.linkDel(plan.name).catch(() => undefined);
    throw error;
  }
}
